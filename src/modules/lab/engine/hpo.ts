// Hyperparameter search (our own compact code): random search and a TPE sampler (Bergstra et al. 2011, as
// Optuna's and hyperopt's default samplers do it, with independent per-parameter Parzen estimators).
import { CancelledError, throwIfAborted } from "./errors.js";
import type { SearchDimension } from "./params.js";
import { createRng, deriveSeed, type Rng } from "./random.js";

export type TrialValue = string | number | boolean | null;

export interface Trial {
  number: number;
  params: Record<string, TrialValue>;
  /** The goal metric on the validation split; null when the trial could not be fitted. */
  value: number | null;
  state: "COMPLETE" | "FAIL";
  error?: string;
}

export type Sampler = "tpe" | "random";

export interface OptimizeOptions {
  nTrials: number;
  sampler: Sampler;
  seed: number;
  maximize: boolean;
  signal?: AbortSignal;
  /** After each trial: (trials done, total). */
  onTrial?: (done: number, total: number, trial: Trial) => void;
}

export interface OptimizeResult {
  trials: Trial[];
  best: Trial | null;
}

/** Trials that run before TPE starts modelling (random draws). */
export function startupTrials(nTrials: number): number {
  return Math.min(10, Math.max(3, Math.ceil(nTrials * 0.2)));
}

function toUnit(dim: Extract<SearchDimension, { type: "int" | "float" }>, value: number): number {
  const lo = dim.log ? Math.log(dim.low) : dim.low;
  const hi = dim.log ? Math.log(dim.high) : dim.high;
  const v = dim.log ? Math.log(value) : value;
  return hi > lo ? (v - lo) / (hi - lo) : 0.5;
}

function fromUnit(dim: Extract<SearchDimension, { type: "int" | "float" }>, u: number): number {
  const clamped = Math.min(1, Math.max(0, u));
  const lo = dim.log ? Math.log(dim.low) : dim.low;
  const hi = dim.log ? Math.log(dim.high) : dim.high;
  let v = lo + clamped * (hi - lo);
  if (dim.log) v = Math.exp(v);
  if (dim.type === "int") v = Math.min(Math.floor(dim.high), Math.max(Math.ceil(dim.low), Math.round(v)));
  else v = Math.min(dim.high, Math.max(dim.low, v));
  return v;
}

function sampleRandom(dim: SearchDimension, rng: Rng): TrialValue {
  if (dim.type === "categorical") return dim.choices[rng.int(dim.choices.length)]!;
  return fromUnit(dim, rng.next());
}

/** A 1-D Parzen estimator over [0, 1]: Gaussians at the points plus a wide prior at the centre. */
function parzen(points: number[]): { mus: number[]; sigmas: number[] } {
  const mus = [0.5, ...points];
  const sorted = [...mus].sort((a, b) => a - b);
  const sigmas = mus.map((mu, i) => {
    if (i === 0) return 1;
    const k = sorted.indexOf(mu);
    const left = k > 0 ? mu - sorted[k - 1]! : mu;
    const right = k < sorted.length - 1 ? sorted[k + 1]! - mu : 1 - mu;
    const bandwidth = Math.max(left, right);
    return Math.min(1, Math.max(bandwidth, 1 / Math.min(100, 1 + points.length)));
  });
  return { mus, sigmas };
}

function parzenLogPdf(model: { mus: number[]; sigmas: number[] }, x: number): number {
  let p = 0;
  for (let i = 0; i < model.mus.length; i++) {
    const z = (x - model.mus[i]!) / model.sigmas[i]!;
    p += Math.exp(-0.5 * z * z) / model.sigmas[i]!;
  }
  return Math.log(p / model.mus.length + 1e-300);
}

function parzenSample(model: { mus: number[]; sigmas: number[] }, rng: Rng): number {
  for (let attempt = 0; attempt < 100; attempt++) {
    const i = rng.int(model.mus.length);
    const x = model.mus[i]! + model.sigmas[i]! * rng.normal();
    if (x >= 0 && x <= 1) return x;
  }
  return rng.next();
}

