// Runs and training through the documented routes over real HTTP: CRUD, reset, operations, ModelJob
// (DashAI's job form) with progress and a real cancel, metrics within known bounds on Iris and Diabetes,
// hyperparameter search with its Plotly plots, and the finished run in tracking.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { call, clients, enqueueForm, uploadDataset, waitForJob } from "./helpers.js";

let t: TestServer;
let iris: { id: number };
let diabetes: { id: number };
let irisSession: { id: number; name: string };
let diabetesSession: { id: number };

const fixture = (name: string) => readFileSync(join(import.meta.dirname, "../fixtures/lab", name));
const IRIS_INPUTS = ["sepal_length_cm", "sepal_width_cm", "petal_length_cm", "petal_width_cm"];

beforeAll(async () => {
  t = await startTestServer();
  const { dash } = clients(t);
  iris = await uploadDataset(t, "iris", { name: "iris.csv", content: fixture("iris.csv") });
  diabetes = await uploadDataset(t, "diabetes", { name: "diabetes.csv", content: fixture("diabetes.csv") });
  const s1 = await dash.post("/api/v1/model-session/", {
    dataset_id: iris.id,
    task_name: "TabularClassificationTask",
    name: "iris experiments",
    input_columns: IRIS_INPUTS,
    output_columns: ["species"],
    splits: JSON.stringify({ train: 0.6, validation: 0.2, test: 0.2, seed: 7 }),
  });
  expect(s1.status, s1.text).toBe(201);
  irisSession = s1.body;
  const s2 = await dash.post("/api/v1/model-session/", {
    dataset_id: diabetes.id,
    task_name: "RegressionTask",
    name: "diabetes",
    input_columns: ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"],
    output_columns: ["progression"],
  });
  expect(s2.status, s2.text).toBe(201);
  diabetesSession = s2.body;
}, 120_000);

afterAll(async () => {
  await t?.close();
});

