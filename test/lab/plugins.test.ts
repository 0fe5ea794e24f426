// Lab plugins through /api/v1/plugin/ over real HTTP: the example plugin (examples/lab-plugin-example) is
// installed, its model appears in the registry, trains a run and predicts, then is disabled and uninstalled
// without a restart; its explorer and converter work through /api/v1/explorer/ and /api/v1/converter/ on a
// notebook and leave with it; a plugin that throws at load (or exports a broken component) is reported and
// the server stays up.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { call, clients, enqueueForm, uploadDataset, waitForJob } from "./helpers.js";

const EXAMPLE = join(import.meta.dirname, "../../examples/lab-plugin-example");
const THROWS = join(import.meta.dirname, "../fixtures/lab/plugins/throws");
const MODEL = "NearestCentroidClassifier";
const EXPLORER = "MissingValuesPlot";
const CONVERTER = "Log1pTransformer";
const ALL = [MODEL, EXPLORER, CONVERTER];
let t: TestServer;
let session: { id: number };

beforeAll(async () => {
  t = await startTestServer();
  const iris = await uploadDataset(t, "iris", {
    name: "iris.csv",
    content: readFileSync(join(import.meta.dirname, "../fixtures/lab/iris.csv")),
  });
  const created = await clients(t).dash.post("/api/v1/model-session/", {
    dataset_id: iris.id,
    task_name: "TabularClassificationTask",
    name: "iris plugins",
    input_columns: ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"],
    output_columns: ["species"],
  });
  expect(created.status, created.text).toBe(201);
  session = created.body;
}, 120_000);

afterAll(async () => {
  await t?.close();
});

const modelNames = async () =>
  ((await clients(t).dash.get("/api/v1/component/?select_types=Model")).body as { name: string }[]).map(
    (c) => c.name,
  );

