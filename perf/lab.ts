// Lab benchmarks (issue 21 point 10; figures in docs/lab.md): `npm run perf -- lab [--rows N] [--upload-rows N] [--explain-rows N]`.
//  1. Random forest, gradient boosting and logistic regression trained with the lab engine (`train`), on
//     (a) generated data (100,000 rows × 20 features by default, fixed seed) and (b) the shipped
//     breast-cancer set, against scikit-learn on the same train/test split in the same run (Debian's
//     /usr/bin/python3 with python3-sklearn, single-threaded like ours): training time ratio ours/sklearn
//     (target ≤ 3×), test accuracy difference (target within 1 point), and batch prediction of the test rows
//     through the exported ONNX model (OnnxPredictor) against sklearn's `predict` (target ≥ 1×).
//  2. Explainers (issue 22 point 9), random forest and logistic regression on generated data
//     (`--explain-rows`, 5,000 by default): our permutation importance against scikit-learn's
//     `permutation_importance` on the same split, hyperparameters and repeats (time ratio ours/sklearn, how many of
//     the 5 most important features agree), and our KernelSHAP against `shap.KernelExplainer` when that package
//     is importable (a printed line says when it is not) and against sklearn's predict_proba on as many rows
//     as our KernelSHAP predicted (the cost floor of any KernelSHAP with that model).
//  3. Upload and type inference of a 1,000,000-row CSV through a started server over HTTP (the two
//     DashAI requests, then polling the job), in rows/s, against a bare line-and-field scan of the same file;
//     then the eight explorers on a notebook of it over HTTP (latency until the job finished, target ≤ 5 s).
// Uses DATABASE_URL when set (a throwaway schema), else embedded PGlite.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, mkdtempSync, openAsBlob, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { loadConfig } from "../src/config.js";
import { exportTrainedModelToOnnx } from "../src/modules/lab/engine/onnx/export.js";
import { OnnxPredictor } from "../src/modules/lab/engine/onnx/predictor.js";
import {
  inProcessModel,
  kernelShap,
  permutationImportance,
  sampleRows,
  takeRows,
} from "../src/modules/lab/engine/explain/index.js";
import { type Table, type TableColumn, train } from "../src/modules/lab/engine/index.js";
import { IN_MEMORY, openDatabase } from "../src/platform/db.js";
import { createLogger } from "../src/platform/logger.js";
import { MemoryStateStore } from "../src/platform/state/index.js";
import { createServer } from "../src/server.js";
import { fmt } from "./support.js";
import { missing, SKLEARN } from "./tools.js";

const run = promisify(execFile);
const SEED = 42;

function argValue(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  const raw = i >= 0 ? args[i + 1] : args.find((a) => a.startsWith(`${name}=`))?.split("=")[1];
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 100) throw new Error(`${name} takes a whole number ≥ 100, not "${raw}"`);
  return n;
}

/** mulberry32: a small seeded generator, so the generated data is the same in every run. */
function seeded(seed: number) {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal };
}

/** rows × 20 standard-normal features; the label mixes linear, interaction and non-linear terms plus noise. */
function generated(rows: number): Table {
  const rnd = seeded(SEED);
  const features = Array.from({ length: 20 }, () => new Float64Array(rows));
  const label = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    for (const f of features) f[i] = rnd.normal();
    const x = (k: number) => features[k]![i]!;
    const score =
      x(0) +
      0.8 * x(1) -
      0.6 * x(2) * x(3) +
      0.7 * Math.sin(3 * x(4)) +
      0.4 * (x(5) * x(5) - 1) +
      0.3 * x(6) +
      0.5 * rnd.normal();
    label[i] = score > 0 ? 1 : 0;
  }
  return {
    rowCount: rows,
    columns: [
      ...features.map((values, k): TableColumn => ({ name: `f${k}`, type: "float", values })),
      { name: "label", type: "integer", values: label },
    ],
  };
}

