// Lab plugins through /api/v1/plugin/ over real HTTP: the example plugin (examples/lab-plugin-example) is
// installed, its model appears in the registry, trains a run and predicts, then is disabled and uninstalled
// without a restart; a plugin that throws at load is reported and the server stays up.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { call, clients, enqueueForm, uploadDataset, waitForJob } from "./helpers.js";

const EXAMPLE = join(import.meta.dirname, "../../examples/lab-plugin-example");
const THROWS = join(import.meta.dirname, "../fixtures/lab/plugins/throws");
const MODEL = "NearestCentroidClassifier";
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
    expect(installed.body).toMatchObject({ status: 2, enabled: true, error: null, components: [MODEL] });
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
    expect(enabled.body).toMatchObject({ status: 2, components: [MODEL] });
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
    expect(installed.body).toMatchObject({ status: 2, components: [MODEL] });
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
