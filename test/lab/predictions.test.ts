// Predictions through the documented routes over real HTTP: the preview form, persisted predictions as
// PredictJobs (dataset, split, rows typed in) with their results, CSV download and delete, filter_datasets,
// the .onnx download, a user's ONNX model uploaded as a run, and predictions from the ONNX files equal to the
// in-process model's for linear and tree models, classification and regression (the downloaded .onnx of
// each trained run is uploaded back as a run and both predict the same new rows).
import { existsSync } from "node:fs";
import { join } from "node:path";
import onnxProto from "onnx-proto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { call, clients, enqueueForm, uploadDataset, waitForJob } from "./helpers.js";

let t: TestServer;
let mix: { id: number };
let fresh: { id: number };
let other: { id: number };
let cls: { id: number; split_sizes: { test: number } };
let reg: { id: number };
const trained: Record<string, { id: number; onnx_path: string | null }> = {};

const COLORS = ["red", "green", "blue"];
/** Rows of x1 (float), x2 (integer), color (categorical), label (3 classes) and y (a number); seeded. */
function rows(n: number, seed: number, withTargets = true) {
  let s = seed;
  const rand = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const lines = [withTargets ? "x1,x2,color,label,y" : "x1,x2,color"];
  for (let i = 0; i < n; i++) {
    const x1 = Number((rand() * 10).toFixed(3));
    const x2 = Math.floor(rand() * 5);
    const color = COLORS[Math.floor(rand() * 3)]!;
    // A few missing values, imputed by the recorded preprocessing.
    const x1Cell = i % 17 === 5 ? "" : String(x1);
    const colorCell = i % 13 === 7 ? "" : color;
    const label = x1 + (color === "red" ? 3 : 0) > 7 ? "high" : x2 > 2 ? "mid" : "low";
    const y = (2 * x1 + 3 * x2 + (color === "blue" ? 5 : 0) + rand()).toFixed(3);
    lines.push(withTargets ? `${x1Cell},${x2},${colorCell},${label},${y}` : `${x1Cell},${x2},${colorCell}`);
  }
  return lines.join("\n");
}

async function post(path: string, body: unknown) {
  return clients(t).dash.post(path, body);
}

/** POST /api/v1/predict/preview as DashAI's frontend sends it (multipart form). */
async function preview(fields: Record<string, string>) {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  return call(t, "/api/v1/predict/preview", {
    method: "POST",
    headers: { authorization: t.dashboardAuth },
    body: form,
  });
}

async function trainRun(sessionId: number, model: string, parameters: Record<string, unknown> = {}) {
  const run = await post("/api/v1/run/", {
    model_session_id: sessionId,
    model_name: model,
    name: model,
    parameters,
  });
  expect(run.status, run.text).toBe(201);
  const job = await enqueueForm(t, { job_type: "ModelJob", kwargs: JSON.stringify({ run_id: run.body.id }) });
  expect(job.status, job.text).toBe(201);
  expect((await waitForJob(t, job.body.id, 60_000)).status).toBe("finished");
  return (await clients(t).dash.get(`/api/v1/run/${run.body.id}`)).body;
}

async function uploadOnnx(fields: Record<string, string>, file?: { name: string; bytes: Uint8Array }) {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  if (file) form.append("file", new Blob([file.bytes as BlobPart]), file.name);
  return call(t, "/api/v1/run/onnx", {
    method: "POST",
    headers: { authorization: t.dashboardAuth },
    body: form,
  });
}

async function download(path: string): Promise<Uint8Array> {
  const res = await fetch(`${t.url}${path}`, { headers: { authorization: t.dashboardAuth } });
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}