/** A shipped CSV with numeric inputs and a string class in the last column. */
function shipped(file: string): Table {
  const lines = readFileSync(file, "utf8").trim().split(/\r?\n/);
  const header = lines[0]!.split(",");
  const rows = lines.slice(1).map((line) => line.split(","));
  const last = header.length - 1;
  return {
    rowCount: rows.length,
    columns: header.map((name, c): TableColumn =>
      c === last
        ? { name, type: "categorical", values: rows.map((r) => r[c]!) }
        : { name, type: "float", values: Float64Array.from(rows, (r) => Number(r[c])) },
    ),
  };
}

function subset(table: Table, names: string[], rows: number[]): Table {
  return {
    rowCount: rows.length,
    columns: names.map((name): TableColumn => {
      const col = table.columns.find((c) => c.name === name)!;
      if (col.type === "categorical" || col.type === "text") {
        const values = col.values;
        return { name: col.name, type: col.type, values: rows.map((r) => values[r] ?? null) };
      }
      const values = col.values as Float64Array;
      return { name: col.name, type: col.type, values: Float64Array.from(rows, (r) => values[r]!) };
    }),
  };
}

/** The same hyperparameters on both sides (scikit-learn's names; the engine takes them as they are). */
const MODELS = [
  { name: "RandomForestClassifier", params: { n_estimators: 50, max_depth: 16, max_features: "sqrt" } },
  { name: "GradientBoostingClassifier", params: { n_estimators: 100, learning_rate: 0.1, max_depth: 3 } },
  { name: "LogisticRegression", params: { C: 1, max_iter: 200 } },
] as const;

// One Python process per data set: the split comes from the CSV's `split` column (0 train, 1 test), the
// label is the class index in the engine's class order. Predict: warm-up, then the median of 5 runs.
const PYTHON = String.raw`
import json, sys, time
import numpy as np
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
data = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
specs = json.loads(sys.argv[2])
x, y, split = data[:, :-2], data[:, -2].astype(int), data[:, -1]
xtr, ytr, xte, yte = x[split == 0], y[split == 0], x[split == 1], y[split == 1]
for spec in specs:
    p = spec["params"]
    if spec["name"] == "RandomForestClassifier":
        m = RandomForestClassifier(n_jobs=1, random_state=42, **p)
    elif spec["name"] == "GradientBoostingClassifier":
        m = GradientBoostingClassifier(random_state=42, **p)
    else:  # the engine standardizes the inputs of linear models: the same here
        m = make_pipeline(StandardScaler(), LogisticRegression(**p))
    t = time.perf_counter(); m.fit(xtr, ytr); fit = time.perf_counter() - t
    m.predict(xte)
    runs = []
    for _ in range(5):
        t = time.perf_counter(); pred = m.predict(xte); runs.append(time.perf_counter() - t)
    runs.sort()
    print(json.dumps({"name": spec["name"], "fit_s": fit, "accuracy": float((pred == yte).mean()), "predict_s": runs[2]}), flush=True)
`;

interface PyResult {
  name: string;
  fit_s: number;
  accuracy: number;
  predict_s: number;
}

interface Row {
  data: string;
  model: string;
  timeRatio: number;
  accuracyPoints: number;
  predictRatio: number;
}

/** The split for Python: inputs, class index (in the engine's class order), split flag (0 train, 1 test). */
async function writeSplitCsv(
  csv: string,
  table: Table,
  split: { train: number[]; test: number[] },
  classes: string[],
): Promise<void> {
  const inputs = table.columns.slice(0, -1).map((c) => c.name);
  const out = createWriteStream(csv);
  out.write(`${inputs.join(",")},y,split\n`);
  const targetCol = table.columns.at(-1)!;
  const classIndex = (r: number) => {
    const v = targetCol.values[r];
    return classes.indexOf(typeof v === "number" ? String(v) : (v as string));
  };
  const cols = table.columns.slice(0, -1).map((c) => c.values as Float64Array);
  for (const [flag, rows] of [
    [0, split.train],
    [1, split.test],
  ] as const) {
    for (const r of rows) {
      let line = "";
      for (const c of cols) line += `${c[r]},`;
      if (!out.write(`${line}${classIndex(r)},${flag}\n`))
        await new Promise<void>((ok) => out.once("drain", () => ok()));
    }
  }
  await new Promise<void>((ok, ko) => out.end((error?: Error | null) => (error ? ko(error) : ok())));
  if (split.test.some((r) => classIndex(r) < 0)) throw new Error("a label is not among the engine's classes");
}