async function createRun(body: Record<string, unknown>) {
  const res = await clients(t).dash.post("/api/v1/run/", {
    model_session_id: irisSession.id,
    model_name: "RandomForestClassifier",
    name: "rf",
    parameters: {},
    optimizer_name: "",
    optimizer_parameters: {},
    plot_history_path: "",
    plot_slice_path: "",
    plot_contour_path: "",
    plot_importance_path: "",
    goal_metric: "",
    description: "",
    ...body,
  });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

async function train(runId: number, timeoutMs = 60_000) {
  const job = await enqueueForm(t, { job_type: "ModelJob", kwargs: JSON.stringify({ run_id: runId }) });
  expect(job.status, job.text).toBe(201);
  return waitForJob(t, job.body.id, timeoutMs);
}

describe("runs: CRUD", () => {
  it("creates, lists, gets, renames and deletes a run (DashAI's create and PATCH keys)", async () => {
    const { dash } = clients(t);
    const run = await createRun({ name: "first", description: "a forest" });
    expect(run).toMatchObject({
      model_session_id: irisSession.id,
      name: "first",
      run_name: "first",
      model_name: "RandomForestClassifier",
      status: 0,
      train_metrics: null,
      optimizer_name: null,
      onnx_path: null,
      plot_history_path: null,
    });
    expect((await dash.get(`/api/v1/run/${run.id}`)).body.description).toBe("a forest");
    const listed = await dash.get(`/api/v1/run/?model_session_id=${irisSession.id}`);
    expect(listed.body.map((r: any) => r.id)).toContain(run.id);
    expect((await dash.get(`/api/v1/run?model_session_id=${diabetesSession.id}`)).body).not.toContainEqual(
      expect.objectContaining({ id: run.id }),
    );
    const renamed = await dash.patch(`/api/v1/run/${run.id}`, {
      run_name: "renamed",
      parameters: { n_estimators: 5 },
      optimizer: "OptunaOptimizer",
      optimizer_parameters: { n_trials: 3 },
      goal_metric: "F1",
    });
    expect(renamed.status, renamed.text).toBe(200);
    expect(renamed.body).toMatchObject({
      name: "renamed",
      parameters: { n_estimators: 5 },
      optimizer_name: "OptunaOptimizer",
      optimizer_parameters: { n_trials: 3 },
      goal_metric: "F1",
    });
    expect((await dash.get(`/api/v1/run/${run.id}/operations/count`)).body).toEqual({
      explainers: 0,
      predictions: 0,
    });
    expect((await dash.del(`/api/v1/run/${run.id}/operations`)).status).toBe(204);
    expect((await dash.del(`/api/v1/run/${run.id}`)).status).toBe(204);
    expect((await dash.get(`/api/v1/run/${run.id}`)).status).toBe(404);
  });

  it("answers 404 for unknown runs and sessions, 422 for bad configurations", async () => {
    const { dash } = clients(t);
    for (const path of [
      "/api/v1/run/99999",
      "/api/v1/run/99999/operations/count",
      "/api/v1/run/plot/99999/history",
    ])
      expect((await dash.get(path)).status).toBe(404);
    expect((await dash.patch("/api/v1/run/99999", { run_name: "x" })).status).toBe(404);
    expect((await dash.patch("/api/v1/run/99999/reset", {})).status).toBe(404);
    expect((await dash.del("/api/v1/run/99999")).status).toBe(404);
    expect((await dash.del("/api/v1/run/99999/operations")).status).toBe(404);
    expect((await dash.get("/api/v1/run/?model_session_id=99999")).status).toBe(404);
    const base = { model_session_id: irisSession.id, model_name: "RandomForestClassifier", name: "x" };
    expect((await dash.post("/api/v1/run/", { ...base, model_session_id: 99999 })).status).toBe(404);
    const unknown = await dash.post("/api/v1/run/", { ...base, model_name: "Nope" });
    expect(unknown.status).toBe(422);
    expect(unknown.body.detail).toBe('Unknown model "Nope"');
    const wrongTask = await dash.post("/api/v1/run/", { ...base, model_name: "LinearRegression" });
    expect(wrongTask.status).toBe(422);
    expect(JSON.stringify(wrongTask.body)).toMatch(/RegressionTask/);
    const badParam = await dash.post("/api/v1/run/", { ...base, parameters: { n_estimators: -3 } });
    expect(badParam.status).toBe(422);
    expect(JSON.stringify(badParam.body)).toMatch(/n_estimators/);
    const badGoal = await dash.post("/api/v1/run/", {
      ...base,
      optimizer_name: "OptunaOptimizer",
      goal_metric: "R2",
    });
    expect(badGoal.status).toBe(422);
    expect(badGoal.body.detail).toMatch(/goal_metric "R2"/);
    expect((await dash.post("/api/v1/run/", { ...base, name: " " })).status).toBe(422);
    // ModelJob kwargs: unknown run 404, missing run_id 422.
    expect(
      (await enqueueForm(t, { job_type: "ModelJob", kwargs: JSON.stringify({ run_id: 99999 }) })).status,
    ).toBe(404);
    expect((await enqueueForm(t, { job_type: "ModelJob", kwargs: "{}" })).status).toBe(422);
  });
});

describe("training through ModelJob", () => {
  it("trains a random forest on Iris: metrics per split within known bounds, ONNX offered, reset clears it", async () => {
    const { dash } = clients(t);
    const run = await createRun({ name: "forest", parameters: { n_estimators: 30, random_state: 1 } });
    const job = await train(run.id);
    expect(job, JSON.stringify(job)).toMatchObject({
      status: "finished",
      progress: 100,
      task_type: "ModelJob",
    });
    const done = (await dash.get(`/api/v1/run/${run.id}`)).body;
    expect(done).toMatchObject({
      status: 3,
      error: null,
      job_id: job.id,
      onnx_path: `/api/v1/run/${run.id}/onnx`,
    });
    expect(done.start_time).toEqual(expect.any(String));
    expect(done.end_time).toEqual(expect.any(String));
    expect(Object.keys(done.test_metrics).sort()).toEqual(
      ["Accuracy", "CohenKappa", "F1", "LogLoss", "MatthewsCorrCoef", "Precision", "ROCAUC", "Recall"].sort(),
    );
    expect(done.train_metrics.Accuracy).toBeGreaterThanOrEqual(0.97);
    expect(done.test_metrics.Accuracy).toBeGreaterThanOrEqual(0.86);
    expect(done.validation_metrics.Accuracy).toBeGreaterThanOrEqual(0.86);
    expect(done.test_metrics.ROCAUC).toBeGreaterThanOrEqual(0.95);
    // No search: no plots.
    expect(done.plot_history_path).toBeNull();
    const noPlot = await dash.get(`/api/v1/run/plot/${run.id}/history`);
    expect(noPlot.status).toBe(422);
    expect(JSON.stringify(noPlot.body)).toMatch(/no hyperparameter search/);

    // DashAI's reset: a PATCH with no body.
    const reset = await call(t, `/api/v1/run/${run.id}/reset`, {
      method: "PATCH",
      headers: { authorization: t.dashboardAuth },
    });
    expect(reset.status, reset.text).toBe(200);
    expect(reset.body).toMatchObject({ status: 0, train_metrics: null, onnx_path: null, job_id: null });
  });

  it("trains a regression model on Diabetes (R2 and RMSE within known bounds)", async () => {
    const { dash } = clients(t);
    const created = await dash.post("/api/v1/run/", {
      model_session_id: diabetesSession.id,
      model_name: "RidgeRegression",
      name: "ridge",
      parameters: { alpha: 1 },
    });
    expect(created.status, created.text).toBe(201);
    expect((await train(created.body.id)).status).toBe("finished");
    const done = (await dash.get(`/api/v1/run/${created.body.id}`)).body;
    expect(Object.keys(done.test_metrics).sort()).toEqual(["MAE", "MSE", "R2", "RMSE"]);
    expect(done.test_metrics.R2).toBeGreaterThan(0.3);
    expect(done.test_metrics.R2).toBeLessThan(0.7);
    expect(done.test_metrics.RMSE).toBeGreaterThan(40);
    expect(done.test_metrics.RMSE).toBeLessThan(70);
  });

  it("cancel stops a training mid-run: the job is cancelled, the run ERROR, no model stored", async () => {
    const { dash } = clients(t);
    // A search of 1000 trials of 2000 boosting rounds each: far longer than the test waits.
    const run = await createRun({
      model_name: "GradientBoostingClassifier",
      name: "long",
      parameters: {
        n_estimators: 2000,
        max_depth: { optimize: true, fixed_value: 3, lower_bound: 2, upper_bound: 8 },
        learning_rate: 0.01,
      },
      optimizer_name: "OptunaOptimizer",
      optimizer_parameters: { n_trials: 1000 },
    });
    const job = await enqueueForm(t, { job_type: "ModelJob", kwargs: JSON.stringify({ run_id: run.id }) });
    expect(job.status).toBe(201);
    expect((await dash.get(`/api/v1/run/${run.id}`)).body.status).toBeGreaterThanOrEqual(1);
    // Queued or running: a second ModelJob for the same run is a conflict.
    expect(
      (await enqueueForm(t, { job_type: "ModelJob", kwargs: JSON.stringify({ run_id: run.id }) })).status,
    ).toBe(409);
    for (;;) {
      const status = (await dash.get(`/api/v1/job/status/${job.body.id}`)).body;
      if (status.status === "finished") throw new Error("the training finished before it could be cancelled");
      if (status.status === "started" && status.progress > 1) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await dash.del(`/api/v1/job/${job.body.id}`)).status).toBe(204);
    const done = await waitForJob(t, job.body.id);
    expect(done.status).toBe("cancelled");
    const row = (await dash.get(`/api/v1/run/${run.id}`)).body;
    expect(row).toMatchObject({ status: 4, train_metrics: null, onnx_path: null });
    expect((await dash.get(`/api/v1/run/${run.id}/onnx`)).status).toBe(404);
  });
});

