// The component registry (GET /api/v1/component/) and model sessions (CRUD, POST /validation) through the
// documented routes, over real HTTP.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { call, clients, uploadDataset } from "./helpers.js";

let t: TestServer;
let iris: { id: number };
let diabetes: { id: number };

beforeAll(async () => {
  t = await startTestServer();
  const fixture = (name: string) => readFileSync(join(import.meta.dirname, "../fixtures/lab", name));
  iris = await uploadDataset(t, "iris", { name: "iris.csv", content: fixture("iris.csv") });
  diabetes = await uploadDataset(t, "diabetes", { name: "diabetes.csv", content: fixture("diabetes.csv") });
}, 60_000);

afterAll(async () => {
  await t?.close();
});

const get = (path: string, headers: Record<string, string> = {}) =>
  call(t, path, { headers: { authorization: t.dashboardAuth, ...headers } });

describe("components", () => {
  it("lists tasks, models, metrics and optimizers with a JSON Schema of their parameters", async () => {
    const all = await get("/api/v1/component/");
    expect(all.status).toBe(200);
    const types = new Set(all.body.map((c: any) => c.type));
    expect(types).toEqual(
      new Set([
        "Task",
        "GenerativeTask",
        "Model",
        "Metric",
        "Optimizer",
        "Converter",
        "Explorer",
        "GlobalExplainer",
        "LocalExplainer",
      ]),
    );
    const rf = all.body.find((c: any) => c.name === "RandomForestClassifier");
    expect(rf).toMatchObject({
      type: "Model",
      display_name: expect.any(String),
      compatible_components: ["TabularClassificationTask"],
    });
    expect(rf.schema.type).toBe("object");
    expect(rf.schema.properties.n_estimators).toMatchObject({ type: "integer", default: expect.any(Number) });
    expect(all.body.find((c: any) => c.name === "Accuracy")).toMatchObject({
      type: "Metric",
      maximize: true,
    });
  });

  it("select_types filters (repeated keys as DashAI sends them, commas, and the JSON form)", async () => {
    const models = await get("/api/v1/component/?select_types=Model");
    expect(models.body.length).toBeGreaterThan(10);
    expect(new Set(models.body.map((c: any) => c.type))).toEqual(new Set(["Model"]));
    for (const query of [
      "select_types=Model&select_types=Metric",
      "select_types=Model,Metric",
      `select_types=${encodeURIComponent('["Model","Metric"]')}`,
    ]) {
      const res = await get(`/api/v1/component/?${query}`);
      expect(new Set(res.body.map((c: any) => c.type))).toEqual(new Set(["Model", "Metric"]));
    }
    const noModels = await get("/api/v1/component/?ignore_types=Model");
    expect(noModels.body.some((c: any) => c.type === "Model")).toBe(false);
    const related = await get("/api/v1/component/?select_types=Metric&related_component=RegressionTask");
    expect(related.body.map((c: any) => c.name).sort()).toEqual(["MAE", "MSE", "R2", "RMSE"]);
    const unknown = await get("/api/v1/component/?select_types=Wizard");
    expect(unknown.status).toBe(422);
    expect(JSON.stringify(unknown.body)).toMatch(/Component type \\"Wizard\\" does not exist/);
    expect((await get("/api/v1/component/?related_component=Nope")).status).toBe(422);
  });

  it("Accept-Language picks English or Spanish; one component by name", async () => {
    const en = await get("/api/v1/component/?select_types=Task", { "accept-language": "en-US,en;q=0.9" });
    const es = await get("/api/v1/component/?select_types=Task", {
      "accept-language": "es-CL,es;q=0.9,en;q=0.5",
    });
    const name = (body: any[]) => body.find((c) => c.name === "RegressionTask").display_name;
    expect(name(en.body)).toBe("Regression");
    expect(name(es.body)).toBe("Regresión");
    const one = await get("/api/v1/component/RandomForestClassifier/", { "accept-language": "es" });
    expect(one.status).toBe(200);
    expect(one.body.name).toBe("RandomForestClassifier");
    expect(one.body.description).not.toBe(
      (await get("/api/v1/component/RandomForestClassifier/")).body.description,
    );
    expect((await get("/api/v1/component/NoSuchModel/")).status).toBe(404);
  });
});