/** Creates a prediction, runs its PredictJob, returns the finished prediction and all its results. */
async function predictPersisted(body: Record<string, unknown>, manual?: unknown) {
  const { dash } = clients(t);
  const created = await post("/api/v1/predict/", body);
  expect(created.status, created.text).toBe(201);
  expect(created.body).toMatchObject({ status: 0, results_path: null });
  const kwargs: Record<string, unknown> = { prediction_id: created.body.id };
  if (manual !== undefined) kwargs.manual_input_data = JSON.stringify(manual);
  const job = await enqueueForm(t, { job_type: "PredictJob", kwargs: JSON.stringify(kwargs) });
  expect(job.status, job.text).toBe(201);
  const status = await waitForJob(t, job.body.id);
  expect(status.status, JSON.stringify(status)).toBe("finished");
  expect(status.progress).toBe(100);
  const prediction = (await dash.get(`/api/v1/predict/${created.body.id}`)).body;
  expect(prediction).toMatchObject({ status: 3, job_id: job.body.id });
  const results = await dash.get(`/api/v1/predict/results/${created.body.id}?limit=1000`);
  expect(results.status, results.text).toBe(200);
  return { prediction, results: results.body as { columns: string[]; rows: unknown[][]; total: number } };
}

beforeAll(async () => {
  t = await startTestServer();
  mix = await uploadDataset(t, "mix", { name: "mix.csv", content: rows(150, 1) });
  fresh = await uploadDataset(t, "mix-new", { name: "mix-new.csv", content: rows(40, 99, false) });
  // x1 as text: not the schema the runs were trained on.
  other = await uploadDataset(t, "other", {
    name: "other.csv",
    content: "x1,x2,color\nabc,1,red\ndef,2,blue\n",
  });
  const inputs = ["x1", "x2", "color"];
  const s1 = await post("/api/v1/model-session/", {
    dataset_id: mix.id,
    task_name: "TabularClassificationTask",
    name: "mix-labels",
    input_columns: inputs,
    output_columns: ["label"],
  });
  expect(s1.status, s1.text).toBe(201);
  cls = s1.body;
  const s2 = await post("/api/v1/model-session/", {
    dataset_id: mix.id,
    task_name: "RegressionTask",
    name: "mix-values",
    input_columns: inputs,
    output_columns: ["y"],
  });
  expect(s2.status, s2.text).toBe(201);
  reg = s2.body;
  trained.logistic = await trainRun(cls.id, "LogisticRegression");
  trained.forest = await trainRun(cls.id, "RandomForestClassifier", { n_estimators: 10, max_depth: 6 });
  trained.ridge = await trainRun(reg.id, "RidgeRegression");
  trained.boosting = await trainRun(reg.id, "GradientBoostingR", { n_estimators: 20, max_depth: 3 });
}, 180_000);

afterAll(async () => {
  await t?.close();
});

