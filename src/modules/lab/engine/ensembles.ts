// Tree models (our own code, on the binned trees of tree.ts): decision tree, random forest, extra trees
// (averaged leaf vectors: class probabilities or means), and gradient boosting (summed raw scores; squared
// error for regression, log loss with Newton leaf values for classification, as scikit-learn's
// GradientBoosting* do).
import { throwIfAborted } from "./errors.js";
import type { FitContext } from "./linear.js";
import type { Matrix } from "./preprocess.js";
import { createRng, deriveSeed } from "./random.js";
import { binMatrix, growTree, leafOfBinned, type TreeOptions, type TreeTarget } from "./tree.js";
import type { ModelArtifact, TreeArrays } from "./types.js";

type TreesArtifact = Extract<ModelArtifact, { type: "trees" }>;

export type Labels =
  { kind: "classification"; y: Float64Array; classCount: number } | { kind: "regression"; y: Float64Array };

export interface ForestOptions {
  nEstimators: number;
  bootstrap: boolean;
  tree: TreeOptions;
  seed: number;
}

/** Random forest / extra trees / a single decision tree (nEstimators 1, no bootstrap, all features). */
export function fitForest(
  x: Matrix,
  labels: Labels,
  options: ForestOptions,
  ctx: FitContext = {},
): TreesArtifact {
  const data = binMatrix(x);
  const n = x.rows;
  const target: TreeTarget =
    labels.kind === "classification"
      ? { kind: "classification", y: labels.y, classCount: labels.classCount }
      : { kind: "regression", y: labels.y };
  const trees: TreeArrays[] = [];
  const weights = options.bootstrap ? new Float64Array(n) : null;
  for (let t = 0; t < options.nEstimators; t++) {
    throwIfAborted(ctx.signal);
    const rng = createRng(deriveSeed(options.seed, t));
    let rows: Uint32Array;
    if (weights) {
      weights.fill(0);
      for (let i = 0; i < n; i++) weights[rng.int(n)] = weights[rng.int(n)]! + 1;
      let count = 0;
      for (let i = 0; i < n; i++) if (weights[i]! > 0) count++;
      rows = new Uint32Array(count);
      let k = 0;
      for (let i = 0; i < n; i++) if (weights[i]! > 0) rows[k++] = i;
    } else rows = Uint32Array.from({ length: n }, (_, i) => i);
    trees.push(growTree(data, target, rows, weights, options.tree, rng).tree);
    ctx.progress?.((t + 1) / options.nEstimators);
  }
  const outputs = labels.kind === "classification" ? labels.classCount : 1;
  return {
    type: "trees",
    trees,
    aggregate: "average",
    scale: 1,
    baseValues: new Array<number>(outputs).fill(0),
    postTransform: "none",
  };
}

export interface BoostingOptions {
  nEstimators: number;
  learningRate: number;
  subsample: number;
  tree: TreeOptions;
  seed: number;
}

