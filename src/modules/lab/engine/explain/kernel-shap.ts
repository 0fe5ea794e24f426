// KernelSHAP (Lundberg & Lee 2017, as the shap package's KernelExplainer): a row's output is explained by
// coalitions of its input columns. A coalition's value is the model's average output over a background
// sample with the coalition's columns set to the row's values; the SHAP values are the weighted linear
// regression of those values on the coalitions (Shapley kernel weights), constrained so that they add up to
// f(row) − E[f(background)]. Columns are the model's raw inputs, so one-hot groups move together.
import { EngineError } from "../errors.js";
import { createRng } from "../random.js";
import type { Table } from "../types.js";
import { columnIndex, type ExplainableModel, outputNames, pause, takeRows } from "./model.js";

export interface KernelShapOptions {
  /** How many coalitions to evaluate; all of them (2^M − 2) when that is not more. */
  nSamples: number;
  seed: number;
  signal?: AbortSignal;
  progress?: (percent: number, message: string) => void;
}

export interface InstanceExplanation {
  /** The model's outputs for the row. */
  prediction: number[];
  /** One row per feature, one value per output. */
  shap_values: number[][];
}

export interface KernelShapResult {
  features: string[];
  outputs: string[];
  /** E[f(background)], per output. */
  base_value: number[];
  background_rows: number;
  coalitions: number;
  exact: boolean;
  instances: InstanceExplanation[];
}

/** Largest number of rows predicted in one call. */
const BATCH_ROWS = 65_536;

function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

/** The coalitions (one 0/1 array per coalition) and their regression weights. */
export function coalitions(
  m: number,
  nSamples: number,
  seed: number,
): { masks: Uint8Array[]; weights: number[]; exact: boolean } {
  const masks: Uint8Array[] = [];
  const weights: number[] = [];
  if (m < 31 && 2 ** m - 2 <= nSamples) {
    for (let bits = 1; bits < 2 ** m - 1; bits++) {
      const mask = new Uint8Array(m);
      let s = 0;
      for (let j = 0; j < m; j++)
        if ((bits >>> j) & 1) {
          mask[j] = 1;
          s++;
        }
      masks.push(mask);
      weights.push((m - 1) / (binomial(m, s) * s * (m - s)));
    }
    return { masks, weights, exact: true };
  }
  // Sampled: a size from the kernel's distribution over sizes, a uniform subset of that size, and its
  // complement (paired sampling); each draw then carries equal weight (duplicates add up).
  const rng = createRng(seed);
  const sizeWeights = Array.from({ length: m - 1 }, (_, i) => (m - 1) / ((i + 1) * (m - i - 1)));
  const total = sizeWeights.reduce((a, b) => a + b, 0);
  const seen = new Map<string, number>();
  const order = Array.from({ length: m }, (_, i) => i);
  const add = (mask: Uint8Array) => {
    const key = mask.join("");
    const at = seen.get(key);
    if (at !== undefined) weights[at]! += 1;
    else {
      seen.set(key, masks.length);
      masks.push(mask);
      weights.push(1);
    }
  };
  for (let draw = 0; draw < Math.max(1, Math.floor(nSamples / 2)); draw++) {
    let u = rng.next() * total;
    let s = 1;
    while (s < m - 1 && u >= sizeWeights[s - 1]!) u -= sizeWeights[s++ - 1]!;
    for (let j = 0; j < s; j++) {
      const k = j + rng.int(m - j);
      [order[j], order[k]] = [order[k]!, order[j]!];
    }
    const mask = new Uint8Array(m);
    for (let j = 0; j < s; j++) mask[order[j]!] = 1;
    add(mask);
    add(mask.map((v) => 1 - v));
  }
  return { masks, weights, exact: false };
}

/** Solves A x = b (A n×n, row-major) by Gaussian elimination with partial pivoting; a tiny ridge if singular. */
export function solve(a: Float64Array, b: Float64Array, n: number): Float64Array {
  let trace = 0;
  for (let i = 0; i < n; i++) trace += Math.abs(a[i * n + i]!);
  for (let attempt = 0; attempt < 2; attempt++) {
    const m = Float64Array.from(a);
    const x = Float64Array.from(b);
    if (attempt === 1) for (let i = 0; i < n; i++) m[i * n + i]! += 1e-10 * (trace / n || 1);
    let singular = false;
    for (let col = 0; col < n && !singular; col++) {
      let pivot = col;
      for (let r = col + 1; r < n; r++)
        if (Math.abs(m[r * n + col]!) > Math.abs(m[pivot * n + col]!)) pivot = r;
      if (Math.abs(m[pivot * n + col]!) < 1e-14 * (trace || 1)) {
        singular = true;
        break;
      }
      if (pivot !== col) {
        for (let k = 0; k < n; k++) [m[col * n + k], m[pivot * n + k]] = [m[pivot * n + k]!, m[col * n + k]!];
        [x[col], x[pivot]] = [x[pivot]!, x[col]!];
      }
      for (let r = col + 1; r < n; r++) {
        const f = m[r * n + col]! / m[col * n + col]!;
        if (f === 0) continue;
        for (let k = col; k < n; k++) m[r * n + k]! -= f * m[col * n + k]!;
        x[r]! -= f * x[col]!;
      }
    }
    if (singular) continue;
    for (let r = n - 1; r >= 0; r--) {
      let s = x[r]!;
      for (let k = r + 1; k < n; k++) s -= m[r * n + k]! * x[k]!;
      x[r] = s / m[r * n + r]!;
    }
    return x;
  }
  throw new EngineError("invalid_input", "The SHAP regression has no solution (too few coalitions)");
}