describe("predict: preview", () => {
  it("predicts rows typed in (labels and probabilities), stores nothing", async () => {
    const { dash } = clients(t);
    const res = await preview({
      run_id: String(trained.forest!.id),
      manual_input_data: JSON.stringify([
        { x1: 9.5, x2: 0, color: "red" },
        { x1: "1.2", x2: 4, color: "green", label: "ignored" },
        { x1: null, x2: 1, color: "purple" },
      ]),
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.columns).toEqual([
      "x1",
      "x2",
      "color",
      "label",
      "probability(high)",
      "probability(low)",
      "probability(mid)",
    ]);
    expect(res.body.rows).toHaveLength(3);
    expect(res.body.rows[0].slice(0, 4)).toEqual([9.5, 0, "red", "high"]);
    expect(res.body.rows[1].slice(0, 4)).toEqual([1.2, 4, "green", "mid"]);
    expect(res.body.rows[2][0]).toBeNull();
    for (const row of res.body.rows) {
      const p = row.slice(4) as number[];
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    }
    expect((await dash.get(`/api/v1/run/${trained.forest!.id}/operations/count`)).body.predictions).toBe(0);
    // Urlencoded, and with the trailing slash, as well.
    const urlencoded = await call(t, "/api/v1/predict/preview/", {
      method: "POST",
      headers: { authorization: t.dashboardAuth, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        run_id: String(trained.ridge!.id),
        manual_input_data: JSON.stringify([{ x1: 1, x2: 1, color: "blue" }]),
      }).toString(),
    });
    expect(urlencoded.status, urlencoded.text).toBe(200);
    expect(urlencoded.body.columns).toEqual(["x1", "x2", "color", "y"]);
    expect(typeof urlencoded.body.rows[0][3]).toBe("number");
  });

  it("answers 422 naming the problem, 404 for an unknown run", async () => {
    const run = String(trained.logistic!.id);
    const cases: [Record<string, string>, number, RegExp][] = [
      [{ manual_input_data: "[]" }, 422, /run_id/],
      [{ run_id: run }, 422, /manual_input_data/],
      [{ run_id: run, manual_input_data: "{not json" }, 422, /not valid JSON/],
      [{ run_id: run, manual_input_data: "[]" }, 422, /non-empty array/],
      [
        { run_id: run, manual_input_data: '[{"x1":1,"x2":1,"color":"red","shape":"round"}]' },
        422,
        /Unknown column "shape"/,
      ],
      [{ run_id: run, manual_input_data: '[{"x1":1,"color":"red"}]' }, 422, /input column "x2"/],
      [
        { run_id: run, manual_input_data: '[{"x1":"ten","x2":1,"color":"red"}]' },
        422,
        /Column "x1": "ten" in row 0 is not a number/,
      ],
      [{ run_id: "99999", manual_input_data: '[{"x1":1,"x2":1,"color":"red"}]' }, 404, /Run 99999/],
    ];
    for (const [fields, status, message] of cases) {
      const res = await preview(fields);
      expect(res.status, `${JSON.stringify(fields)}: ${res.text}`).toBe(status);
      expect(typeof res.body.detail === "string" ? res.body.detail : JSON.stringify(res.body)).toMatch(
        message,
      );
      expect(res.text).not.toMatch(/at .*\.ts:\d+/);
    }
    const untrained = await post("/api/v1/run/", {
      model_session_id: cls.id,
      model_name: "LogisticRegression",
      name: "untrained",
    });
    const res = await preview({
      run_id: String(untrained.body.id),
      manual_input_data: '[{"x1":1,"x2":1,"color":"red"}]',
    });
    expect(res.status).toBe(422);
    expect(res.body.detail).toMatch(/not trained/);
    expect((await post("/api/v1/predict/", { run_id: untrained.body.id, dataset_id: fresh.id })).status).toBe(
      422,
    );
    const json = await post("/api/v1/predict/preview", {
      run_id: run,
      manual_input_data: '[{"x1":1,"x2":1,"color":"red"}]',
    });
    expect(json.status, json.text).toBe(200);
  });
});

