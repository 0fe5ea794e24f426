// k-nearest neighbours (brute force on standardized features), Gaussian naive Bayes and the dummy
// baselines: small enough that a library would add nothing.
import type { Matrix } from "./preprocess.js";
import type { ModelArtifact } from "./types.js";

export function fitKnn(
  x: Matrix,
  y: Float64Array,
  k: number,
  weights: "uniform" | "distance",
): Extract<ModelArtifact, { type: "knn" }> {
  const points: number[][] = [];
  for (let i = 0; i < x.rows; i++) points.push(Array.from(x.data.subarray(i * x.cols, (i + 1) * x.cols)));
  return { type: "knn", k: Math.max(1, Math.min(k, x.rows)), weights, points, targets: Array.from(y) };
}

/** Gaussian naive Bayes; `varSmoothing` × the largest feature variance is added to every variance. */
export function fitNaiveBayes(
  x: Matrix,
  y: Float64Array,
  classCount: number,
  varSmoothing: number,
): Extract<ModelArtifact, { type: "naive_bayes" }> {
  const p = x.cols;
  const counts = new Array<number>(classCount).fill(0);
  const means = Array.from({ length: classCount }, () => new Array<number>(p).fill(0));
  const variances = Array.from({ length: classCount }, () => new Array<number>(p).fill(0));
  for (let i = 0; i < x.rows; i++) {
    const c = y[i]!;
    counts[c] = counts[c]! + 1;
    const mc = means[c]!;
    for (let j = 0; j < p; j++) mc[j] = mc[j]! + x.data[i * p + j]!;
  }
  for (let c = 0; c < classCount; c++) {
    const mc = means[c]!;
    for (let j = 0; j < p; j++) mc[j] = mc[j]! / Math.max(1, counts[c]!);
  }
  for (let i = 0; i < x.rows; i++) {
    const c = y[i]!;
    for (let j = 0; j < p; j++) {
      const d = x.data[i * p + j]! - means[c]![j]!;
      const vc = variances[c]!;
      vc[j] = vc[j]! + d * d;
    }
  }
  // epsilon = varSmoothing × max variance over all rows (scikit-learn's definition)
  let maxVar = 0;
  for (let j = 0; j < p; j++) {
    let s = 0;
    let sq = 0;
    for (let i = 0; i < x.rows; i++) {
      const v = x.data[i * p + j]!;
      s += v;
      sq += v * v;
    }
    const mean = s / Math.max(1, x.rows);
    maxVar = Math.max(maxVar, sq / Math.max(1, x.rows) - mean * mean);
  }
  const epsilon = varSmoothing * maxVar || 1e-12;
  for (let c = 0; c < classCount; c++)
    for (let j = 0; j < p; j++) variances[c]![j] = variances[c]![j]! / Math.max(1, counts[c]!) + epsilon;
  const total = counts.reduce((a, b) => a + b, 0);
  return {
    type: "naive_bayes",
    classPriors: counts.map((c) => c / Math.max(1, total)),
    means,
    variances,
  };
}

export type DummyStrategy =
  "most_frequent" | "prior" | "stratified" | "uniform" | "mean" | "median" | "constant";

/** Classification: the output is class probabilities; regression: one value. */
export function fitDummy(
  y: Float64Array,
  classCount: number | null,
  strategy: DummyStrategy,
  constant: number | null,
): Extract<ModelArtifact, { type: "dummy" }> {
  if (classCount !== null) {
    const counts = new Array<number>(classCount).fill(0);
    for (let i = 0; i < y.length; i++) counts[y[i]!] = counts[y[i]!]! + 1;
    const total = Math.max(1, y.length);
    if (strategy === "uniform") return { type: "dummy", output: counts.map(() => 1 / classCount) };
    if (strategy === "most_frequent") {
      let best = 0;
      for (let c = 1; c < classCount; c++) if (counts[c]! > counts[best]!) best = c;
      return { type: "dummy", output: counts.map((_, c) => (c === best ? 1 : 0)) };
    }
    return { type: "dummy", output: counts.map((c) => c / total) };
  }
  if (strategy === "constant") return { type: "dummy", output: [constant ?? 0] };
  if (strategy === "median") {
    const sorted = Float64Array.from(y).sort();
    const m = sorted.length;
    const median = m === 0 ? 0 : m % 2 ? sorted[(m - 1) / 2]! : (sorted[m / 2 - 1]! + sorted[m / 2]!) / 2;
    return { type: "dummy", output: [median] };
  }
  let s = 0;
  for (let i = 0; i < y.length; i++) s += y[i]!;
  return { type: "dummy", output: [y.length > 0 ? s / y.length : 0] };
}