async function compare(label: string, table: Table, dir: string): Promise<Row[]> {
  const target = table.columns.at(-1)!.name;
  const inputs = table.columns.slice(0, -1).map((c) => c.name);
  console.log(
    `\n${label}: ${fmt(table.rowCount)} rows × ${inputs.length} features, split 80/20 (seed ${SEED})`,
  );
  const ours: { name: string; fitS: number; accuracy: number; predictS: number }[] = [];
  let split: { train: number[]; test: number[] } | undefined;
  let classes: string[] = [];
  for (const model of MODELS) {
    const started = performance.now();
    const result = train(table, {
      model: model.name,
      params: { ...model.params },
      task: "TabularClassificationTask",
      inputColumns: inputs,
      outputColumn: target,
      splits: { train: 0.8, validation: 0, test: 0.2 },
      seed: SEED,
      metrics: ["Accuracy"],
    });
    const fitS = (performance.now() - started) / 1000;
    split ??= { train: result.splits.train, test: result.splits.test };
    classes = result.trained.classes ?? [];
    const onnx = await OnnxPredictor.load(exportTrainedModelToOnnx(result.trained), inputs, {
      inputColumns: inputs,
    });
    const testTable = subset(table, inputs, split.test);
    await onnx.predict(testTable);
    const runs: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      await onnx.predict(testTable);
      runs.push((performance.now() - t) / 1000);
    }
    runs.sort((a, b) => a - b);
    ours.push({
      name: model.name,
      fitS,
      accuracy: result.metrics.test.Accuracy ?? Number.NaN,
      predictS: runs[2]!,
    });
  }

  const csv = join(dir, `${label.replace(/\W+/g, "_")}.csv`);
  await writeSplitCsv(csv, table, split!, classes);

  const { stdout } = await run(SKLEARN.bin, ["-c", PYTHON, csv, JSON.stringify(MODELS)], {
    maxBuffer: 1 << 20,
    env: { ...process.env, OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1" },
  });
  const theirs = stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as PyResult);
  const testRows = split!.test.length;
  const rows: Row[] = [];
  for (const o of ours) {
    const s = theirs.find((t) => t.name === o.name)!;
    const row = {
      data: label,
      model: o.name,
      timeRatio: o.fitS / s.fit_s,
      accuracyPoints: (o.accuracy - s.accuracy) * 100,
      predictRatio: s.predict_s / o.predictS,
    };
    rows.push(row);
    console.log(
      `  ${o.name}: train ${fmt(o.fitS, 2)} s vs sklearn ${fmt(s.fit_s, 2)} s → ${fmt(row.timeRatio, 2)}× ${row.timeRatio <= 3 ? "(≤ 3×: met)" : "(target ≤ 3×: NOT met)"}`,
    );
    console.log(
      `    test accuracy ${fmt(o.accuracy * 100, 2)} % vs ${fmt(s.accuracy * 100, 2)} % → ${row.accuracyPoints >= 0 ? "+" : ""}${fmt(row.accuracyPoints, 2)} points ${Math.abs(row.accuracyPoints) <= 1 ? "(within 1: met)" : row.accuracyPoints > 1 ? "(better by more than 1)" : "(target within 1: NOT met)"}`,
    );
    console.log(
      `    predict ${fmt(testRows)} rows: ONNX ${fmt(testRows / o.predictS)} rows/s vs sklearn ${fmt(testRows / s.predict_s)} rows/s → ${fmt(row.predictRatio, 2)}× ${row.predictRatio >= 1 ? "(≥ 1×: met)" : "(target ≥ 1×: NOT met)"}`,
    );
  }
  return rows;
}

// ---- explainers: permutation importance and KernelSHAP against scikit-learn (and shap when importable) ----

const EXPLAIN_MODELS = [MODELS[0], MODELS[2]] as const;