describe("predict: persisted predictions", () => {
  it("filter_datasets lists only schema-compatible datasets; an incompatible dataset is a 422", async () => {
    const { dash } = clients(t);
    const res = await dash.get(`/api/v1/predict/filter_datasets?run_id=${trained.forest!.id}`);
    expect(res.status, res.text).toBe(200);
    expect(res.body.valid_dataset_ids).toContain(mix.id);
    expect(res.body.valid_dataset_ids).toContain(fresh.id);
    expect(res.body.valid_dataset_ids).not.toContain(other.id);
    const bySession = await dash.get(`/api/v1/predict/filter_datasets?model_session_id=${reg.id}`);
    expect(bySession.body.valid_dataset_ids.sort()).toEqual(res.body.valid_dataset_ids.sort());
    expect((await dash.get("/api/v1/predict/filter_datasets?run_id=99999")).status).toBe(404);
    expect((await dash.get("/api/v1/predict/filter_datasets")).status).toBe(422);
    const bad = await post("/api/v1/predict/", { run_id: trained.forest!.id, dataset_id: other.id });
    expect(bad.status).toBe(422);
    expect(bad.body.detail).toMatch(
      /Column "x1" of dataset \d+ is (text|categorical); the run was trained on float/,
    );
    expect((await post("/api/v1/predict/", { run_id: trained.forest!.id, dataset_id: 99999 })).status).toBe(
      404,
    );
    expect((await post("/api/v1/predict/", { run_id: 99999, dataset_id: fresh.id })).status).toBe(404);
  });

  it("runs a PredictJob on a dataset: list, get, results, CSV download, operations count, delete", async () => {
    const { dash } = clients(t);
    const runId = trained.logistic!.id;
    const { prediction, results } = await predictPersisted({ run_id: runId, dataset_id: fresh.id });
    expect(prediction).toMatchObject({
      run_id: runId,
      dataset_id: fresh.id,
      split: null,
      rows: 40,
      results_path: `/api/v1/predict/download/${prediction.id}`,
    });
    expect(results.total).toBe(40);
    expect(results.columns.slice(0, 4)).toEqual(["x1", "x2", "color", "label"]);
    expect(new Set(results.rows.map((r) => r[3]))).toEqual(new Set(["high", "mid", "low"]));
    // The same rows through the preview give the same predictions.
    const cells = (await dash.get(`/api/v1/dataset/filter/?path=datasets/${fresh.id}&page=0&page_size=40`))
      .body.rows;
    const same = await preview({ run_id: String(runId), manual_input_data: JSON.stringify(cells) });
    expect(same.body.rows).toEqual(results.rows);

    const listed = await dash.get(`/api/v1/predict/?run_id=${runId}`);
    expect(listed.body.map((p: { id: number }) => p.id)).toContain(prediction.id);
    expect((await dash.get(`/api/v1/predict?prediction_id=${prediction.id}`)).body).toHaveLength(1);
    expect((await dash.get(`/api/v1/run/${runId}/operations/count`)).body.predictions).toBe(1);
    const page = await dash.get(`/api/v1/predict/results/${prediction.id}?offset=38&limit=10`);
    expect(page.body.rows).toEqual(results.rows.slice(38));

    const csv = await fetch(`${t.url}/api/v1/predict/download/${prediction.id}`, {
      headers: { authorization: t.dashboardAuth },
    });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("content-disposition")).toBe(
      `attachment; filename="prediction-${prediction.id}.csv"`,
    );
    const lines = (await csv.text()).trim().split("\n");
    expect(lines).toHaveLength(41);
    expect(lines[0]).toBe("x1,x2,color,label,probability(high),probability(low),probability(mid)");

    const file = join(t.config.lab.dataDir, "predictions", `${prediction.id}.json`);
    expect(existsSync(file)).toBe(true);
    expect((await dash.del(`/api/v1/predict/${prediction.id}`)).status).toBe(204);
    expect(existsSync(file)).toBe(false);
    expect((await dash.get(`/api/v1/predict/${prediction.id}`)).status).toBe(404);
    expect((await dash.del(`/api/v1/predict/${prediction.id}`)).status).toBe(404);
    expect((await dash.get(`/api/v1/predict/download/${prediction.id}`)).status).toBe(404);
    expect((await dash.get(`/api/v1/run/${runId}/operations/count`)).body.predictions).toBe(0);
  });

  it("predicts a split of the training dataset and rows typed in through a PredictJob", async () => {
    const { dash } = clients(t);
    const splits = await dash.get(`/api/v1/predict/splits/${trained.forest!.id}`);
    expect(splits.status, splits.text).toBe(200);
    expect(splits.body.training_dataset_id).toBe(mix.id);
    const test = splits.body.splits.find((s: { name: string }) => s.name === "test");
    expect(test.rows).toBe(cls.split_sizes.test);
    const { prediction } = await predictPersisted({ run_id: trained.forest!.id, split: "test" });
    expect(prediction).toMatchObject({ split: "test", rows: test.rows });

    const manual = await predictPersisted({ run_id: trained.ridge!.id }, [
      { x1: 1, x2: 2, color: "blue" },
      { x1: 5, x2: 0, color: "red" },
    ]);
    expect(manual.prediction).toMatchObject({ manual_input: true, rows: 2, dataset_id: null });
    expect(manual.results.columns).toEqual(["x1", "x2", "color", "y"]);

    // A PredictJob with bad kwargs, an unknown or busy prediction, bad rows: refused before queueing.
    const noSource = await post("/api/v1/predict/", { run_id: trained.forest!.id });
    const cases: [Record<string, unknown>, number][] = [
      [{}, 422],
      [{ prediction_id: 99999 }, 404],
      [{ prediction_id: noSource.body.id }, 422],
      [{ prediction_id: noSource.body.id, manual_input_data: '[{"nope":1}]' }, 422],
    ];
    for (const [kwargs, status] of cases) {
      const res = await enqueueForm(t, { job_type: "PredictJob", kwargs: JSON.stringify(kwargs) });
      expect(res.status, `${JSON.stringify(kwargs)}: ${res.text}`).toBe(status);
    }
    expect((await post("/api/v1/predict/", { run_id: trained.forest!.id, split: "holdout" })).status).toBe(
      422,
    );
    // A results read before the prediction ran.
    expect((await dash.get(`/api/v1/predict/results/${noSource.body.id}`)).status).toBe(422);
    expect((await dash.get(`/api/v1/predict/download/${noSource.body.id}`)).status).toBe(422);
  });
});