describe("plugins", () => {
  it("refuses anonymous calls (401)", async () => {
    expect((await call(t, "/api/v1/plugin/")).status).toBe(401);
    const install = await call(t, "/api/v1/plugin/", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ source: EXAMPLE }),
    });
    expect(install.status).toBe(401);
    expect((await call(t, "/api/v1/plugin/1", { method: "DELETE" })).status).toBe(401);
  });

  it("install → in the registry → trains a run → disable → enable → uninstall, without a restart", async () => {
    const { dash } = clients(t);
    const listed = await dash.get("/api/v1/plugin/");
    expect(listed.body).toContainEqual(
      expect.objectContaining({ name: "hiveguard-lab-plugin-example", status: 0, id: null }),
    );
    expect(await modelNames()).not.toContain(MODEL);

    const installed = await dash.post("/api/v1/plugin/", { name: "hiveguard-lab-plugin-example" });
    expect(installed.status, installed.text).toBe(201);
    expect(installed.body).toMatchObject({ status: 2, enabled: true, error: null, components: ALL });
    const component = await call(t, `/api/v1/component/${MODEL}/`, {
      headers: { authorization: t.dashboardAuth, "accept-language": "es" },
    });
    expect(component.body).toMatchObject({ type: "Model", display_name: "Centroide más cercano (plugin)" });
    expect(component.body.schema.properties.sharpness).toMatchObject({ type: "number", default: 1 });
    expect((await dash.post("/api/v1/plugin/", { source: EXAMPLE })).status).toBe(409);

    const run = await dash.post("/api/v1/run/", {
      model_session_id: session.id,
      model_name: MODEL,
      name: "centroids",
      parameters: { sharpness: 2 },
    });
    expect(run.status, run.text).toBe(201);
    const job = await enqueueForm(t, {
      job_type: "ModelJob",
      kwargs: JSON.stringify({ run_id: run.body.id }),
    });
    expect(job.status, job.text).toBe(201);
    const done = await waitForJob(t, job.body.id, 60_000);
    expect(done.status, JSON.stringify(done)).toBe("finished");
    const trained = await dash.get(`/api/v1/run/${run.body.id}`);
    expect(trained.body.status).toBe(3);
    // Nearest centroid separates iris well: the test accuracy says the model really learned.
    expect(trained.body.test_metrics.Accuracy).toBeGreaterThan(0.8);

    const disabled = await dash.patch(`/api/v1/plugin/${installed.body.id}`, { new_status: 1 });
    expect(disabled.body).toMatchObject({ status: 1, enabled: false, components: [] });
    expect(await modelNames()).not.toContain(MODEL);
    const refused = await dash.post("/api/v1/run/", {
      model_session_id: session.id,
      model_name: MODEL,
      name: "x",
    });
    expect(refused.status).toBe(422);
    const enabled = await dash.patch(`/api/v1/plugin/${installed.body.id}`, { enabled: true });
    expect(enabled.body).toMatchObject({ status: 2, components: ALL });
    expect(await modelNames()).toContain(MODEL);

    expect((await dash.del(`/api/v1/plugin/${installed.body.id}`)).status).toBe(204);
    expect(await modelNames()).not.toContain(MODEL);
    expect((await dash.get(`/api/v1/plugin/${installed.body.id}`)).status).toBe(404);
    expect((await dash.get(`/api/v1/component/${MODEL}/`)).status).toBe(404);
  }, 120_000);

  it("installs from an npm pack .tgz", async () => {
    const { dash } = clients(t);
    const out = mkdtempSync(join(tmpdir(), "lab-plugin-"));
    const file = execFileSync("npm", ["pack", EXAMPLE, "--pack-destination", out, "--silent"], {
      encoding: "utf8",
    }).trim();
    const installed = await dash.post("/api/v1/plugin/", { source: join(out, file) });
    expect(installed.status, installed.text).toBe(201);
    expect(installed.body).toMatchObject({ status: 2, components: ALL });
    expect(await modelNames()).toContain(MODEL);
    expect((await dash.del(`/api/v1/plugin/${installed.body.id}`)).status).toBe(204);
  });

  it("a plugin that throws at load is reported with its error; the server keeps answering", async () => {
    const { dash } = clients(t);
    const installed = await dash.post("/api/v1/plugin/", { source: THROWS });
    expect(installed.status, installed.text).toBe(201);
    expect(installed.body).toMatchObject({ status: 99, components: [] });
    expect(installed.body.error).toContain("boom at load");
    expect((await dash.get("/api/v1/plugin/")).body).toContainEqual(
      expect.objectContaining({ name: "lab-plugin-that-throws", status: 99 }),
    );
    expect((await dash.get("/api/v1/component/")).status).toBe(200);
    expect((await dash.del(`/api/v1/plugin/${installed.body.id}`)).status).toBe(204);
  });

  it("the example's explorer and converter: in the registry, work through their routes, leave on uninstall", async () => {
    const { dash } = clients(t);
    const dataset = await uploadDataset(t, "gaps", {
      name: "gaps.csv",
      content: "a,b,label\n1,,x\n3,4,\n,8,x\n7,15,y\n",
    });
    const notebook = await dash.post("/api/v1/notebook/", { dataset_id: dataset.id, name: "gaps" });
    expect(notebook.status, notebook.text).toBe(201);
    const names = async (type: string) =>
      ((await dash.get(`/api/v1/component/?select_types=${type}`)).body as { name: string }[]).map(
        (c) => c.name,
      );
    const explore = (parameters: Record<string, unknown>) =>
      dash.post("/api/v1/explorer/", {
        notebook_id: notebook.body.id,
        exploration_type: EXPLORER,
        columns: ["a", "b", "label"],
        parameters,
      });
    const convert = (columns: string[]) =>
      dash.post("/api/v1/converter/", {
        notebook_id: notebook.body.id,
        converter: CONVERTER,
        parameters: {},
        scope: { columns },
      });
    expect(await names("Explorer")).not.toContain(EXPLORER);
    expect((await explore({})).status).toBe(422);

    const installed = await dash.post("/api/v1/plugin/", { name: "hiveguard-lab-plugin-example" });
    expect(installed.status, installed.text).toBe(201);
    expect(await names("Explorer")).toContain(EXPLORER);
    expect(await names("Converter")).toContain(CONVERTER);
    const spanish = await call(t, `/api/v1/component/${EXPLORER}/`, {
      headers: { authorization: t.dashboardAuth, "accept-language": "es" },
    });
    expect(spanish.body).toMatchObject({ type: "Explorer", display_name: "Valores faltantes (plugin)" });
    expect(spanish.body.schema.properties.percent).toMatchObject({ type: "boolean", default: false });

    // The explorer through its route: a job, then Plotly JSON with one bar per column.
    for (const [parameters, expected] of [
      [{}, [1, 1, 1]],
      [{ percent: true }, [25, 25, 25]],
    ] as const) {
      const explorer = await explore(parameters);
      expect(explorer.status, explorer.text).toBe(201);
      expect((await waitForJob(t, explorer.body.job_id)).status).toBe("finished");
      const figures = await dash.post(`/api/v1/explorer/${explorer.body.id}/results/`, { options: {} });
      expect(figures.status, figures.text).toBe(200);
      expect(figures.body[0].data[0]).toMatchObject({ type: "bar", x: ["a", "b", "label"], y: expected });
    }
    const badParam = await explore({ percent: "yes" });
    expect(badParam.status).toBe(422);
    expect(badParam.text).toContain("percent");

    // The converter through its route: a step applied by a job, the notebook's data changed.
    const wrongType = await convert(["label"]);
    expect(wrongType.status).toBe(422);
    expect(wrongType.body.detail).toContain('column "label" of type categorical');
    const converted = await convert(["b"]);
    expect(converted.status, converted.text).toBe(201);
    expect((await waitForJob(t, converted.body.job_id)).status).toBe("finished");
    const step = await dash.get(`/api/v1/converter/${converted.body.id}`);
    expect(step.body.status).toBe(3);
    const rows = (await dash.get(`/api/v1/notebook/${notebook.body.id}/data?page_size=100`)).body.rows;
    const b = rows.map((row: Record<string, number | null>) => row.b);
    expect(b[0]).toBeNull();
    [4, 8, 15].forEach((x, i) => expect(b[i + 1]).toBeCloseTo(Math.log1p(x), 9));
    expect(rows.map((row: Record<string, number | null>) => row.a)).toEqual([1, 3, null, 7]);

    // Uninstalled: gone from the registry, refused by the routes (422 naming it), no restart.
    expect((await dash.del(`/api/v1/plugin/${installed.body.id}`)).status).toBe(204);
    expect(await names("Explorer")).not.toContain(EXPLORER);
    expect(await names("Converter")).not.toContain(CONVERTER);
    expect((await dash.get(`/api/v1/component/${CONVERTER}/`)).status).toBe(404);
    const gone = await explore({});
    expect(gone.status).toBe(422);
    expect(gone.text).toContain(EXPLORER);
    const goneConverter = await convert(["a"]);
    expect(goneConverter.status).toBe(422);
    expect(goneConverter.text).toContain(CONVERTER);
  });

  it("a plugin exporting a broken explorer or converter is reported, registers nothing", async () => {
    const { dash } = clients(t);
    const dir = mkdtempSync(join(tmpdir(), "lab-plugin-broken-"));
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "package.json"),
      JSON.stringify({ name: "lab-plugin-broken-explorer", version: "0.0.1", type: "module" }),
    );
    const text = { en: "x", es: "x" };
    const component = (extra: string) =>
      `{ type: "Explorer", name: "BrokenPlot", displayName: ${JSON.stringify(text)}, ` +
      `description: ${JSON.stringify(text)}, params: {}, accepts: "any", rows: "stats", ${extra} }`;
    writeFileSync(
      join(dir, "index.js"),
      `export default { components: [${component("minColumns: 1, maxColumns: 2")}] };`,
    );
    const installed = await dash.post("/api/v1/plugin/", { source: dir });
    expect(installed.status, installed.text).toBe(201);
    expect(installed.body).toMatchObject({ status: 99, components: [] });
    expect(installed.body.error).toContain("compute must be a function");
    expect((await dash.get("/api/v1/component/BrokenPlot/")).status).toBe(404);
    expect((await dash.del(`/api/v1/plugin/${installed.body.id}`)).status).toBe(204);
  });

  it("bad input: 422 naming the field, 404 unknown id", async () => {
    const { dash } = clients(t);
    const relative = await dash.post("/api/v1/plugin/", { source: "examples/lab-plugin-example" });
    expect(relative.status).toBe(422);
    expect(relative.text).toContain("source");
    expect((await dash.post("/api/v1/plugin/", { source: "/nonexistent/plugin" })).status).toBe(422);
    expect((await dash.post("/api/v1/plugin/", { name: "no-such-plugin" })).status).toBe(422);
    expect((await dash.post("/api/v1/plugin/", {})).status).toBe(422);
    expect((await dash.get("/api/v1/plugin/99999")).status).toBe(404);
    expect((await dash.del("/api/v1/plugin/99999")).status).toBe(404);
  });
});
