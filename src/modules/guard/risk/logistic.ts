// Logistic regression on standardized features, fitted by Newton's method (IRLS) with an L2 penalty, and
// the evaluation metrics. Compact on purpose: d is small (≈15), so each Newton step is one pass over the
// rows building a (d+1)² Hessian, and a dozen steps reach the optimum to machine precision.

export interface LogisticModel {
  /** Per-feature mean and scale of the training rows: z = (x − mean) / scale. */
  mean: number[];
  scale: number[];
  /** Coefficients on the standardized features, and the intercept. */
  weights: number[];
  intercept: number;
}

export interface FitOptions {
  /** L2 penalty on the weights (not the intercept) added to the summed log-loss: λ/2·‖w‖². Default 1. */
  l2?: number;
  maxIterations?: number;
  /** Stop when the largest Newton step is below this. */
  tolerance?: number;
  /** Called after each Newton step (for progress); the fit yields to the event loop between steps. */
  onIteration?: (iteration: number, maxIterations: number) => void;
  /** Called with the penalized objective (summed log-loss + penalty) after each step. */
  onLoss?: (objective: number) => void;
}

export interface FitResult {
  model: LogisticModel;
  iterations: number;
  converged: boolean;
}

/** Rows are row-major: x[i * d + j]. */
export interface Dataset {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  n: number;
  d: number;
}

export const sigmoid = (z: number): number =>
  z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));

/** Mean and population standard deviation per column; a constant column gets scale 1. */
export function standardizer({ x, n, d }: Dataset): { mean: number[]; scale: number[] } {
  const mean = new Array<number>(d).fill(0);
  const sq = new Array<number>(d).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += x[i * d + j]!;
  for (let j = 0; j < d; j++) mean[j] = n > 0 ? mean[j]! / n : 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j < d; j++) {
      const diff = x[i * d + j]! - mean[j]!;
      sq[j]! += diff * diff;
    }
  const scale = sq.map((s) => {
    const std = n > 0 ? Math.sqrt(s / n) : 0;
    return std > 1e-12 ? std : 1;
  });
  return { mean, scale };
}

/** Human confidence of one row of raw features. */
export function predictOne(model: LogisticModel, row: ArrayLike<number>, offset = 0): number {
  let z = model.intercept;
  for (let j = 0; j < model.weights.length; j++)
    z += (model.weights[j]! * (row[offset + j]! - model.mean[j]!)) / model.scale[j]!;
  return sigmoid(z);
}

export function predict(model: LogisticModel, x: ArrayLike<number>, n: number): Float64Array {
  const d = model.weights.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = predictOne(model, x, i * d);
  return out;
}

/** Minimizes Σ log-loss + λ/2·‖w‖² on standardized features by damped Newton steps. */
export async function fitLogistic(data: Dataset, options: FitOptions = {}): Promise<FitResult> {
  const { n, d, y } = data;
  const l2 = options.l2 ?? 1;
  const maxIterations = options.maxIterations ?? 50;
  const tolerance = options.tolerance ?? 1e-9;
  const { mean, scale } = standardizer(data);
  const p = d + 1; // index 0 = intercept
  // Standardized design with a leading 1 column, kept in one typed array (n·(d+1) float64).
  const z = new Float64Array(n * p);
  for (let i = 0; i < n; i++) {
    z[i * p] = 1;
    for (let j = 0; j < d; j++) z[i * p + 1 + j] = (data.x[i * d + j]! - mean[j]!) / scale[j]!;
  }
  let beta = new Float64Array(p);
  const objective = (b: Float64Array): number => {
    let total = 0;
    for (let i = 0; i < n; i++) {
      let eta = 0;
      for (let k = 0; k < p; k++) eta += z[i * p + k]! * b[k]!;
      // log(1 + e^eta) − y·eta, computed stably
      total += (eta > 0 ? eta + Math.log1p(Math.exp(-eta)) : Math.log1p(Math.exp(eta))) - y[i]! * eta;
    }
    for (let k = 1; k < p; k++) total += 0.5 * l2 * b[k]! * b[k]!;
    return total;
  };

  let current = objective(beta);
  let iterations = 0;
  let converged = false;
  const grad = new Float64Array(p);
  const hess = new Float64Array(p * p);
  while (iterations < maxIterations) {
    iterations++;
    grad.fill(0);
    hess.fill(0);
    for (let i = 0; i < n; i++) {
      const row = i * p;
      let eta = 0;
      for (let k = 0; k < p; k++) eta += z[row + k]! * beta[k]!;
      const mu = sigmoid(eta);
      const w = mu * (1 - mu);
      const r = mu - y[i]!;
      for (let a = 0; a < p; a++) {
        const za = z[row + a]!;
        grad[a]! += za * r;
        const wa = w * za;
        for (let b = a; b < p; b++) hess[a * p + b]! += wa * z[row + b]!;
      }
    }
    for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) hess[a * p + b] = hess[b * p + a]!;
    for (let k = 1; k < p; k++) {
      grad[k]! += l2 * beta[k]!;
      hess[k * p + k]! += l2;
    }
    hess[0]! += 1e-12; // keeps the system solvable if every label is the same
    const step = solveSpd(hess, grad, p);
    // Damped step: halve until the objective does not increase.
    let t = 1;
    let next = beta;
    let value = current;
    for (let halvings = 0; halvings < 30; halvings++, t /= 2) {
      const candidate = beta.map((b, k) => b - t * step[k]!);
      const candidateValue = objective(candidate);
      if (candidateValue <= current + 1e-12 * Math.abs(current)) {
        next = candidate;
        value = candidateValue;
        break;
      }
    }
    const largest = Math.max(...step.map((s) => Math.abs(s * t)));
    beta = next;
    current = value;
    options.onLoss?.(current);
    options.onIteration?.(iterations, maxIterations);
    await new Promise((resolve) => setImmediate(resolve));
    if (largest < tolerance) {
      converged = true;
      break;
    }
  }
  return {
    model: { mean, scale, weights: Array.from(beta.subarray(1)), intercept: beta[0]! },
    iterations,
    converged,
  };
}

