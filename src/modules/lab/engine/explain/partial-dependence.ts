// Partial dependence (scikit-learn's partial_dependence, method "brute"): for each value of a grid over one
// feature, set that feature to the value in every row and average the model's outputs. A numeric feature's
// grid is `gridResolution` evenly spaced points between two percentiles (its distinct values when there
// are fewer); a categorical, text or boolean feature's grid is its distinct values.
import { EngineError } from "../errors.js";
import type { Table } from "../types.js";
import { columnIndex, type ExplainableModel, outputNames, pause, takeRows } from "./model.js";

export interface PartialDependenceOptions {
  features: string[];
  gridResolution: number;
  /** Percentiles (0–1) bounding a numeric grid. */
  lowerPercentile: number;
  upperPercentile: number;
  signal?: AbortSignal;
  progress?: (percent: number, message: string) => void;
}

export interface FeatureDependence {
  feature: string;
  kind: "numeric" | "categorical";
  grid: (number | string)[];
  /** One row per model output (`outputs`), one average per grid value. */
  average: number[][];
}

export interface PartialDependence {
  outputs: string[];
  features: FeatureDependence[];
  rows: number;
}

/** The q-quantile (0–1) of sorted values, linear interpolation (numpy's default). */
function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function numericGrid(values: ArrayLike<number>, resolution: number, lower: number, upper: number) {
  const present = Array.from(values).filter((v) => !Number.isNaN(v));
  if (present.length === 0) return [];
  const distinct = [...new Set(present)].sort((a, b) => a - b);
  if (distinct.length <= resolution) return distinct;
  present.sort((a, b) => a - b);
  const lo = quantile(present, lower);
  const hi = quantile(present, upper);
  if (lo === hi) return [lo];
  return Array.from({ length: resolution }, (_, i) => lo + ((hi - lo) * i) / (resolution - 1));
}

const MAX_CATEGORIES = 50;
/** Rows predicted in one call. */
const BATCH_ROWS = 65_536;

export async function partialDependence(
  model: ExplainableModel,
  data: Table,
  options: PartialDependenceOptions,
): Promise<PartialDependence> {
  if (data.rowCount === 0) throw new EngineError("invalid_input", "No rows to compute partial dependence on");
  const progress = options.progress ?? (() => {});
  for (const name of options.features) columnIndex(data, name);
  const all = Array.from({ length: data.rowCount }, (_, i) => i);
  const n = data.rowCount;
  const features: FeatureDependence[] = [];
  let outputs = 0;
  for (const [f, name] of options.features.entries()) {
    await pause(options.signal);
    progress((100 * f) / options.features.length, `Partial dependence of ${name}`);
    const c = columnIndex(data, name);
    const col = data.columns[c]!;
    const numeric = col.values instanceof Float64Array && col.type !== "boolean";
    let grid: (number | string)[];
    if (numeric)
      grid = numericGrid(
        col.values as Float64Array,
        options.gridResolution,
        options.lowerPercentile,
        options.upperPercentile,
      );
    else if (col.values instanceof Float64Array)
      grid = [...new Set(Array.from(col.values).filter((v) => !Number.isNaN(v)))].sort((a, b) => a - b);
    else
      grid = [...new Set((col.values as (string | null)[]).filter((v): v is string => v !== null))]
        .sort()
        .slice(0, MAX_CATEGORIES);
    if (grid.length === 0) throw new EngineError("invalid_input", `Column "${name}" has no value`);
    // The grid values in batches: the rows tiled once per value, the feature set to that value.
    const perBatch = Math.max(1, Math.floor(BATCH_ROWS / n));
    let average: number[][] = [];
    for (let start = 0; start < grid.length; start += perBatch) {
      const count = Math.min(perBatch, grid.length - start);
      const tiled = takeRows(data, all, count);
      const values = tiled.columns[c]!.values as Float64Array | (string | null)[];
      for (let g = 0; g < count; g++)
        for (let i = 0; i < n; i++) values[g * n + i] = grid[start + g] as never;
      const out = await model.predict(tiled);
      if (start === 0) {
        outputs = out.outputs;
        average = Array.from({ length: outputs }, () => new Array<number>(grid.length).fill(0));
      }
      for (let g = 0; g < count; g++)
        for (let i = 0; i < n; i++)
          for (let k = 0; k < outputs; k++)
            average[k]![start + g]! += out.values[(g * n + i) * outputs + k]! / n;
      if (start + count < grid.length) await pause(options.signal);
    }
    features.push({ feature: name, kind: numeric ? "numeric" : "categorical", grid, average });
  }
  progress(100, "Done");
  const names = outputNames(model);
  return { outputs: names.length === outputs ? names : names.slice(0, outputs), features, rows: n };
}
