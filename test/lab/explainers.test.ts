// Explainers through the documented routes over real HTTP: every /api/v1/explainer path, ExplainerJob on
// the job form with progress and a real cancel, numbers against known answers on a noise-free linear data
// set (KernelSHAP adds up and equals w (x − mean_bg) differences; permutation importance ranks the used
// columns above the unused one; partial dependence has the model's slope), the same numbers through the
// run's ONNX model, and the 422s a user can fix.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRng } from "../../src/modules/lab/engine/random.js";
import { runningThreads } from "../../src/modules/lab/runs/thread.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { call, clients, enqueueForm, uploadDataset, waitForJob } from "./helpers.js";

let t: TestServer;
let linearRun: { id: number };
let untrainedRun: { id: number };
let trainDataset: { id: number };
let rowsDataset: { id: number };
let otherDataset: { id: number };
let session: { id: number };

const COLOR_EFFECT: Record<string, number> = { red: 2, green: 0, blue: -1 };
const W = { a: 3, b: -2 };

/** y = 3a − 2b + color effect + 5, exactly; `noise` is unused by the truth. */
function linearCsv(rows: number, seed: number): { csv: string; records: Record<string, number | string>[] } {
  const rng = createRng(seed);
  const records = Array.from({ length: rows }, () => {
    const a = +(rng.normal() * 2).toFixed(3);
    const b = +(rng.normal() + 1).toFixed(3);
    const noise = +rng.normal().toFixed(3);
    const color = ["red", "green", "blue"][rng.int(3)]!;
    return { a, b, color, noise, y: +(W.a * a + W.b * b + COLOR_EFFECT[color]! + 5).toFixed(6) };
  });
  const csv = ["a,b,color,noise,y", ...records.map((r) => `${r.a},${r.b},${r.color},${r.noise},${r.y}`)].join(
    "\n",
  );
  return { csv, records };
}

const explanation = linearCsv(8, 99);