/** Solves A·x = b for a symmetric positive definite A (Cholesky). */
export function solveSpd(a: Float64Array, b: Float64Array, p: number): Float64Array {
  const l = new Float64Array(p * p);
  for (let i = 0; i < p; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * p + j]!;
      for (let k = 0; k < j; k++) sum -= l[i * p + k]! * l[j * p + k]!;
      if (i === j) l[i * p + i] = Math.sqrt(Math.max(sum, 1e-300));
      else l[i * p + j] = sum / l[j * p + j]!;
    }
  }
  const tmp = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let sum = b[i]!;
    for (let k = 0; k < i; k++) sum -= l[i * p + k]! * tmp[k]!;
    tmp[i] = sum / l[i * p + i]!;
  }
  const x = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let sum = tmp[i]!;
    for (let k = i + 1; k < p; k++) sum -= l[k * p + i]! * x[k]!;
    x[i] = sum / l[i * p + i]!;
  }
  return x;
}

// ── metrics ───────────────────────────────────────────────────────────────────────────────────────────

/** Share of rows whose prediction (≥ 0.5 → 1) equals the label. */
export function accuracy(scores: ArrayLike<number>, y: ArrayLike<number>): number {
  let right = 0;
  for (let i = 0; i < y.length; i++) if ((scores[i]! >= 0.5 ? 1 : 0) === y[i]) right++;
  return y.length === 0 ? 0 : right / y.length;
}

/** Mean negative log-likelihood, probabilities clipped to [1e-15, 1 − 1e-15] (as scikit-learn does). */
export function logLoss(scores: ArrayLike<number>, y: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < y.length; i++) {
    const q = Math.min(1 - 1e-15, Math.max(1e-15, scores[i]!));
    total -= y[i] === 1 ? Math.log(q) : Math.log(1 - q);
  }
  return y.length === 0 ? 0 : total / y.length;
}

/**
 * Area under the ROC curve = probability that a random positive scores above a random negative (ties
 * count half), from the ranks (Mann–Whitney U). Null when one class is absent.
 */
export function rocAuc(scores: ArrayLike<number>, y: ArrayLike<number>): number | null {
  const n = y.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  const ranks = new Float64Array(n);
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[order[k]!] = rank;
    i = j + 1;
  }
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n; i++)
    if (y[i] === 1) {
      positives++;
      rankSum += ranks[i]!;
    }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return null;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/** A deterministic PRNG (mulberry32) for the train/test split, so a run can be repeated. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Row indices shuffled and split: the first `1 − testShare` for training, the rest held out. */
export function trainTestSplit(
  n: number,
  testShare: number,
  seed: number,
): { train: number[]; test: number[] } {
  const random = seededRandom(seed);
  const index = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [index[i], index[j]] = [index[j]!, index[i]!];
  }
  const cut = Math.round(n * (1 - testShare));
  return { train: index.slice(0, cut), test: index.slice(cut) };
}
