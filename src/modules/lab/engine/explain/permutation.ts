// Permutation feature importance (scikit-learn's permutation_importance): the score on the data, minus the
// score after shuffling one input column, `nRepeats` times per column; mean and std of the drops. Columns are
// the model's raw input columns, so the one-hot features of one categorical column are permuted together.
import { EngineError } from "../errors.js";
import {
  classificationMetric,
  isClassificationMetric,
  isRegressionMetric,
  type MetricName,
  metricMaximize,
  regressionMetric,
} from "../metrics.js";
import { encodeTarget } from "../preprocess.js";
import { createRng, shuffle } from "../random.js";
import type { Table } from "../types.js";
import { columnIndex, type ExplainableModel, type ModelOutputs, pause, takeRows } from "./model.js";

/** Rows predicted in one call (a smaller batch answers a cancel sooner). */
const BATCH_ROWS = 4096;

export interface PermutationOptions {
  /** The output column (holds the true values). */
  target: string;
  metric: MetricName;
  nRepeats: number;
  seed: number;
  /** The columns to permute (default: the model's input columns). */
  columns?: string[];
  signal?: AbortSignal;
  progress?: (percent: number, message: string) => void;
}

export interface PermutationImportance {
  metric: MetricName;
  baseline: number;
  features: string[];
  importances_mean: number[];
  importances_std: number[];
  /** One row per feature, one drop per repeat. */
  importances: number[][];
  rows: number;
}

/** A scorer over the rows of one table whose true values are `y` (class indexes or numbers). */
function scorer(model: ExplainableModel, metric: MetricName, y: Float64Array) {
  const classification = model.task === "TabularClassificationTask";
  if (classification ? !isClassificationMetric(metric) : !isRegressionMetric(metric))
    throw new EngineError("invalid_input", `scoring "${metric}" is not a metric of ${model.task}`);
  const n = y.length;
  /** The score of the `block`-th block of n rows of `out`. */
  return (out: ModelOutputs, block: number): number => {
    const k = out.outputs;
    if (classification) {
      const probabilities = new Array<Float64Array>(n);
      for (let i = 0; i < n; i++)
        probabilities[i] = out.values.subarray((block * n + i) * k, (block * n + i + 1) * k);
      return classificationMetric(metric as never, y, probabilities, model.classes!.length);
    }
    return regressionMetric(metric as never, y, out.values.subarray(block * n, (block + 1) * n));
  };
}

export async function permutationImportance(
  model: ExplainableModel,
  data: Table,
  options: PermutationOptions,
): Promise<PermutationImportance> {
  const progress = options.progress ?? (() => {});
  const columns = options.columns ?? model.inputColumns;
  for (const name of columns) columnIndex(data, name);
  const all = Array.from({ length: data.rowCount }, (_, i) => i);
  const target = encodeTarget(data, options.target, model.task, all, model.classes);
  if (target.rows.length === 0)
    throw new EngineError("invalid_input", `No row has a known value of "${options.target}" to score`);
  const table = takeRows(data, target.rows);
  const score = scorer(model, options.metric, target.y);
  const sign = metricMaximize(options.metric) ? 1 : -1;
  const baseline = score(await model.predict(table), 0);
  const n = table.rowCount;
  const repeats = options.nRepeats;
  const rng = createRng(options.seed);
  const importances: number[][] = [];
  for (const [f, name] of columns.entries()) {
    await pause(options.signal);
    progress((100 * f) / columns.length, `Permuting ${name}`);
    // The repeats of one column in batches: the rows tiled once per repeat, the column shuffled per block.
    const c = columnIndex(table, name);
    const source = table.columns[c]!.values;
    const identity = Array.from({ length: n }, (_, i) => i);
    const order = [...identity];
    const perBatch = Math.max(1, Math.floor(BATCH_ROWS / n));
    const drops: number[] = [];
    for (let start = 0; start < repeats; start += perBatch) {
      const count = Math.min(perBatch, repeats - start);
      const tiled = takeRows(table, identity, count);
      const values = tiled.columns[c]!.values as Float64Array | (string | null)[];
      for (let r = 0; r < count; r++) {
        shuffle(order, rng);
        for (let i = 0; i < n; i++) values[r * n + i] = source[order[i]!]! as never;
      }
      const out = await model.predict(tiled);
      for (let r = 0; r < count; r++) drops.push(sign * (baseline - score(out, r)));
      if (start + count < repeats) await pause(options.signal);
    }
    importances.push(drops);
  }
  progress(100, "Done");
  const mean = importances.map((d) => d.reduce((a, b) => a + b, 0) / d.length);
  const std = importances.map((d, i) => Math.sqrt(d.reduce((a, b) => a + (b - mean[i]!) ** 2, 0) / d.length));
  return {
    metric: options.metric,
    baseline,
    features: columns,
    importances_mean: mean,
    importances_std: std,
    importances,
    rows: n,
  };
}