/** Gradient boosting: regression (squared error), binary (one logistic output) or multiclass (softmax). */
export function fitBoosting(
  x: Matrix,
  labels: Labels,
  options: BoostingOptions,
  ctx: FitContext = {},
): TreesArtifact {
  const data = binMatrix(x);
  const n = x.rows;
  const y = labels.y;
  const classCount = labels.kind === "classification" ? labels.classCount : 1;
  const K = labels.kind === "classification" && classCount > 2 ? classCount : 1;
  const binary = labels.kind === "classification" && classCount <= 2;
  // Initial raw scores: the mean, the log-odds of class 1, or the log priors.
  const baseValues = new Array<number>(K).fill(0);
  if (labels.kind === "regression") {
    let s = 0;
    for (let i = 0; i < n; i++) s += y[i]!;
    baseValues[0] = n > 0 ? s / n : 0;
  } else {
    const counts = new Array<number>(classCount).fill(0);
    for (let i = 0; i < n; i++) counts[y[i]!] = counts[y[i]!]! + 1;
    if (binary) {
      const p1 = Math.min(1 - 1e-12, Math.max(1e-12, (counts[1] ?? 0) / Math.max(1, n)));
      baseValues[0] = Math.log(p1 / (1 - p1));
    } else for (let k = 0; k < K; k++) baseValues[k] = Math.log(Math.max(1e-12, counts[k]! / Math.max(1, n)));
  }
  const raw = new Float64Array(n * K);
  for (let i = 0; i < n; i++) for (let k = 0; k < K; k++) raw[i * K + k] = baseValues[k]!;
  const grad = new Float64Array(n); // the negative gradient fitted by this round's tree(s)
  const hess = new Float64Array(n);
  const prob = new Float64Array(n * K);
  const trees: TreeArrays[] = [];
  const rng = createRng(options.seed);
  const all = Uint32Array.from({ length: n }, (_, i) => i);
  const sampleSize = Math.max(1, Math.round(options.subsample * n));
  for (let round = 0; round < options.nEstimators; round++) {
    throwIfAborted(ctx.signal);
    // This round's rows: all, or a sample without replacement (stochastic gradient boosting).
    let rows: Uint32Array;
    if (options.subsample < 1) {
      const pool = Uint32Array.from(all);
      for (let i = 0; i < sampleSize; i++) {
        const j = i + rng.int(n - i);
        const tmp = pool[i]!;
        pool[i] = pool[j]!;
        pool[j] = tmp;
      }
      rows = pool.slice(0, sampleSize);
    } else rows = Uint32Array.from(all);
    if (K > 1) {
      for (let i = 0; i < n; i++) {
        let max = -Infinity;
        for (let k = 0; k < K; k++) max = Math.max(max, raw[i * K + k]!);
        let sum = 0;
        for (let k = 0; k < K; k++) sum += Math.exp(raw[i * K + k]! - max);
        for (let k = 0; k < K; k++) prob[i * K + k] = Math.exp(raw[i * K + k]! - max) / sum;
      }
    }
    for (let k = 0; k < K; k++) {
      for (let i = 0; i < n; i++) {
        if (labels.kind === "regression") {
          grad[i] = y[i]! - raw[i]!;
        } else if (binary) {
          const p = 1 / (1 + Math.exp(-raw[i]!));
          grad[i] = y[i]! - p;
          hess[i] = p * (1 - p);
        } else {
          const p = prob[i * K + k]!;
          grad[i] = (y[i] === k ? 1 : 0) - p;
          hess[i] = p * (1 - p);
        }
      }
      const leafValue =
        labels.kind === "regression"
          ? undefined
          : (leafRows: Uint32Array, start: number, end: number): number[] => {
              let g = 0;
              let h = 0;
              for (let i = start; i < end; i++) {
                const r = leafRows[i]!;
                g += grad[r]!;
                h += hess[r]!;
              }
              const factor = binary ? 1 : (K - 1) / K;
              const value = Math.abs(h) < 1e-150 ? 0 : (factor * g) / h;
              if (K === 1) return [value];
              const out = new Array<number>(K).fill(0);
              out[k] = value;
              return out;
            };
      const grown = growTree(
        data,
        { kind: "regression", y: grad, leafValue },
        rows,
        null,
        options.tree,
        createRng(deriveSeed(options.seed, round * K + k)),
      );
      trees.push(grown.tree);
      for (let i = 0; i < n; i++) {
        const leaf = leafOfBinned(grown, data, i);
        const v = grown.tree.values[leaf]!;
        raw[i * K + k] = raw[i * K + k]! + options.learningRate * (K === 1 ? v[0]! : v[k]!);
      }
    }
    ctx.progress?.((round + 1) / options.nEstimators);
  }
  return {
    type: "trees",
    trees,
    aggregate: "sum",
    scale: options.learningRate,
    baseValues,
    postTransform: labels.kind === "regression" ? "none" : binary ? "logistic" : "softmax",
  };
}