// The same split and hyperparameters as ours; only the explainer calls are timed (warm model). KernelSHAP
// reference: shap.KernelExplainer when importable, and always predict_proba on as many rows as our KernelSHAP
// predicted (the floor any KernelSHAP spends with this model).
const EXPLAIN_PYTHON = String.raw`
import json, sys, time
import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
data = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
cfg = json.loads(sys.argv[2])
x, y, split = data[:, :-2], data[:, -2].astype(int), data[:, -1]
xtr, ytr, xte, yte = x[split == 0], y[split == 0], x[split == 1], y[split == 1]
try:
    import shap
    shap_version = shap.__version__
except Exception as e:
    shap, shap_version = None, None
for spec in cfg["models"]:
    p = spec["params"]
    if spec["name"] == "RandomForestClassifier":
        m = RandomForestClassifier(n_jobs=1, random_state=42, **p)
    else:
        m = make_pipeline(StandardScaler(), LogisticRegression(**p))
    m.fit(xtr, ytr)
    m.predict_proba(xte[:10])
    t = time.perf_counter()
    r = permutation_importance(m, xte, yte, scoring="accuracy", n_repeats=cfg["n_repeats"], random_state=0, n_jobs=1)
    pi = time.perf_counter() - t
    bg = xtr[np.random.RandomState(0).choice(len(xtr), cfg["background"], replace=False)]
    xs = xte[: cfg["instances"]]
    rows, done, t = spec["shap_rows"], 0, time.perf_counter()
    while done < rows:
        n = min(65536, rows - done)
        m.predict_proba(np.resize(bg, (n, bg.shape[1])))
        done += n
    floor = time.perf_counter() - t
    shap_s = None
    if shap is not None:
        t = time.perf_counter()
        shap.KernelExplainer(m.predict_proba, bg).shap_values(xs, nsamples=cfg["coalitions"], silent=True)
        shap_s = time.perf_counter() - t
    print(json.dumps({"name": spec["name"], "permutation_s": pi, "importances_mean": r.importances_mean.tolist(),
                      "predict_floor_s": floor, "shap_s": shap_s, "shap_version": shap_version}), flush=True)
`;

interface ExplainPy {
  name: string;
  permutation_s: number;
  importances_mean: number[];
  predict_floor_s: number;
  shap_s: number | null;
  shap_version: string | null;
}

/** How many of the `k` most important features of `a` are among the `k` most important of `b`. */
function topShared(a: number[], b: number[], k: number): number {
  const top = (v: number[]) =>
    new Set(
      v
        .map((_, i) => i)
        .sort((i, j) => v[j]! - v[i]!)
        .slice(0, k),
    );
  const tb = top(b);
  return [...top(a)].filter((i) => tb.has(i)).length;
}

const EXPLAIN = { nRepeats: 5, background: 50, instances: 10, coalitions: 2048 } as const;