describe("hyperparameter search", () => {
  it("searches with TPE, retrains the best parameters, serves the four plots and logs the run to tracking", async () => {
    const { dash } = clients(t);
    const run = await createRun({
      model_name: "DecisionTreeClassifier",
      name: "tree search",
      parameters: {
        max_depth: { optimize: true, fixed_value: 3, lower_bound: 1, upper_bound: 8 },
        min_samples_split: { optimize: true, fixed_value: 2, lower_bound: 2, upper_bound: 20 },
      },
      optimizer_name: "OptunaOptimizer",
      optimizer_parameters: { n_trials: 12, sampler: "TPESampler" },
      goal_metric: "Accuracy",
    });
    expect((await train(run.id)).status).toBe("finished");
    const done = (await dash.get(`/api/v1/run/${run.id}`)).body;
    expect(done.trials).toHaveLength(12);
    expect(done.trials[0]).toMatchObject({ number: 0, state: "COMPLETE", params: expect.any(Object) });
    const best = Math.max(...done.trials.map((trial: any) => trial.value));
    expect(best).toBeGreaterThanOrEqual(0.86);
    expect(Object.keys(done.best_parameters)).toEqual(
      expect.arrayContaining(["max_depth", "min_samples_split"]),
    );
    // The best trial's parameters were retrained.
    const bestTrial = done.trials.find((trial: any) => trial.value === best);
    expect(done.best_parameters.max_depth).toBe(bestTrial.params.max_depth);
    expect(done.test_metrics.Accuracy).toBeGreaterThanOrEqual(0.8);
    expect(done.plot_history_path).toBe(`/api/v1/run/plot/${run.id}/history`);

    const history = await dash.get(`/api/v1/run/plot/${run.id}/history`);
    expect(history.status).toBe(200);
    expect(history.body.data[0].y).toHaveLength(12);
    expect(history.body.layout).toEqual(expect.any(Object));
    for (const type of ["slice", "contour", "importance"]) {
      const plot = await dash.get(`/api/v1/run/plot/${run.id}/${type}`);
      expect(plot.status, `${type}: ${plot.text}`).toBe(200);
      expect(plot.body.data.length).toBeGreaterThan(0);
    }
    expect((await dash.get(`/api/v1/run/plot/${run.id}/pie`)).status).toBe(422);

    // Tracking: project lab-<session name>, the run's config, final metrics and one point per trial.
    const project = "lab-iris_experiments";
    const runs = await dash.get(`/api/projects/${project}/runs`);
    expect(runs.status, runs.text).toBe(200);
    const tracked = runs.body.find((r: any) => r.name === `${run.id}-tree_search`);
    expect(tracked, JSON.stringify(runs.body)).toBeDefined();
    const metrics = await dash.get(`/api/projects/${project}/runs/${run.id}-tree_search/metrics`);
    expect(metrics.status, metrics.text).toBe(200);
    expect(metrics.body.metrics["trial/Accuracy"].values).toHaveLength(12);
    expect(metrics.body.metrics["test/Accuracy"].values[0]).toBeCloseTo(done.test_metrics.Accuracy, 10);
  });

  it("contour and importance need two searched parameters (422); history and slice work with one", async () => {
    const { dash } = clients(t);
    const run = await createRun({
      model_name: "KNeighborsClassifier",
      name: "knn search",
      parameters: { n_neighbors: { optimize: true, lower_bound: 1, upper_bound: 15 } },
      optimizer_name: "OptunaOptimizer",
      optimizer_parameters: { n_trials: 5, sampler: "RandomSampler" },
      goal_metric: "F1",
    });
    expect((await train(run.id)).status).toBe("finished");
    expect((await dash.get(`/api/v1/run/plot/${run.id}/history`)).status).toBe(200);
    expect((await dash.get(`/api/v1/run/plot/${run.id}/slice`)).status).toBe(200);
    for (const type of ["contour", "importance"]) {
      const plot = await dash.get(`/api/v1/run/plot/${run.id}/${type}`);
      expect(plot.status).toBe(422);
      expect(plot.body.detail).toMatch(/2|two/);
    }
  });
});