async function createRun(name: string) {
  const res = await clients(t).dash.post("/api/v1/run/", {
    model_session_id: session.id,
    model_name: "LinearRegression",
    name,
    parameters: {},
  });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

async function runJob(kwargs: Record<string, unknown>, expected = "finished") {
  const job = await enqueueForm(t, { job_type: "ExplainerJob", kwargs: JSON.stringify(kwargs) });
  expect(job.status, job.text).toBe(201);
  const done = await waitForJob(t, job.body.id, 60_000);
  expect(done.status, JSON.stringify(done)).toBe(expected);
  return done;
}

async function explain(scope: "global" | "local", body: Record<string, unknown>) {
  const { dash } = clients(t);
  const created = await dash.post(`/api/v1/explainer/${scope}`, body);
  expect(created.status, created.text).toBe(201);
  expect(created.body.status).toBe(0);
  await runJob({ explainer_id: created.body.id, explainer_scope: scope });
  const got = await dash.get(`/api/v1/explainer/${scope}/${created.body.id}`);
  expect(got.status).toBe(200);
  expect(got.body.status).toBe(3);
  return got.body;
}

beforeAll(async () => {
  t = await startTestServer();
  const { dash } = clients(t);
  const train = await uploadDataset(t, "linear", { name: "linear.csv", content: linearCsv(150, 1).csv });
  trainDataset = train;
  rowsDataset = await uploadDataset(t, "rows", { name: "rows.csv", content: explanation.csv });
  otherDataset = await uploadDataset(t, "other", { name: "other.csv", content: "a,b,z\n1,2,3\n4,5,6\n" });
  const s = await dash.post("/api/v1/model-session/", {
    dataset_id: train.id,
    task_name: "RegressionTask",
    name: "linear truth",
    input_columns: ["a", "b", "color", "noise"],
    output_columns: ["y"],
    splits: JSON.stringify({ train: 0.6, validation: 0.2, test: 0.2, seed: 3 }),
  });
  expect(s.status, s.text).toBe(201);
  session = s.body;
  linearRun = await createRun("ols");
  const job = await enqueueForm(t, {
    job_type: "ModelJob",
    kwargs: JSON.stringify({ run_id: linearRun.id }),
  });
  expect(job.status, job.text).toBe(201);
  expect((await waitForJob(t, job.body.id, 60_000)).status).toBe("finished");
  untrainedRun = await createRun("never trained");
}, 120_000);

afterAll(async () => {
  await t?.close();
});

describe("explainer components", () => {
  it("lists the explainers with parameter schemas, in English and Spanish", async () => {
    const res = await call(t, "/api/v1/component/?select_types=GlobalExplainer&select_types=LocalExplainer", {
      headers: { authorization: t.dashboardAuth, "accept-language": "es" },
    });
    expect(res.status).toBe(200);
    const byName = Object.fromEntries(res.body.map((c: { name: string }) => [c.name, c]));
    expect(Object.keys(byName).sort()).toEqual([
      "KernelShap",
      "PartialDependence",
      "PermutationFeatureImportance",
    ]);
    expect(byName.PermutationFeatureImportance.type).toBe("GlobalExplainer");
    expect(byName.KernelShap.type).toBe("LocalExplainer");
    expect(byName.PermutationFeatureImportance.schema.properties.n_repeats).toMatchObject({
      default: 20,
      minimum: 1,
    });
    expect(byName.PermutationFeatureImportance.display_name).toBe(
      "Importancia de Características por Permutación",
    );
    expect(byName.KernelShap.schema.properties.n_background_samples.title).toBe("Muestras de fondo");
  });
});

describe("global explainers", () => {
  it("permutation importance ranks the used columns above the unused one, mean and std over n_repeats", async () => {
    const { dash } = clients(t);
    const got = await explain("global", {
      run_id: linearRun.id,
      explainer_name: "PermutationFeatureImportance",
      parameters: { n_repeats: 8, random_state: 1 },
    });
    expect(got).toMatchObject({
      scope: "global",
      run_id: linearRun.id,
      name: "PermutationFeatureImportance",
      parameters: { n_repeats: 8, random_state: 1, scoring: null, split: "test", max_samples: 1000 },
      plot_path: `/api/v1/explainer/global/plot/${got.id}`,
    });
    const e = got.explanation;
    expect(e.metric).toBe("R2");
    expect(e.baseline).toBeCloseTo(1, 6);
    expect(e.features).toEqual(["a", "b", "color", "noise"]);
    expect(e.rows).toBe(30); // the test split: 20% of 150
    const imp = Object.fromEntries(e.features.map((f: string, i: number) => [f, e.importances_mean[i]]));
    expect(imp.a).toBeGreaterThan(imp.b);
    expect(imp.b).toBeGreaterThan(0.1);
    expect(imp.color).toBeGreaterThan(0.01);
    expect(Math.abs(imp.noise)).toBeLessThan(1e-6);
    expect(e.importances[0]).toHaveLength(8);
    expect(e.importances_std[0]).toBeGreaterThan(0);

    const plot = await dash.get(`/api/v1/explainer/global/plot/${got.id}`);
    expect(plot.status).toBe(200);
    expect(plot.body).toHaveLength(1);
    expect(plot.body[0]).toMatchObject({
      type: "plotly",
      role: "explanation",
      title: "Permutation Feature Importance",
    });
    const figure = JSON.parse(plot.body[0].payload);
    expect(figure.data[0]).toMatchObject({ type: "bar", orientation: "h" });
    expect(figure.data[0].y.at(-1)).toBe("a"); // sorted ascending: the most important last (top)

    // The same explainer on the run's ONNX model (onnxruntime, float32): the same ranking and numbers.
    const onnx = await explain("global", {
      run_id: linearRun.id,
      explainer_name: "PermutationFeatureImportance",
      parameters: { n_repeats: 8, random_state: 1 },
      backend: "onnx",
    });
    expect(onnx.backend).toBe("onnx");
    for (let i = 0; i < 4; i++)
      expect(onnx.explanation.importances_mean[i]).toBeCloseTo(e.importances_mean[i], 3);
  });

  it("partial dependence of the linear model is a line with the model's slope; a category gets its effect", async () => {
    const got = await explain("global", {
      run_id: linearRun.id,
      explainer_name: "PartialDependence",
      parameters: { features: ["a", "color"], grid_resolution: 10, split: "train" },
    });
    const [a, color] = got.explanation.features;
    expect(a).toMatchObject({ feature: "a", kind: "numeric" });
    expect(a.grid).toHaveLength(10);
    for (let g = 1; g < 10; g++)
      expect((a.average[0][g] - a.average[0][g - 1]) / (a.grid[g] - a.grid[g - 1])).toBeCloseTo(W.a, 6);
    expect(color).toMatchObject({ feature: "color", kind: "categorical", grid: ["blue", "green", "red"] });
    expect(color.average[0][2] - color.average[0][1]).toBeCloseTo(2, 6); // red − green
    expect(color.average[0][0] - color.average[0][1]).toBeCloseTo(-1, 6); // blue − green
    const plot = await clients(t).dash.get(`/api/v1/explainer/global/plot/${got.id}`);
    expect(plot.body.map((p: { title: string }) => p.title)).toEqual([
      "Partial Dependence: a",
      "Partial Dependence: color",
    ]);
    expect(JSON.parse(plot.body[0].payload).data[0]).toMatchObject({ type: "scatter", mode: "lines" });
  });
});

describe("local explainers", () => {
  it("validate-dataset: valid with the run's columns, invalid naming what is missing", async () => {
    const { dash } = clients(t);
    const ok = await dash.post("/api/v1/explainer/local/validate-dataset", {
      run_id: linearRun.id,
      dataset_id: rowsDataset.id,
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ dataset_status: "valid" });
    const bad = await dash.post("/api/v1/explainer/local/validate-dataset", {
      run_id: linearRun.id,
      dataset_id: otherDataset.id,
    });
    expect(bad.body).toEqual({ dataset_status: "invalid", missing_columns: ["color", "noise", "y"] });
    expect(
      (
        await dash.post("/api/v1/explainer/local/validate-dataset", {
          run_id: linearRun.id,
          dataset_id: 9999,
        })
      ).status,
    ).toBe(404);
  });

  it("KernelSHAP values add up to prediction − base value and follow w (x − mean_bg) on the linear model", async () => {
    const { dash } = clients(t);
    const got = await explain("local", {
      run_id: linearRun.id,
      dataset_id: rowsDataset.id,
      explainer_name: "KernelShap",
      parameters: { n_samples: 500 },
      fit_parameters: { n_background_samples: 40, random_state: 2 },
      scope: { rows: [0, 3, 5] },
    });
    expect(got).toMatchObject({ scope: "local", dataset_id: rowsDataset.id, instances: { rows: [0, 3, 5] } });
    const e = got.explanation;
    expect(e).toMatchObject({
      features: ["a", "b", "color", "noise"],
      outputs: ["y"],
      exact: true,
      coalitions: 14,
    });
    expect(e.background_rows).toBe(40);
    for (const instance of e.instances) {
      const sum = instance.shap_values.reduce((s: number, v: number[]) => s + v[0]!, 0);
      expect(sum + e.base_value[0]).toBeCloseTo(instance.prediction[0], 6);
      const truth = explanation.records[instance.row]!;
      expect(instance.prediction[0]).toBeCloseTo(truth.y as number, 4);
      expect(Math.abs(instance.shap_values[3][0])).toBeLessThan(1e-6); // noise
    }
    // Linear: phi_a(x) − phi_a(x') = w_a (a − a'), whatever the background mean.
    const [r0, r1] = e.instances;
    const [x0, x1] = [explanation.records[r0.row]!, explanation.records[r1.row]!];
    expect(r0.shap_values[0][0] - r1.shap_values[0][0]).toBeCloseTo(
      W.a * ((x0.a as number) - (x1.a as number)),
      5,
    );
    expect(r0.shap_values[1][0] - r1.shap_values[1][0]).toBeCloseTo(
      W.b * ((x0.b as number) - (x1.b as number)),
      5,
    );

    const plot = await dash.get(`/api/v1/explainer/local/plot/${got.id}`);
    expect(plot.status).toBe(200);
    expect(plot.body).toHaveLength(4);
    expect(plot.body[0]).toMatchObject({
      type: "table",
      role: "input",
      payload: { columns: ["a", "b", "color", "noise"] },
    });
    expect(plot.body[0].payload.rows).toHaveLength(3);
    expect(plot.body[1].title).toMatch(/^Row 0: f\(x\) = /);

    // Through the run's ONNX model: additive as well, and the same values within float32 precision.
    const onnx = await explain("local", {
      run_id: linearRun.id,
      dataset_id: rowsDataset.id,
      explainer_name: "KernelShap",
      parameters: { n_samples: 500 },
      fit_parameters: { n_background_samples: 40, random_state: 2 },
      scope: { rows: [0, 3, 5] },
      backend: "onnx",
    });
    for (const [i, instance] of onnx.explanation.instances.entries()) {
      const sum = instance.shap_values.reduce((s: number, v: number[]) => s + v[0]!, 0);
      expect(sum + onnx.explanation.base_value[0]).toBeCloseTo(instance.prediction[0], 4);
      for (let j = 0; j < 4; j++)
        expect(instance.shap_values[j][0]).toBeCloseTo(e.instances[i].shap_values[j][0], 3);
    }
  });

  it("explains the dataset's first max_instances rows when no rows are chosen", async () => {
    const got = await explain("local", {
      run_id: linearRun.id,
      dataset_id: rowsDataset.id,
      explainer_name: "KernelShap",
      parameters: { max_instances: 2 },
      fit_parameters: {},
      scope: {},
    });
    expect(got.instances).toEqual({ rows: [0, 1] });
    expect(got.explanation.instances.map((i: { row: number }) => i.row)).toEqual([0, 1]);
  });
});

describe("dataset choices, splits and figure edits (DashAI's frontend calls)", () => {
  it("valid-datasets: the finished datasets with the run's columns and types, nothing else", async () => {
    const { dash } = clients(t);
    // A dataset whose "a" is text (a type the model did not read) and one never loaded (status 0).
    const typed = await uploadDataset(t, "typed", {
      name: "typed.csv",
      content: "a,b,color,noise,y\nlow,1,red,0,1\nhigh,2,blue,1,2\n",
    });
    const empty = await dash.post("/api/v1/dataset/", { name: "never loaded" });
    expect(empty.status).toBe(201);
    const res = await dash.post("/api/v1/explainer/local/valid-datasets", { run_id: linearRun.id });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ valid_dataset_ids: [trainDataset.id, rowsDataset.id] });
    const check = await dash.post("/api/v1/explainer/local/validate-dataset", {
      run_id: linearRun.id,
      dataset_id: typed.id,
    });
    expect(check.body).toEqual({
      dataset_status: "invalid",
      type_mismatches: { a: { expected: "float", got: expect.any(String) } },
    });

    expect((await dash.post("/api/v1/explainer/local/valid-datasets", { run_id: 9999 })).status).toBe(404);
    const bad = await dash.post("/api/v1/explainer/local/valid-datasets", {});
    expect(bad.status).toBe(422);
    expect(JSON.stringify(bad.body)).toContain("run_id");
    const anonymous = await call(t, "/api/v1/explainer/local/valid-datasets", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ run_id: linearRun.id }),
    });
    expect(anonymous.status).toBe(401);
  });

  it("explainable-splits: the run's non-empty splits with their rows, as the explainers draw them", async () => {
    const { dash } = clients(t);
    const res = await dash.get(`/api/v1/explainer/explainable-splits/${linearRun.id}`);
    expect(res.status, res.text).toBe(200);
    // 150 rows at 0.6 / 0.2 / 0.2; the permutation importance above read the 30 test rows.
    expect(res.body).toEqual({
      splits: [
        { name: "train", rows: 90 },
        { name: "validation", rows: 30 },
        { name: "test", rows: 30 },
      ],
    });
    // Without a validation split it is not offered.
    const noValidation = await dash.post("/api/v1/model-session/", {
      dataset_id: trainDataset.id,
      task_name: "RegressionTask",
      name: "no validation",
      input_columns: ["a", "b", "color", "noise"],
      output_columns: ["y"],
      splits: JSON.stringify({ train: 0.8, validation: 0, test: 0.2, seed: 3 }),
    });
    expect(noValidation.status, noValidation.text).toBe(201);
    const run = await dash.post("/api/v1/run/", {
      model_session_id: noValidation.body.id,
      model_name: "LinearRegression",
      name: "two splits",
      parameters: {},
    });
    expect((await dash.get(`/api/v1/explainer/explainable-splits/${run.body.id}`)).body).toEqual({
      splits: [
        { name: "train", rows: 120 },
        { name: "test", rows: 30 },
      ],
    });
    expect((await dash.get("/api/v1/explainer/explainable-splits/9999")).status).toBe(404);
    expect((await dash.get("/api/v1/explainer/explainable-splits/abc")).status).toBe(422);
    expect((await call(t, `/api/v1/explainer/explainable-splits/${linearRun.id}`)).status).toBe(401);
  });

  it("plot overrides: an edited figure is answered in place of the computed one until it is reset", async () => {
    const { dash } = clients(t);
    const global = await explain("global", {
      run_id: linearRun.id,
      explainer_name: "PermutationFeatureImportance",
      parameters: { n_repeats: 2 },
    });
    const path = `/api/v1/explainer/global/plot/${global.id}`;
    const computed = JSON.parse((await dash.get(path)).body[0].payload);
    const edited = { ...computed, layout: { ...computed.layout, title: { text: "My importance" } } };
    const put = await call(t, `${path}/override`, {
      method: "PUT",
      headers: { authorization: t.dashboardAuth, "content-type": "application/json" },
      body: JSON.stringify({ index: 0, figure: edited }),
    });
    expect(put.status, put.text).toBe(200);
    expect(put.body).toEqual({ status: "ok" });
    const shown = (await dash.get(path)).body;
    expect(shown).toHaveLength(1);
    expect(shown[0]).toMatchObject({ type: "plotly", role: "explanation" });
    expect(JSON.parse(shown[0].payload).layout.title.text).toBe("My importance");
    // The figure as a JSON string (DashAI sends either) replaces it too.
    const asString = await call(t, `${path}/override`, {
      method: "PUT",
      headers: { authorization: t.dashboardAuth, "content-type": "application/json" },
      body: JSON.stringify({
        index: 0,
        figure: JSON.stringify({ ...computed, layout: { title: { text: "Second edit" } } }),
      }),
    });
    expect(asString.status, asString.text).toBe(200);
    expect(JSON.parse((await dash.get(path)).body[0].payload).layout.title.text).toBe("Second edit");
    // Reset: the computed figure is back; resetting again is still 200.
    expect((await dash.del(`${path}/override/0`)).body).toEqual({ status: "ok" });
    expect(JSON.parse((await dash.get(path)).body[0].payload)).toEqual(computed);
    expect((await dash.del(`${path}/override/0`)).status).toBe(200);

    // Bad edits: 422 naming the field; an unknown explainer 404; the other scope's path 404; anonymous 401.
    const put422 = async (body: unknown, p = path) =>
      call(t, `${p}/override`, {
        method: "PUT",
        headers: { authorization: t.dashboardAuth, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    for (const [body, field, text] of [
      [{ index: 1, figure: edited }, "index", "out of range"],
      [{ index: 0, figure: "{not json" }, "figure", "not JSON"],
      [{ index: 0, figure: { layout: {} } }, "figure", "data array"],
      [{ index: -1, figure: edited }, "index", ""],
      [{ figure: edited }, "index", ""],
    ] as const) {
      const res = await put422(body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(JSON.stringify(res.body)).toContain(field);
      expect(JSON.stringify(res.body)).toContain(text);
    }
    expect((await put422({ index: 0, figure: edited }, "/api/v1/explainer/global/plot/9999")).status).toBe(
      404,
    );
    expect(
      (await put422({ index: 0, figure: edited }, `/api/v1/explainer/local/plot/${global.id}`)).status,
    ).toBe(404);
    expect(
      (
        await call(t, `${path}/override`, {
          method: "PUT",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ index: 0, figure: edited }),
        })
      ).status,
    ).toBe(401);

    // Local: artifact 0 is the table of explained rows (not a figure); the SHAP figures can be edited.
    const local = await explain("local", {
      run_id: linearRun.id,
      dataset_id: rowsDataset.id,
      explainer_name: "KernelShap",
      parameters: {},
      fit_parameters: { n_background_samples: 10 },
      scope: { rows: [1, 2] },
    });
    const localPath = `/api/v1/explainer/local/plot/${local.id}`;
    const table = await put422({ index: 0, figure: edited }, localPath);
    expect(table.status).toBe(422);
    expect(JSON.stringify(table.body)).toContain("is a table, not a plotly figure");
    expect((await put422({ index: 2, figure: edited }, localPath)).status).toBe(200);
    const artifacts = (await dash.get(localPath)).body;
    expect(artifacts.map((a: any) => a.type)).toEqual(["table", "plotly", "plotly"]);
    expect(JSON.parse(artifacts[1].payload).layout.title.text).toMatch(/^Row 1/);
    expect(JSON.parse(artifacts[2].payload).layout.title.text).toBe("My importance");

    // A new computation drops the edits: the figures are the computed ones again.
    await runJob({ explainer_id: local.id, explainer_scope: "local" });
    expect(JSON.parse((await dash.get(localPath)).body[2].payload).layout.title.text).toMatch(/^Row 2/);
    // Before it has finished, an explainer has no figure to edit.
    const fresh = await dash.post("/api/v1/explainer/global", {
      run_id: linearRun.id,
      explainer_name: "PartialDependence",
      parameters: {},
    });
    const early = await put422(
      { index: 0, figure: edited },
      `/api/v1/explainer/global/plot/${fresh.body.id}`,
    );
    expect(early.status).toBe(422);
    expect(JSON.stringify(early.body)).toContain("has not finished");
  });
});