async function explainers(table: Table, dir: string): Promise<void> {
  const target = table.columns.at(-1)!.name;
  const inputs = table.columns.slice(0, -1).map((c) => c.name);
  console.log(
    `\nexplainers: generated ${fmt(table.rowCount)} rows × ${inputs.length} features, split 80/20; permutation importance on the test rows (n_repeats ${EXPLAIN.nRepeats}, Accuracy); KernelSHAP of ${EXPLAIN.instances} test rows, ${EXPLAIN.background} background rows of train, ${fmt(EXPLAIN.coalitions)} coalitions`,
  );
  const ours: { name: string; permutationS: number; means: number[]; shapS: number; shapRows: number }[] = [];
  let split: { train: number[]; test: number[] } | undefined;
  let classes: string[] = [];
  for (const spec of EXPLAIN_MODELS) {
    const result = train(table, {
      model: spec.name,
      params: { ...spec.params },
      task: "TabularClassificationTask",
      inputColumns: inputs,
      outputColumn: target,
      splits: { train: 0.8, validation: 0, test: 0.2 },
      seed: SEED,
      metrics: ["Accuracy"],
    });
    split ??= { train: result.splits.train, test: result.splits.test };
    classes = result.trained.classes ?? [];
    const model = inProcessModel(result.trained);
    const test = subset(table, [...inputs, target], split.test);
    await model.predict(takeRows(test, [0, 1, 2]));
    let started = performance.now();
    const importance = await permutationImportance(model, test, {
      target,
      metric: "Accuracy",
      nRepeats: EXPLAIN.nRepeats,
      seed: 0,
    });
    const permutationS = (performance.now() - started) / 1000;
    const background = subset(table, inputs, sampleRows(split.train, EXPLAIN.background, 0));
    const instances = subset(table, inputs, split.test.slice(0, EXPLAIN.instances));
    started = performance.now();
    const shap = await kernelShap(model, background, instances, {
      nSamples: EXPLAIN.coalitions,
      seed: 0,
    });
    const shapS = (performance.now() - started) / 1000;
    // Rows predicted: the background once, then per row itself and every coalition over the background.
    const shapRows = EXPLAIN.background + EXPLAIN.instances * (1 + shap.coalitions * EXPLAIN.background);
    ours.push({ name: spec.name, permutationS, means: importance.importances_mean, shapS, shapRows });
  }

  const csv = join(dir, "explain.csv");
  await writeSplitCsv(csv, table, split!, classes);
  const config = {
    models: EXPLAIN_MODELS.map((m, i) => ({ ...m, shap_rows: ours[i]!.shapRows })),
    n_repeats: EXPLAIN.nRepeats,
    background: EXPLAIN.background,
    instances: EXPLAIN.instances,
    coalitions: EXPLAIN.coalitions,
  };
  const { stdout } = await run(SKLEARN.bin, ["-c", EXPLAIN_PYTHON, csv, JSON.stringify(config)], {
    maxBuffer: 1 << 20,
    env: { ...process.env, OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1" },
  });
  const theirs = stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as ExplainPy);
  if (theirs[0]?.shap_version === null)
    console.log("  shap comparison SKIPPED: the shap package is not importable by " + SKLEARN.bin);
  for (const o of ours) {
    const s = theirs.find((t) => t.name === o.name)!;
    const ratio = o.permutationS / s.permutation_s;
    console.log(
      `  ${o.name}: permutation importance ${fmt(o.permutationS, 3)} s vs sklearn permutation_importance ${fmt(s.permutation_s, 3)} s → ${fmt(ratio, 2)}×; top 5 features by mean importance: ${topShared(o.means, s.importances_mean, 5)} of 5 shared`,
    );
    const floor = o.shapS / s.predict_floor_s;
    console.log(
      `    KernelSHAP ${fmt(o.shapS, 2)} s (${fmt(o.shapRows)} rows predicted) vs sklearn predict_proba on as many rows ${fmt(s.predict_floor_s, 2)} s → ${fmt(floor, 2)}×` +
        (s.shap_s === null
          ? ""
          : `; vs shap ${s.shap_version} KernelExplainer ${fmt(s.shap_s, 2)} s → ${fmt(o.shapS / s.shap_s, 2)}×`),
    );
  }
}

/** The eight explorers over HTTP on the uploaded dataset's notebook: POST, then the job polled to its end. */
const EXPLORERS: [string, string[]][] = [
  ["HistogramPlot", ["amount", "color"]],
  ["ScatterPlot", ["amount", "score", "color"]],
  ["BoxPlot", ["amount", "score"]],
  ["CorrelationMatrix", ["id", "amount", "score"]],
  ["DescribeExplorer", ["amount", "score", "color"]],
  ["ECDFPlot", ["score"]],
  ["ParallelCoordinatesPlot", ["id", "amount", "score"]],
  ["WordcloudExplorer", ["note"]],
];
const EXPLORER_TARGET_S = 5;

