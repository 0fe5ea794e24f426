// Decision trees on binned features (our own code; what scikit-learn's HistGradientBoosting and LightGBM do):
// every feature is cut into at most 256 bins once, a node's best split comes from a histogram of its rows,
// and the split's threshold is the bin's upper edge, so `x <= threshold` (BRANCH_LEQ) on raw features sends a
// row exactly where the binned training sent it. Small nodes only scan the bins they occupy.
import { throwIfAborted } from "./errors.js";
import type { Matrix } from "./preprocess.js";
import type { Rng } from "./random.js";
import type { TreeArrays } from "./types.js";

export const MAX_BINS = 256;

/** Column-major bin codes (`codes[f * n + row]`) and each feature's bin upper edges (last is +Infinity). */
export interface Binned {
  n: number;
  p: number;
  codes: Uint8Array;
  edges: Float64Array[];
}

export function binMatrix(x: Matrix, maxBins = MAX_BINS): Binned {
  const { rows: n, cols: p } = x;
  const codes = new Uint8Array(n * p);
  const edges: Float64Array[] = [];
  const values = new Float64Array(n);
  for (let f = 0; f < p; f++) {
    for (let i = 0; i < n; i++) values[i] = x.data[i * p + f]!;
    const sorted = Float64Array.from(values).sort();
    const distinct: number[] = [];
    for (let i = 0; i < n && distinct.length <= maxBins; i++)
      if (i === 0 || sorted[i] !== sorted[i - 1]) distinct.push(sorted[i]!);
    const cuts: number[] = [];
    if (distinct.length <= maxBins) {
      for (let i = 1; i < distinct.length; i++) cuts.push((distinct[i - 1]! + distinct[i]!) / 2);
    } else {
      for (let q = 1; q < maxBins; q++) {
        const pos = Math.floor((q * n) / maxBins);
        const lo = sorted[pos - 1]!;
        const hi = sorted[pos]!;
        if (lo === hi) continue;
        const cut = (lo + hi) / 2;
        if (cuts.length === 0 || cut > cuts[cuts.length - 1]!) cuts.push(cut);
      }
    }
    cuts.push(Infinity);
    const e = Float64Array.from(cuts);
    edges.push(e);
    const base = f * n;
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      let lo = 0;
      let hi = e.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (v <= e[mid]!) hi = mid;
        else lo = mid + 1;
      }
      codes[base + i] = lo;
    }
  }
  return { n, p, codes, edges };
}

export type Criterion = "gini" | "entropy" | "squared_error";

export interface TreeOptions {
  maxDepth: number;
  minSamplesSplit: number;
  minSamplesLeaf: number;
  maxLeafNodes: number | null;
  /** Features drawn at each node. */
  maxFeatures: number;
  criterion: Criterion;
  /** "random": one random cut per drawn feature (extra trees). */
  splitter: "best" | "random";
  minImpurityDecrease?: number;
}

/** What a tree fits: class indexes with K classes, or real targets (values, or boosting gradients). */
export type TreeTarget =
  | { kind: "classification"; y: Float64Array; classCount: number }
  | {
      kind: "regression";
      y: Float64Array;
      /** The leaf's output vector from its rows (default: the weighted mean of y). */
      leafValue?: (rows: Uint32Array, start: number, end: number) => number[];
    };

export interface GrownTree {
  tree: TreeArrays;
  /** Per node, the split bin (−1 for a leaf), to route binned rows without thresholds. */
  splitBin: number[];
}

interface Split {
  feature: number;
  bin: number;
  gain: number;
}

interface OpenNode {
  id: number;
  start: number;
  end: number;
  depth: number;
  split: Split | null;
}