describe("list, rename, delete, run operations", () => {
  it("lists per run and scope, renames with PATCH, deletes (204, then 404), and counts in the run's operations", async () => {
    const { dash } = clients(t);
    const run = await createRun("ops");
    expect(
      (await enqueueForm(t, { job_type: "ModelJob", kwargs: JSON.stringify({ run_id: run.id }) })).status,
    ).toBe(201);
    for (;;) {
      if ((await dash.get(`/api/v1/run/${run.id}`)).body.status === 3) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const g = await dash.post("/api/v1/explainer/global", {
      run_id: run.id,
      explainer_name: "PartialDependence",
      parameters: {},
    });
    const l = await dash.post("/api/v1/explainer/local", {
      run_id: run.id,
      dataset_id: rowsDataset.id,
      explainer_name: "KernelShap",
      parameters: {},
      fit_parameters: {},
      scope: {},
    });
    expect([g.status, l.status]).toEqual([201, 201]);
    const globals = await dash.get(`/api/v1/explainer/global?run_id=${run.id}`);
    expect(globals.body.map((e: { id: number }) => e.id)).toEqual([g.body.id]);
    expect(
      (await dash.get(`/api/v1/explainer/local?run_id=${run.id}`)).body.map((e: { id: number }) => e.id),
    ).toEqual([l.body.id]);
    expect((await dash.get("/api/v1/explainer/global")).body.length).toBeGreaterThanOrEqual(2);
    expect((await dash.get(`/api/v1/run/${run.id}/operations/count`)).body.explainers).toBe(2);

    const renamed = await dash.patch("/api/v1/explainer/", {
      explainer_id: g.body.id,
      scope: "global",
      name: "pdp of ops",
    });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body.name).toBe("pdp of ops");
    expect(
      (await dash.patch("/api/v1/explainer", { explainer_id: g.body.id, scope: "local", name: "x" })).status,
    ).toBe(404);

    // Not computed yet: no plot; an id of the other scope is unknown.
    const early = await dash.get(`/api/v1/explainer/global/plot/${g.body.id}`);
    expect(early.status).toBe(422);
    expect(JSON.stringify(early.body)).toMatch(/has not finished/);
    expect((await dash.get(`/api/v1/explainer/local/${g.body.id}`)).status).toBe(404);

    expect((await dash.del(`/api/v1/explainer/global/${g.body.id}`)).status).toBe(204);
    expect((await dash.get(`/api/v1/explainer/global/${g.body.id}`)).status).toBe(404);
    expect((await dash.del(`/api/v1/explainer/global/${g.body.id}`)).status).toBe(404);
    expect((await dash.del(`/api/v1/run/${run.id}/operations`)).status).toBe(204);
    expect((await dash.get(`/api/v1/explainer/local/${l.body.id}`)).status).toBe(404);
    expect((await dash.get(`/api/v1/run/${run.id}/operations/count`)).body.explainers).toBe(0);
  });
});