describe("the engine's Table from a stored dataset", () => {
  it("reads the chosen columns with their types (what training reads)", async () => {
    const table = await t.server.deps.services.lab.datasets.table(iris.id, ["petal_length_cm", "species"]);
    expect(table.rowCount).toBe(150);
    expect(table.columns.map((c) => [c.name, c.type])).toEqual([
      ["petal_length_cm", "float"],
      ["species", "categorical"],
    ]);
    expect(table.columns[0]!.values).toBeInstanceOf(Float64Array);
    expect(table.columns[0]!.values[0]).toBe(1.4);
    expect(table.columns[1]!.values[149]).toBe("virginica");
  });
});

describe("model sessions", () => {
  const session = (overrides: Record<string, unknown> = {}) => ({
    dataset_id: iris.id,
    task_name: "TabularClassificationTask",
    name: `s-${Math.random().toString(36).slice(2)}`,
    input_columns: ["sepal_length_cm", "petal_length_cm"],
    output_columns: ["species"],
    train_metrics: ["Accuracy"],
    validation_metrics: ["Accuracy", "F1"],
    test_metrics: [],
    evaluation_strategy: "hold_out",
    splits: JSON.stringify({
      splitter_name: "TrainValidationTestSplitter",
      train: 0.7,
      validation: 0.1,
      test: 0.2,
      seed: 7,
    }),
    converters: [],
    ...overrides,
  });

  it("POST /validation: 200 valid; 422 naming the column that does not fit; 404 unknown dataset or task", async () => {
    const { dash } = clients(t);
    const v = (body: Record<string, unknown>) =>
      dash.post("/api/v1/model-session/validation", {
        task_name: "TabularClassificationTask",
        dataset_id: iris.id,
        inputs_columns: ["sepal_length_cm"],
        outputs_columns: ["species"],
        ...body,
      });
    expect(await v({})).toMatchObject({ status: 200, body: { dataset_status: "valid" } });
    const float = await v({ outputs_columns: ["petal_width_cm"] });
    expect(float.status).toBe(422);
    expect(float.body.detail).toBe(
      'Output column "petal_width_cm" is float: TabularClassificationTask needs a categorical, boolean or integer column',
    );
    const regression = await v({ task_name: "RegressionTask", outputs_columns: ["species"] });
    expect(regression.status).toBe(422);
    expect(regression.body.detail).toMatch(
      /Output column "species" is categorical: RegressionTask needs an integer or float/,
    );
    expect((await v({ inputs_columns: ["nope"] })).body.detail).toBe(
      `Column "nope" is not in dataset ${iris.id}`,
    );
    expect((await v({ inputs_columns: ["species"] })).body.detail).toMatch(/both an input and the output/);
    expect((await v({ outputs_columns: ["species", "sepal_width_cm"] })).status).toBe(422);
    expect((await v({ dataset_id: 987654 })).status).toBe(404);
    expect((await v({ task_name: "NoSuchTask" })).status).toBe(404);
    const ok = await v({
      task_name: "RegressionTask",
      dataset_id: diabetes.id,
      inputs_columns: ["age", "bmi"],
      outputs_columns: ["progression"],
    });
    expect(ok.status).toBe(200);
  });

  it("CRUD: create (201, split sizes, metrics), get, list, PATCH by query and by body, DELETE", async () => {
    const { dash } = clients(t);
    const created = await dash.post("/api/v1/model-session/", session({ name: "iris-session" }));
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      name: "iris-session",
      dataset_id: iris.id,
      task_name: "TabularClassificationTask",
      input_columns: ["sepal_length_cm", "petal_length_cm"],
      output_columns: ["species"],
      train_metrics: ["Accuracy"],
      validation_metrics: ["Accuracy", "F1"],
      split_sizes: { train: 105, validation: 15, test: 30 },
    });
    // No metric given for a split: every metric of the task.
    expect(created.body.test_metrics).toEqual(
      expect.arrayContaining(["Accuracy", "F1", "ROCAUC", "LogLoss"]),
    );
    expect(JSON.parse(created.body.splits)).toMatchObject({
      train: 0.7,
      validation: 0.1,
      test: 0.2,
      seed: 7,
    });
    const id = created.body.id;
    expect((await dash.get(`/api/v1/model-session/${id}`)).body.name).toBe("iris-session");
    expect((await dash.get("/api/v1/model-session/")).body.map((s: any) => s.id)).toContain(id);
    expect((await dash.get(`/api/v1/dataset/${iris.id}/model-sessions-exist`)).body).toBe(true);

    // DashAI's PATCH: query parameters, no body.
    const byQuery = await call(
      t,
      `/api/v1/model-session/${id}?name=renamed&input_columns=${encodeURIComponent('["petal_width_cm"]')}`,
      {
        method: "PATCH",
        headers: { authorization: t.dashboardAuth },
      },
    );
    expect(byQuery.status, byQuery.text).toBe(200);
    expect(byQuery.body).toMatchObject({ name: "renamed", input_columns: ["petal_width_cm"] });
    const byBody = await dash.patch(`/api/v1/model-session/${id}`, {
      splits: { train: 0.5, validation: 0.25, test: 0.25 },
    });
    expect(byBody.body.split_sizes).toEqual({ train: 74, validation: 38, test: 38 });
    const badColumn = await dash.patch(`/api/v1/model-session/${id}`, {
      output_columns: ["sepal_length_cm"],
    });
    expect(badColumn.status).toBe(422);
    expect(badColumn.body.detail).toMatch(/Output column "sepal_length_cm" is float/);

    expect((await dash.del(`/api/v1/model-session/${id}`)).status).toBe(204);
    expect((await dash.get(`/api/v1/model-session/${id}`)).status).toBe(404);
    expect((await dash.del(`/api/v1/model-session/${id}`)).status).toBe(404);
  });

  it("create refuses bad splits, unknown or foreign metrics, a taken name, a bad column (nothing stored)", async () => {
    const { dash } = clients(t);
    const before = (await dash.get("/api/v1/model-session/")).body.length;
    const sum = await dash.post(
      "/api/v1/model-session/",
      session({ splits: '{"train": 0.7, "validation": 0.3, "test": 0.3}' }),
    );
    expect(sum.status).toBe(422);
    expect(JSON.stringify(sum.body)).toMatch(/must sum to 1/);
    expect((await dash.post("/api/v1/model-session/", session({ splits: "{broken" }))).status).toBe(422);
    expect((await dash.post("/api/v1/model-session/", session({ splits: { train: 0 } }))).status).toBe(422);
    const metric = await dash.post("/api/v1/model-session/", session({ test_metrics: ["MAE"] }));
    expect(metric.status).toBe(422);
    expect(JSON.stringify(metric.body)).toMatch(/Metric MAE does not apply to TabularClassificationTask/);
    expect((await dash.post("/api/v1/model-session/", session({ train_metrics: ["Nope"] }))).status).toBe(
      422,
    );
    expect(
      (await dash.post("/api/v1/model-session/", session({ output_columns: ["petal_width_cm"] }))).status,
    ).toBe(422);
    expect((await dash.post("/api/v1/model-session/", session({ dataset_id: 987654 }))).status).toBe(404);
    expect((await dash.get("/api/v1/model-session/")).body.length).toBe(before);
    const first = await dash.post("/api/v1/model-session/", session({ name: "taken" }));
    expect(first.status).toBe(201);
    expect((await dash.post("/api/v1/model-session/", session({ name: "taken" }))).status).toBe(409);
  });

  it("deleting a dataset deletes its sessions; bulk delete", async () => {
    const { dash } = clients(t);
    const copy = await dash.post("/api/v1/dataset/copy", { dataset_id: iris.id, name: "iris-for-delete" });
    const a = await dash.post("/api/v1/model-session/", session({ dataset_id: copy.body.id }));
    const b = await dash.post("/api/v1/model-session/", session({ dataset_id: copy.body.id }));
    expect((await dash.del(`/api/v1/dataset/${copy.body.id}`)).status).toBe(204);
    expect((await dash.get(`/api/v1/model-session/${a.body.id}`)).status).toBe(404);
    expect((await dash.get(`/api/v1/model-session/${b.body.id}`)).status).toBe(404);
    const c = await dash.post("/api/v1/model-session/", session());
    const bulk = await call(t, "/api/v1/model-session/", {
      method: "DELETE",
      headers: { authorization: t.dashboardAuth, "content-type": "application/json" },
      body: JSON.stringify({ ids: [c.body.id, 424242] }),
    });
    expect(bulk.status).toBe(204);
    expect((await dash.get(`/api/v1/model-session/${c.body.id}`)).status).toBe(404);
  });
});