const CANDIDATES = 24;

function sampleTpe(dim: SearchDimension, good: Trial[], bad: Trial[], rng: Rng): TrialValue {
  if (dim.type === "categorical") {
    const weights = (trials: Trial[]) => {
      const w = dim.choices.map(() => 1);
      for (const t of trials) {
        const k = dim.choices.indexOf(t.params[dim.name] ?? null);
        if (k >= 0) w[k] = w[k]! + 1;
      }
      const total = w.reduce((a, b) => a + b, 0);
      return w.map((v) => v / total);
    };
    const l = weights(good);
    const g = weights(bad);
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < CANDIDATES; c++) {
      let u = rng.next();
      let k = 0;
      while (k < l.length - 1 && u > l[k]!) {
        u -= l[k]!;
        k++;
      }
      const score = Math.log(l[k]!) - Math.log(g[k]!);
      if (score > bestScore) {
        bestScore = score;
        best = k;
      }
    }
    return dim.choices[best]!;
  }
  const l = parzen(good.map((t) => toUnit(dim, Number(t.params[dim.name]))));
  const g = parzen(bad.map((t) => toUnit(dim, Number(t.params[dim.name]))));
  let bestX = 0.5;
  let bestScore = -Infinity;
  for (let c = 0; c < CANDIDATES; c++) {
    const x = parzenSample(l, rng);
    const score = parzenLogPdf(l, x) - parzenLogPdf(g, x);
    if (score > bestScore) {
      bestScore = score;
      bestX = x;
    }
  }
  return fromUnit(dim, bestX);
}

/** Propose the parameters of the next trial from the finished ones. */
export function suggest(
  space: SearchDimension[],
  history: Trial[],
  options: { sampler: Sampler; seed: number; maximize: boolean; nTrials: number },
): Record<string, TrialValue> {
  const rng = createRng(deriveSeed(options.seed, history.length));
  const complete = history.filter(
    (t) => t.state === "COMPLETE" && t.value !== null && Number.isFinite(t.value),
  );
  const params: Record<string, TrialValue> = {};
  if (options.sampler === "random" || complete.length < startupTrials(options.nTrials)) {
    for (const dim of space) params[dim.name] = sampleRandom(dim, rng);
    return params;
  }
  const sorted = [...complete].sort((a, b) => (options.maximize ? b.value! - a.value! : a.value! - b.value!));
  const nGood = Math.min(25, Math.max(1, Math.ceil(0.25 * sorted.length)));
  const good = sorted.slice(0, nGood);
  const bad = sorted.slice(nGood);
  for (const dim of space) params[dim.name] = sampleTpe(dim, good, bad, rng);
  return params;
}

/** Run `nTrials` trials of `objective` (which returns the goal metric); failures are recorded, not thrown. */
export function optimize(
  space: SearchDimension[],
  objective: (params: Record<string, TrialValue>, trialNumber: number) => number,
  options: OptimizeOptions,
): OptimizeResult {
  const trials: Trial[] = [];
  for (let t = 0; t < options.nTrials; t++) {
    throwIfAborted(options.signal);
    const params = suggest(space, trials, options);
    let trial: Trial;
    try {
      const value = objective(params, t);
      trial = Number.isFinite(value)
        ? { number: t, params, value, state: "COMPLETE" }
        : { number: t, params, value: null, state: "FAIL", error: "the goal metric is not a number" };
    } catch (error) {
      if (error instanceof CancelledError) throw error;
      trial = {
        number: t,
        params,
        value: null,
        state: "FAIL",
        error: error instanceof Error ? error.message : String(error),
      };
    }
    trials.push(trial);
    options.onTrial?.(t + 1, options.nTrials, trial);
  }
  return { trials, best: bestTrial(trials, options.maximize) };
}

export function bestTrial(trials: Trial[], maximize: boolean): Trial | null {
  let best: Trial | null = null;
  for (const t of trials) {
    if (t.state !== "COMPLETE" || t.value === null) continue;
    if (best === null || (maximize ? t.value > best.value! : t.value < best.value!)) best = t;
  }
  return best;
}