/** Grow one tree on `rows` (with optional per-row `weights`, e.g. bootstrap counts). */
export function growTree(
  data: Binned,
  target: TreeTarget,
  rowsIn: Uint32Array,
  weights: Float64Array | null,
  options: TreeOptions,
  rng: Rng,
): GrownTree {
  const { n, p, codes, edges } = data;
  const rows = rowsIn;
  const isClass = target.kind === "classification";
  const K = isClass ? target.classCount : 1;
  const y = target.y;
  const tree: TreeArrays = { feature: [], threshold: [], left: [], right: [], values: [] };
  const splitBin: number[] = [];
  // Scratch histograms, reused for every node and feature.
  const histW = new Float64Array(MAX_BINS * K); // class weights (classification) or Σw·y (regression)
  const histSw = new Float64Array(MAX_BINS); // Σw
  const histN = new Int32Array(MAX_BINS); // row counts
  const touched = new Int32Array(MAX_BINS);
  const parentC = new Float64Array(K);
  const leftC = new Float64Array(K);
  const features = Int32Array.from({ length: p }, (_, i) => i);
  const minDecrease = options.minImpurityDecrease ?? 0;

  const weightOf = weights ? (r: number) => weights[r]! : () => 1;

  function impurityTimesW(c: Float64Array | number[], w: number, sum: number): number {
    // classification: gini·W or entropy·W from class weights c; regression: −(Σwy)²/W (up to a constant)
    if (!isClass) return w > 0 ? -(sum * sum) / w : 0;
    if (w <= 0) return 0;
    if (options.criterion === "entropy") {
      let s = 0;
      for (let k = 0; k < K; k++) {
        const ck = c[k]!;
        if (ck > 0) s -= ck * Math.log(ck / w);
      }
      return s;
    }
    let sq = 0;
    for (let k = 0; k < K; k++) sq += c[k]! * c[k]!;
    return w - sq / w;
  }

  function leafValue(start: number, end: number): number[] {
    if (!isClass) {
      if (target.kind === "regression" && target.leafValue) return target.leafValue(rows, start, end);
      let sw = 0;
      let sy = 0;
      for (let i = start; i < end; i++) {
        const r = rows[i]!;
        const w = weightOf(r);
        sw += w;
        sy += w * y[r]!;
      }
      return [sw > 0 ? sy / sw : 0];
    }
    const c = new Array<number>(K).fill(0);
    let sw = 0;
    for (let i = start; i < end; i++) {
      const r = rows[i]!;
      const w = weightOf(r);
      c[y[r]!] = c[y[r]!]! + w;
      sw += w;
    }
    return c.map((v) => (sw > 0 ? v / sw : 1 / K));
  }

  function findSplit(start: number, end: number): Split | null {
    const count = end - start;
    if (count < options.minSamplesSplit || count < 2 * options.minSamplesLeaf) return null;
    // Parent totals.
    parentC.fill(0);
    let parentW = 0;
    let parentSum = 0;
    for (let i = start; i < end; i++) {
      const r = rows[i]!;
      const w = weightOf(r);
      parentW += w;
      if (isClass) parentC[y[r]!] = parentC[y[r]!]! + w;
      else parentSum += w * y[r]!;
    }
    const parentImp = impurityTimesW(parentC, parentW, parentSum);
    if (isClass && parentImp <= 1e-12) return null; // pure node
    let best: Split | null = null;
    // Draw features without replacement; keep drawing past maxFeatures only while no valid split was found.
    let drawn = 0;
    for (let d = 0; d < p; d++) {
      const j = d + rng.int(p - d);
      const f = features[j]!;
      features[j] = features[d]!;
      features[d] = f;
      if (drawn >= options.maxFeatures && best !== null) break;
      drawn++;
      // Histogram of this feature over the node's rows.
      const base = f * n;
      let t = 0;
      for (let i = start; i < end; i++) {
        const r = rows[i]!;
        const b = codes[base + r]!;
        if (histN[b] === 0) touched[t++] = b;
        histN[b] = histN[b]! + 1;
        const w = weightOf(r);
        histSw[b] = histSw[b]! + w;
        if (isClass) histW[b * K + y[r]!] = histW[b * K + y[r]!]! + w;
        else histW[b] = histW[b]! + w * y[r]!;
      }
      const occupied = touched.subarray(0, t).sort();
      if (t >= 2) {
        let cut = -1;
        if (options.splitter === "random") {
          // A uniform cut in value space between the node's smallest and largest occupied bins.
          const lo = edges[f]![occupied[0]!]!;
          const hi = edges[f]![occupied[t - 2]!]!;
          const draw = lo + rng.next() * (hi - lo);
          cut = occupied[0]!;
          for (let q = 0; q < t - 1; q++) {
            if (edges[f]![occupied[q]!]! >= draw) {
              cut = occupied[q]!;
              break;
            }
          }
        }
        leftC.fill(0);
        let leftW = 0;
        let leftN = 0;
        let leftSum = 0;
        for (let q = 0; q < t - 1; q++) {
          const b = occupied[q]!;
          leftW += histSw[b]!;
          leftN += histN[b]!;
          if (isClass) for (let k = 0; k < K; k++) leftC[k] = leftC[k]! + histW[b * K + k]!;
          else leftSum += histW[b]!;
          if (cut >= 0 && b !== cut) continue;
          const rightN = count - leftN;
          if (leftN >= options.minSamplesLeaf && rightN >= options.minSamplesLeaf) {
            const rightW = parentW - leftW;
            let childImp: number;
            if (isClass) {
              let rightImp: number;
              // right counts = parent − left
              if (options.criterion === "entropy") {
                let s = 0;
                for (let k = 0; k < K; k++) {
                  const ck = parentC[k]! - leftC[k]!;
                  if (ck > 1e-12) s -= ck * Math.log(ck / rightW);
                }
                rightImp = s;
              } else {
                let sq = 0;
                for (let k = 0; k < K; k++) {
                  const ck = parentC[k]! - leftC[k]!;
                  sq += ck * ck;
                }
                rightImp = rightW > 0 ? rightW - sq / rightW : 0;
              }
              childImp = impurityTimesW(leftC, leftW, 0) + rightImp;
            } else {
              const rightSum = parentSum - leftSum;
              childImp = impurityTimesW([], leftW, leftSum) + impurityTimesW([], rightW, rightSum);
            }
            const gain = parentImp - childImp;
            if (gain > 1e-12 && gain >= minDecrease * parentW && (best === null || gain > best.gain))
              best = { feature: f, bin: b, gain };
          }
          if (cut >= 0) break;
        }
      }
      for (let q = 0; q < t; q++) {
        const b = occupied[q]!;
        histN[b] = 0;
        histSw[b] = 0;
        if (isClass) for (let k = 0; k < K; k++) histW[b * K + k] = 0;
        else histW[b] = 0;
      }
    }
    return best;
  }

  function addNode(): number {
    tree.feature.push(-1);
    tree.threshold.push(0);
    tree.left.push(-1);
    tree.right.push(-1);
    tree.values.push([]);
    splitBin.push(-1);
    return tree.feature.length - 1;
  }

  function open(start: number, end: number, depth: number): OpenNode {
    const id = addNode();
    const split = depth < options.maxDepth ? findSplit(start, end) : null;
    return { id, start, end, depth, split };
  }

  const frontier: OpenNode[] = [open(0, rows.length, 0)];
  let leaves = 1;
  const bestFirst = options.maxLeafNodes !== null;
  while (frontier.length > 0) {
    let index = frontier.length - 1;
    if (bestFirst) {
      let bestGain = -Infinity;
      for (let i = 0; i < frontier.length; i++) {
        const g = frontier[i]!.split?.gain ?? -Infinity;
        if (g > bestGain) {
          bestGain = g;
          index = i;
        }
      }
    }
    const node = frontier[index]!;
    frontier.splice(index, 1);
    const canSplit = node.split !== null && (!bestFirst || leaves < options.maxLeafNodes!);
    if (!canSplit) {
      tree.values[node.id] = leafValue(node.start, node.end);
      continue;
    }
    const { feature, bin } = node.split!;
    // Partition rows[start, end) by code <= bin.
    const base = feature * n;
    let i = node.start;
    let j = node.end - 1;
    while (i <= j) {
      if (codes[base + rows[i]!]! <= bin) i++;
      else {
        const tmp = rows[i]!;
        rows[i] = rows[j]!;
        rows[j] = tmp;
        j--;
      }
    }
    tree.feature[node.id] = feature;
    tree.threshold[node.id] = edges[feature]![bin]!;
    splitBin[node.id] = bin;
    leaves++;
    const left = open(node.start, i, node.depth + 1);
    const right = open(i, node.end, node.depth + 1);
    tree.left[node.id] = left.id;
    tree.right[node.id] = right.id;
    // Depth-first: the left child is expanded first (it is pushed last).
    frontier.push(right, left);
  }
  return { tree, splitBin };
}

/** The leaf a binned row reaches. */
export function leafOfBinned(grown: GrownTree, data: Binned, row: number): number {
  const { tree, splitBin } = grown;
  let node = 0;
  while (tree.feature[node]! >= 0) {
    node =
      data.codes[tree.feature[node]! * data.n + row]! <= splitBin[node]!
        ? tree.left[node]!
        : tree.right[node]!;
  }
  return node;
}

/** The leaf a raw feature row reaches (BRANCH_LEQ on thresholds). */
export function leafOf(tree: TreeArrays, x: Float64Array, offset: number): number {
  let node = 0;
  while (tree.feature[node]! >= 0) {
    node = x[offset + tree.feature[node]!]! <= tree.threshold[node]! ? tree.left[node]! : tree.right[node]!;
  }
  return node;
}

export function checkAbort(signal: AbortSignal | undefined): void {
  throwIfAborted(signal);
}