describe("bad input", () => {
  const detail = (res: { body: unknown }) => JSON.stringify(res.body);

  it("refuses an untrained run, unknown columns and explainers, bad parameters, rows and datasets with 422", async () => {
    const { dash } = clients(t);
    const untrained = await dash.post("/api/v1/explainer/global", {
      run_id: untrainedRun.id,
      explainer_name: "PermutationFeatureImportance",
      parameters: {},
    });
    expect(untrained.status).toBe(422);
    expect(detail(untrained)).toMatch(new RegExp(`Run ${untrainedRun.id} has not finished training`));

    const column = await dash.post("/api/v1/explainer/global", {
      run_id: linearRun.id,
      explainer_name: "PartialDependence",
      parameters: { features: ["a", "height"] },
    });
    expect(column.status).toBe(422);
    expect(detail(column)).toMatch(/Unknown column \\"height\\"/);
    expect(detail(column)).toMatch(/features/);

    const unknown = await dash.post("/api/v1/explainer/global", {
      run_id: linearRun.id,
      explainer_name: "Lime",
      parameters: {},
    });
    expect(unknown.status).toBe(422);
    expect(detail(unknown)).toMatch(/Unknown global explainer \\"Lime\\"/);
    const wrongScope = await dash.post("/api/v1/explainer/global", {
      run_id: linearRun.id,
      explainer_name: "KernelShap",
    });
    expect(wrongScope.status).toBe(422);
    expect(detail(wrongScope)).toMatch(/local explainer/);

    const repeats = await dash.post("/api/v1/explainer/global", {
      run_id: linearRun.id,
      explainer_name: "PermutationFeatureImportance",
      parameters: { n_repeats: 0 },
    });
    expect(repeats.status).toBe(422);
    expect(detail(repeats)).toMatch(/n_repeats/);
    const scoring = await dash.post("/api/v1/explainer/global", {
      run_id: linearRun.id,
      explainer_name: "PermutationFeatureImportance",
      parameters: { scoring: "Accuracy" },
    });
    expect(scoring.status).toBe(422);
    expect(detail(scoring)).toMatch(/not a metric of RegressionTask/);

    const missing = await dash.post("/api/v1/explainer/local", {
      run_id: linearRun.id,
      dataset_id: otherDataset.id,
      explainer_name: "KernelShap",
      parameters: {},
      fit_parameters: {},
      scope: {},
    });
    expect(missing.status).toBe(422);
    expect(detail(missing)).toMatch(/lacks the run's input columns: color, noise/);
    const beyond = await dash.post("/api/v1/explainer/local", {
      run_id: linearRun.id,
      dataset_id: rowsDataset.id,
      explainer_name: "KernelShap",
      parameters: {},
      fit_parameters: {},
      scope: { rows: [1, 8] },
    });
    expect(beyond.status).toBe(422);
    expect(detail(beyond)).toMatch(/Row 8 is beyond the dataset's 8 rows/);

    expect(
      (await dash.post("/api/v1/explainer/global", { run_id: 99999, explainer_name: "PartialDependence" }))
        .status,
    ).toBe(404);
    const noKwargs = await enqueueForm(t, {
      job_type: "ExplainerJob",
      kwargs: JSON.stringify({ explainer_scope: "global" }),
    });
    expect(noKwargs.status).toBe(422);
    expect(noKwargs.text).toMatch(/explainer_id/);
    const noOnnx = await dash.post("/api/v1/explainer/global", {
      run_id: untrainedRun.id,
      explainer_name: "PartialDependence",
      backend: "tflite",
    });
    expect(noOnnx.status).toBe(422);
    expect(detail(noOnnx)).toMatch(/backend/);
  });

  it("refuses anonymous calls", async () => {
    expect((await call(t, "/api/v1/explainer/global")).status).toBe(401);
    expect(
      (
        await call(t, "/api/v1/explainer/local/validate-dataset", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        })
      ).status,
    ).toBe(401);
  });
});

describe("cancel", () => {
  it("cancels a running explanation: the job is cancelled, the explainer ERROR, no plot", async () => {
    const { dash } = clients(t);
    // KernelSHAP of 100 rows through a KNN over 600 training rows (each row: 14 coalitions × 100 background
    // rows): seconds, long enough to cancel.
    const big = await uploadDataset(t, "big", { name: "big.csv", content: linearCsv(1000, 5).csv });
    const bigSession = await dash.post("/api/v1/model-session/", {
      dataset_id: big.id,
      task_name: "RegressionTask",
      name: "big",
      input_columns: ["a", "b", "color", "noise"],
      output_columns: ["y"],
      splits: JSON.stringify({ train: 0.6, validation: 0.2, test: 0.2, seed: 3 }),
    });
    const knn = await dash.post("/api/v1/run/", {
      model_session_id: bigSession.body.id,
      model_name: "KNeighborsRegression",
      name: "knn",
      parameters: {},
    });
    const trained = await enqueueForm(t, {
      job_type: "ModelJob",
      kwargs: JSON.stringify({ run_id: knn.body.id }),
    });
    expect((await waitForJob(t, trained.body.id, 60_000)).status).toBe("finished");
    const created = await dash.post("/api/v1/explainer/local", {
      run_id: knn.body.id,
      dataset_id: big.id,
      explainer_name: "KernelShap",
      parameters: { n_background_samples: 100 },
      scope: { rows: Array.from({ length: 100 }, (_, i) => i) },
    });
    expect(created.status, created.text).toBe(201);
    const job = await enqueueForm(t, {
      job_type: "ExplainerJob",
      kwargs: JSON.stringify({ explainer_id: created.body.id, explainer_scope: "local" }),
    });
    expect(job.status).toBe(201);
    expect((await dash.get(`/api/v1/explainer/local/${created.body.id}`)).body.status).toBeGreaterThanOrEqual(
      1,
    );
    const again = await enqueueForm(t, {
      job_type: "ExplainerJob",
      kwargs: JSON.stringify({ explainer_id: created.body.id, explainer_scope: "local" }),
    });
    expect(again.status).toBe(409);
    for (;;) {
      const status = (await dash.get(`/api/v1/job/status/${job.body.id}`)).body;
      if (status.status === "finished")
        throw new Error("the explanation finished before it could be cancelled");
      if (status.status === "started" && status.progress >= 3) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect((await dash.del(`/api/v1/job/${job.body.id}`)).status).toBe(204);
    expect((await waitForJob(t, job.body.id)).status).toBe("cancelled");
    const row = (await dash.get(`/api/v1/explainer/local/${created.body.id}`)).body;
    expect(row).toMatchObject({ status: 4, explanation: null, plot_path: null });
    expect((await dash.get(`/api/v1/explainer/local/plot/${created.body.id}`)).status).toBe(422);
  });
});

describe("worker thread", () => {
  it("keeps answering HTTP while an explanation computes, and a cancel stops its thread", async () => {
    const { dash } = clients(t);
    // Partial dependence through a KNN over 1,800 training rows: the 600 test rows × 109 grid values are one
    // prediction call of 65,400 rows, each against every training row — tens of seconds of CPU in one call,
    // with no progress until it ends. On the server's event loop that call would hold every request until
    // it ended; in a worker thread the server answers while it runs.
    const big = await uploadDataset(t, "long", { name: "long.csv", content: linearCsv(3_000, 7).csv });
    const longSession = await dash.post("/api/v1/model-session/", {
      dataset_id: big.id,
      task_name: "RegressionTask",
      name: "long",
      input_columns: ["a", "b", "color", "noise"],
      output_columns: ["y"],
      splits: JSON.stringify({ train: 0.6, validation: 0.2, test: 0.2, seed: 3 }),
    });
    const knn = await dash.post("/api/v1/run/", {
      model_session_id: longSession.body.id,
      model_name: "KNeighborsRegression",
      name: "knn",
      parameters: {},
    });
    const trained = await enqueueForm(t, {
      job_type: "ModelJob",
      kwargs: JSON.stringify({ run_id: knn.body.id }),
    });
    expect((await waitForJob(t, trained.body.id, 60_000)).status).toBe("finished");
    const created = await dash.post("/api/v1/explainer/global", {
      run_id: knn.body.id,
      explainer_name: "PartialDependence",
      parameters: { features: ["a"], grid_resolution: 109, max_samples: 100_000 },
    });
    expect(created.status, created.text).toBe(201);
    const threadsBefore = runningThreads();
    const job = await enqueueForm(t, {
      job_type: "ExplainerJob",
      kwargs: JSON.stringify({ explainer_id: created.body.id, explainer_scope: "global" }),
    });
    expect(job.status).toBe(201);
    // Wait until the computation is in its thread (the job's progress leaves the reading step).
    for (;;) {
      const status = (await dash.get(`/api/v1/job/status/${job.body.id}`)).body;
      expect(["not_started", "started"], JSON.stringify(status)).toContain(status.status);
      if (status.status === "started" && status.progress >= 3 && runningThreads() > threadsBefore) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // A plain request answers while the explanation is still computing.
    const listed = await dash.get(`/api/v1/explainer/global?run_id=${knn.body.id}`);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([expect.objectContaining({ id: created.body.id, status: 2 })]);
    // … before the computation's one prediction call has ended (it reports 97 % when it does).
    const still = (await dash.get(`/api/v1/job/status/${job.body.id}`)).body;
    expect(still.status).toBe("started");
    expect(still.progress).toBeLessThan(97);
    expect(runningThreads()).toBe(threadsBefore + 1);

    expect((await dash.del(`/api/v1/job/${job.body.id}`)).status).toBe(204);
    expect((await waitForJob(t, job.body.id)).status).toBe("cancelled");
    // The thread is terminated, not left computing in the background.
    const deadline = Date.now() + 10_000;
    while (runningThreads() > threadsBefore && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
    expect(runningThreads()).toBe(threadsBefore);
    const row = (await dash.get(`/api/v1/explainer/global/${created.body.id}`)).body;
    expect(row).toMatchObject({ status: 4, explanation: null, plot_path: null });
  }, 120_000);
});