export async function kernelShap(
  model: ExplainableModel,
  background: Table,
  instances: Table,
  options: KernelShapOptions,
): Promise<KernelShapResult> {
  if (background.rowCount === 0) throw new EngineError("invalid_input", "The background sample is empty");
  const progress = options.progress ?? (() => {});
  const features = model.inputColumns;
  const m = features.length;
  const bgIndex = features.map((name) => columnIndex(background, name));
  const xIndex = features.map((name) => columnIndex(instances, name));
  const b = background.rowCount;
  const bgRows = Array.from({ length: b }, (_, i) => i);

  const bgOut = await model.predict(background);
  const k = bgOut.outputs;
  const base = new Array<number>(k).fill(0);
  for (let i = 0; i < b; i++) for (let o = 0; o < k; o++) base[o]! += bgOut.values[i * k + o]! / b;
  const { masks, weights, exact } =
    m > 1 ? coalitions(m, options.nSamples, options.seed) : { masks: [], weights: [], exact: true };
  const perBatch = Math.max(1, Math.floor(BATCH_ROWS / b));

  const explained: InstanceExplanation[] = [];
  for (let row = 0; row < instances.rowCount; row++) {
    await pause(options.signal);
    progress((100 * row) / instances.rowCount, `Explaining row ${row + 1} of ${instances.rowCount}`);
    const single = takeRows(instances, [row]);
    const fxOut = await model.predict(single);
    const fx = Array.from(fxOut.values.subarray(0, k));
    // The coalitions' values: the average output over the background with the coalition's columns set.
    const value = new Float64Array(masks.length * k);
    for (let start = 0; start < masks.length; start += perBatch) {
      const count = Math.min(perBatch, masks.length - start);
      const tiled = takeRows(background, bgRows, count);
      for (let q = 0; q < count; q++) {
        const mask = masks[start + q]!;
        for (let j = 0; j < m; j++) {
          if (!mask[j]) continue;
          const cell = instances.columns[xIndex[j]!]!.values[row]!;
          const target = tiled.columns[bgIndex[j]!]!.values as Float64Array | (string | null)[];
          for (let i = 0; i < b; i++) target[q * b + i] = cell as never;
        }
      }
      const out = await model.predict(tiled);
      for (let q = 0; q < count; q++)
        for (let i = 0; i < b; i++)
          for (let o = 0; o < k; o++) value[(start + q) * k + o]! += out.values[(q * b + i) * k + o]! / b;
      if (start + count < masks.length) await pause(options.signal);
    }
    const shap = Array.from({ length: m }, () => new Array<number>(k).fill(0));
    for (let o = 0; o < k; o++) {
      const total = fx[o]! - base[o]!;
      if (m === 1) {
        shap[0]![o] = total;
        continue;
      }
      // Eliminate the last feature with the constraint sum(phi) = total, then weighted least squares.
      const p = m - 1;
      const xtx = new Float64Array(p * p);
      const xty = new Float64Array(p);
      const xr = new Float64Array(p);
      for (let q = 0; q < masks.length; q++) {
        const mask = masks[q]!;
        const last = mask[p]!;
        for (let j = 0; j < p; j++) xr[j] = mask[j]! - last;
        const y = value[q * k + o]! - base[o]! - last * total;
        const w = weights[q]!;
        for (let i = 0; i < p; i++) {
          if (xr[i] === 0) continue;
          xty[i]! += w * xr[i]! * y;
          for (let j = 0; j < p; j++) xtx[i * p + j]! += w * xr[i]! * xr[j]!;
        }
      }
      const beta = solve(xtx, xty, p);
      let sum = 0;
      for (let j = 0; j < p; j++) {
        shap[j]![o] = beta[j]!;
        sum += beta[j]!;
      }
      shap[p]![o] = total - sum;
    }
    explained.push({ prediction: fx, shap_values: shap });
  }
  progress(100, "Done");
  const names = outputNames(model);
  return {
    features,
    outputs: names.length === k ? names : names.slice(0, k),
    base_value: base,
    background_rows: b,
    coalitions: masks.length,
    exact,
    instances: explained,
  };
}