async function explore(url: string, auth: string, datasetId: number, rows: number): Promise<void> {
  const json = async (path: string, method = "GET", body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: auth, ...(body !== undefined && { "content-type": "application/json" }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  };
  let started = performance.now();
  const notebook = await json("/api/v1/notebook/", "POST", { dataset_id: datasetId, name: "bench" });
  console.log(
    `
explorers on ${fmt(rows)} rows (notebook created in ${fmt((performance.now() - started) / 1000, 2)} s: the dataset copied twice); latency = POST /api/v1/explorer/ until its job finished, target ≤ ${EXPLORER_TARGET_S} s`,
  );
  const latencies: number[] = [];
  for (const [type, columns] of EXPLORERS) {
    started = performance.now();
    const explorer = await json("/api/v1/explorer/", "POST", {
      notebook_id: notebook.id,
      exploration_type: type,
      columns,
      parameters: {},
    });
    for (;;) {
      const status = await json(`/api/v1/job/status/${String(explorer.job_id)}`);
      if (status.status === "finished") break;
      if (status.status === "error" || status.status === "cancelled")
        throw new Error(`${type}: the explorer job ${String(status.status)}: ${JSON.stringify(status)}`);
      await new Promise((ok) => setTimeout(ok, 20));
    }
    const s = (performance.now() - started) / 1000;
    latencies.push(s);
    console.log(
      `  ${type} (${columns.join(", ")}): ${fmt(s, 2)} s → ${fmt(s / EXPLORER_TARGET_S, 2)} of the target ${s <= EXPLORER_TARGET_S ? "(met)" : "(NOT met)"}`,
    );
  }
  console.log(
    `  all eight: ${fmt(
      latencies.reduce((a, b) => a + b, 0),
      2,
    )} s`,
  );
}

async function upload(rows: number, dir: string): Promise<void> {
  // A CSV with every inferred type: integer, float, categorical, boolean, datetime, text; a few gaps.
  const file = join(dir, "upload.csv");
  const out = createWriteStream(file);
  const rnd = seeded(7);
  const colors = ["red", "green", "blue", "yellow", "black"];
  out.write("id,amount,score,color,active,created,note\n");
  const t0 = Date.UTC(2024, 0, 1);
  for (let i = 0; i < rows; i++) {
    const amount = rnd.uniform() < 0.01 ? "" : (rnd.normal() * 100).toFixed(2);
    const line = `${i},${amount},${Math.floor(rnd.uniform() * 1000)},${colors[i % 5]},${i % 3 === 0 ? "true" : "false"},${new Date(t0 + i * 60_000).toISOString()},note ${(i * 7919) % 100_003}\n`;
    if (!out.write(line)) await new Promise<void>((ok) => out.once("drain", () => ok()));
  }
  await new Promise<void>((ok, ko) => out.end((error?: Error | null) => (error ? ko(error) : ok())));

  // Reference: a bare scan of the same file (lines split into fields, nothing typed or stored).
  let started = performance.now();
  let scanned = 0;
  let tail = "";
  for await (const chunk of createReadStream(file, { encoding: "utf8", highWaterMark: 1 << 20 })) {
    const lines = (tail + chunk).split("\n");
    tail = lines.pop()!;
    for (const line of lines) if (line.split(",").length > 0) scanned++;
  }
  const scanS = (performance.now() - started) / 1000;

  const log = createLogger("silent");
  const databaseUrl = process.env.DATABASE_URL;
  const schema = `bench_${randomBytes(6).toString("hex")}`;
  const db = await openDatabase(
    databaseUrl ? { databaseUrl, schema, logger: log } : { dataDir: IN_MEMORY, logger: log },
  );
  const password = randomBytes(12).toString("hex");
  const dataDir = mkdtempSync(join(tmpdir(), "hg-bench-lab-"));
  const config = loadConfig({
    NODE_ENV: "test",
    SECRET_KEY: randomBytes(32).toString("hex"),
    DASHBOARD_USERNAME: "admin",
    DASHBOARD_PASSWORD: password,
    HIVEGUARD_DATA_DIR: dataDir,
    LOG_LEVEL: "silent",
  });
  const server = await createServer({
    config,
    log,
    db,
    state: new MemoryStateStore({ prefix: "bench", logger: log }),
  });
  const url = await server.app.listen({ host: "127.0.0.1", port: 0 });
  const auth = `Basic ${Buffer.from(`admin:${password}`).toString("base64")}`;
  try {
    const size = (await openAsBlob(file)).size;
    console.log(
      `\nupload: ${fmt(rows)}-row CSV (${fmt(size / 1024 / 1024, 1)} MB, 7 columns) over HTTP to a started server (${db.kind})`,
    );
    started = performance.now();
    const created = await fetch(`${url}/api/v1/dataset/`, {
      method: "POST",
      headers: { authorization: auth, "content-type": "application/json" },
      body: JSON.stringify({ name: "bench-upload" }),
    });
    if (created.status !== 201)
      throw new Error(`POST /api/v1/dataset/: ${created.status} ${await created.text()}`);
    const dataset = (await created.json()) as { id: number };
    const form = new FormData();
    form.set("job_type", "DatasetJob");
    form.set(
      "kwargs",
      JSON.stringify({ dataset_id: dataset.id, params: { dataloader: "CSVDataLoader", separator: "," } }),
    );
    form.set("file", await openAsBlob(file, { type: "text/csv" }), "upload.csv");
    const job = await fetch(`${url}/api/v1/job/`, {
      method: "POST",
      headers: { authorization: auth },
      body: form,
    });
    if (job.status !== 201) throw new Error(`POST /api/v1/job/: ${job.status} ${await job.text()}`);
    const uploadedS = (performance.now() - started) / 1000;
    const { id } = (await job.json()) as { id: string };
    for (;;) {
      const status = (await (
        await fetch(`${url}/api/v1/job/status/${id}`, { headers: { authorization: auth } })
      ).json()) as {
        status: string;
        error?: string;
      };
      if (status.status === "finished") break;
      if (status.status === "error" || status.status === "cancelled")
        throw new Error(`the dataset job ${status.status}: ${JSON.stringify(status)}`);
      await new Promise((ok) => setTimeout(ok, 100));
    }
    const totalS = (performance.now() - started) / 1000;
    const types = (await (
      await fetch(`${url}/api/v1/dataset/${dataset.id}/types`, { headers: { authorization: auth } })
    ).json()) as Record<string, { type: string; dtype: string }>;
    const info = (await (
      await fetch(`${url}/api/v1/dataset/${dataset.id}/info`, { headers: { authorization: auth } })
    ).json()) as {
      total_rows: number;
    };
    console.log(`  upload (both requests, the file sent and stored): ${fmt(uploadedS, 2)} s`);
    console.log(
      `  upload + load job (type inference, columnar files): ${fmt(totalS, 2)} s → ${fmt(rows / totalS)} rows/s (${fmt(info.total_rows)} rows stored)`,
    );
    console.log(
      `  inferred: ${Object.entries(types)
        .map(([name, t]) => `${name} ${t.dtype}`)
        .join(", ")}`,
    );
    console.log(
      `  reference, a bare line-and-field scan of the file in this process: ${fmt(scanS, 2)} s → ${fmt(scanned / scanS)} rows/s; ratio HiveGuard / scan: ${fmt(scanS / totalS, 3)}`,
    );
    await explore(url, auth, dataset.id, info.total_rows);
  } finally {
    await server.close();
    await db.close();
    if (databaseUrl) {
      const pg = (await import("pg")).default;
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      await client.query(`DROP SCHEMA "${schema}" CASCADE`);
      await client.end();
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export default async function main(args: string[]): Promise<void> {
  const rows = argValue(args, "--rows", 100_000);
  const uploadRows = argValue(args, "--upload-rows", 1_000_000);
  const explainRows = argValue(args, "--explain-rows", 5_000);
  const dir = mkdtempSync(join(tmpdir(), "hg-perf-lab-"));
  console.log(
    `lab bench: node ${process.version}, ${SKLEARN.bin}; single-threaded on both sides (the machine may be shared)`,
  );
  try {
    const lacking = await missing({ tools: [SKLEARN] });
    const results: Row[] = [];
    if (lacking.length > 0)
      lacking.forEach((line, i) =>
        console.log(i === 0 ? `  sklearn comparison SKIPPED: ${line}` : `  ${line}`),
      );
    else {
      results.push(...(await compare("generated", generated(rows), dir)));
      const fixture = fileURLToPath(new URL("../test/fixtures/lab/breast_cancer.csv", import.meta.url));
      results.push(...(await compare("breast_cancer.csv", shipped(fixture), dir)));
      await explainers(generated(explainRows), dir);
    }
    await upload(uploadRows, dir);
    if (results.length > 0) {
      const met = (ok: boolean) => (ok ? "met" : "NOT met");
      console.log(
        `\ntargets: training ≤ 3× ${met(results.every((r) => r.timeRatio <= 3))}, accuracy within 1 point ${met(results.every((r) => r.accuracyPoints >= -1))}, ONNX predict ≥ 1× ${met(results.every((r) => r.predictRatio >= 1))}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