describe("predict: ONNX", () => {
  it("offers each trained run's .onnx, and its predictions equal the in-process model's", async () => {
    const { dash } = clients(t);
    for (const [key, run] of Object.entries(trained)) {
      expect(run.onnx_path, key).toBe(`/api/v1/run/${run.id}/onnx`);
      const bytes = await download(run.onnx_path!);
      const model = onnxProto.onnx.ModelProto.decode(bytes);
      expect(model.graph!.input!.map((i) => i.name)).toEqual(["x1", "x2", "color"]);
      const session = key === "logistic" || key === "forest" ? cls : reg;
      const uploaded = await uploadOnnx(
        { model_session_id: String(session.id), name: `${key}-onnx` },
        { name: `${key}.onnx`, bytes },
      );
      expect(uploaded.status, uploaded.text).toBe(201);
      expect(uploaded.body).toMatchObject({
        source: "onnx",
        status: 3,
        onnx_path: `/api/v1/run/${uploaded.body.id}/onnx`,
      });
      expect(await download(uploaded.body.onnx_path)).toEqual(bytes);

      const inProcess = await predictPersisted({ run_id: run.id, dataset_id: fresh.id });
      const served = await predictPersisted({ run_id: uploaded.body.id, dataset_id: fresh.id });
      expect(served.results.columns, key).toEqual(inProcess.results.columns);
      expect(served.results.total).toBe(40);
      for (let i = 0; i < 40; i++) {
        const a = inProcess.results.rows[i]!;
        const b = served.results.rows[i]!;
        expect(b.slice(0, 3)).toEqual(a.slice(0, 3));
        if (session === cls) {
          expect(b[3], `${key} row ${i}`).toBe(a[3]);
          for (let c = 4; c < a.length; c++)
            expect(Math.abs((b[c] as number) - (a[c] as number))).toBeLessThan(1e-5);
        } else {
          const [x, y] = [a[3] as number, b[3] as number];
          expect(Math.abs(x - y) / Math.max(1, Math.abs(x)), `${key} row ${i}`).toBeLessThan(1e-5);
        }
      }
      // The preview of the uploaded run answers too.
      const res = await preview({
        run_id: String(uploaded.body.id),
        manual_input_data: JSON.stringify([{ x1: 3, x2: 1, color: "green" }]),
      });
      expect(res.status, res.text).toBe(200);
      // An uploaded run has nothing to train, and no training splits.
      const train = await enqueueForm(t, {
        job_type: "ModelJob",
        kwargs: JSON.stringify({ run_id: uploaded.body.id }),
      });
      expect(train.status).toBe(422);
      expect((await post("/api/v1/predict/", { run_id: uploaded.body.id, split: "test" })).status).toBe(422);
      await dash.del(`/api/v1/run/${uploaded.body.id}`);
    }
  });

  it("uploads a user's ONNX model as a run; a bad file or a model of the other task is a 422", async () => {
    const { dash } = clients(t);
    const bytes = await download(trained.ridge!.onnx_path!);
    const cases: [Record<string, string>, { name: string; bytes: Uint8Array } | undefined, number, RegExp][] =
      [
        [
          { model_session_id: String(reg.id), name: "junk" },
          { name: "x.onnx", bytes: new TextEncoder().encode("not a model") },
          422,
          /Unusable ONNX model: not a loadable ONNX model/,
        ],
        [{ model_session_id: String(reg.id), name: "empty" }, undefined, 422, /file is missing/],
        [
          { model_session_id: String(cls.id), name: "wrong task" },
          { name: "r.onnx", bytes },
          422,
          /TabularClassificationTask/,
        ],
        [{ model_session_id: "99999", name: "x" }, { name: "r.onnx", bytes }, 404, /99999/],
        [{ model_session_id: String(reg.id), name: " " }, { name: "r.onnx", bytes }, 422, /name/],
      ];
    for (const [fields, file, status, message] of cases) {
      const res = await uploadOnnx(fields, file);
      expect(res.status, `${fields.name}: ${res.text}`).toBe(status);
      expect(typeof res.body.detail === "string" ? res.body.detail : JSON.stringify(res.body)).toMatch(
        message,
      );
    }
    const before = (await dash.get(`/api/v1/run/?model_session_id=${reg.id}`)).body.length;
    const ok = await uploadOnnx(
      { model_session_id: String(reg.id), name: "my model", description: "from a notebook" },
      { name: "mine.onnx", bytes },
    );
    expect(ok.status, ok.text).toBe(201);
    expect(ok.body).toMatchObject({
      name: "my model",
      description: "from a notebook",
      parameters: { file_name: "mine.onnx" },
    });
    expect((await dash.get(`/api/v1/run/?model_session_id=${reg.id}`)).body.length).toBe(before + 1);
    const res = await preview({
      run_id: String(ok.body.id),
      manual_input_data: JSON.stringify([{ x1: 2, x2: 3, color: "blue" }]),
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.rows[0][3]).toBeGreaterThan(10);
    // A run without an ONNX file: 404 on the download.
    const knn = await trainRun(cls.id, "KNeighborsClassifier");
    expect(knn.onnx_path).toBeNull();
    expect((await dash.get(`/api/v1/run/${knn.id}/onnx`)).status).toBe(404);
    expect((await dash.get("/api/v1/run/99999/onnx")).status).toBe(404);
  });
});

describe("deleting a model session or its dataset", () => {
  it("removes the files of its runs (model, onnx) and of their predictions", async () => {
    const { dash } = clients(t);
    const runFiles = (runId: number) => join(t.config.lab.dataDir, "runs", String(runId));
    const predictionFile = (id: number) => join(t.config.lab.dataDir, "predictions", `${id}.json`);
    /** A session on `datasetId` with a trained logistic run and a finished prediction; their files exist. */
    const populate = async (datasetId: number, name: string) => {
      const session = await post("/api/v1/model-session/", {
        dataset_id: datasetId,
        task_name: "TabularClassificationTask",
        name,
        input_columns: ["x1", "x2", "color"],
        output_columns: ["label"],
      });
      expect(session.status, session.text).toBe(201);
      const run = await trainRun(session.body.id, "LogisticRegression");
      const { prediction } = await predictPersisted({ run_id: run.id, split: "test" });
      for (const file of ["model.json", "model.onnx"])
        expect(existsSync(join(runFiles(run.id), file)), file).toBe(true);
      expect(existsSync(predictionFile(prediction.id))).toBe(true);
      return { session: session.body, run, prediction };
    };

    const a = await populate(mix.id, "to-delete");
    expect((await dash.del(`/api/v1/model-session/${a.session.id}`)).status).toBe(204);
    expect((await dash.get(`/api/v1/run/${a.run.id}`)).status).toBe(404);
    expect(existsSync(runFiles(a.run.id))).toBe(false);
    expect(existsSync(predictionFile(a.prediction.id))).toBe(false);

    const copy = await post("/api/v1/dataset/copy", { dataset_id: mix.id });
    expect(copy.status, copy.text).toBe(201);
    const b = await populate(copy.body.id, "on-a-copy");
    expect((await dash.del(`/api/v1/dataset/${copy.body.id}`)).status).toBe(204);
    expect((await dash.get(`/api/v1/model-session/${b.session.id}`)).status).toBe(404);
    expect(existsSync(runFiles(b.run.id))).toBe(false);
    expect(existsSync(predictionFile(b.prediction.id))).toBe(false);
    // The other sessions' runs keep theirs.
    expect(existsSync(join(runFiles(trained.forest!.id), "model.json"))).toBe(true);
  });
});
