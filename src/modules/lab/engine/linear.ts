// Linear models, our own compact code: least squares / ridge (normal equations, Cholesky), lasso and
// elastic net (coordinate descent, scikit-learn's objective), logistic regression (L2, L-BFGS; binary with
// one output, multinomial softmax otherwise). Coefficients are on the preprocessed (standardized) features.
import { EngineError, throwIfAborted } from "./errors.js";
import type { Matrix } from "./preprocess.js";
import type { ModelArtifact } from "./types.js";

export interface FitContext {
  signal?: AbortSignal;
  /** Progress of this fit, 0–1. */
  progress?: (fraction: number) => void;
}

type LinearArtifact = Extract<ModelArtifact, { type: "linear" }>;

/** Solve the symmetric positive definite system A x = b (A n×n row-major) by Cholesky; A is not changed. */
export function solveSpd(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  let jitter = 0;
  for (let attempt = 0; attempt < 8; attempt++) {
    let ok = true;
    for (let i = 0; i < n && ok; i++) {
      for (let j = 0; j <= i; j++) {
        let sum = a[i * n + j]! + (i === j ? jitter : 0);
        for (let k = 0; k < j; k++) sum -= l[i * n + k]! * l[j * n + k]!;
        if (i === j) {
          if (sum <= 0) {
            ok = false;
            break;
          }
          l[i * n + i] = Math.sqrt(sum);
        } else l[i * n + j] = sum / l[j * n + j]!;
      }
    }
    if (ok) {
      const z = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let s = b[i]!;
        for (let k = 0; k < i; k++) s -= l[i * n + k]! * z[k]!;
        z[i] = s / l[i * n + i]!;
      }
      const x = new Float64Array(n);
      for (let i = n - 1; i >= 0; i--) {
        let s = z[i]!;
        for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * x[k]!;
        x[i] = s / l[i * n + i]!;
      }
      return x;
    }
    let trace = 0;
    for (let i = 0; i < n; i++) trace += Math.abs(a[i * n + i]!);
    jitter = jitter === 0 ? Math.max(1e-12, (1e-10 * trace) / Math.max(1, n)) : jitter * 100;
  }
  throw new EngineError("invalid_input", "The features are degenerate: the linear system has no solution");
}

function columnMeans(x: Matrix): Float64Array {
  const means = new Float64Array(x.cols);
  for (let i = 0; i < x.rows; i++)
    for (let j = 0; j < x.cols; j++) means[j] = means[j]! + x.data[i * x.cols + j]!;
  for (let j = 0; j < x.cols; j++) means[j] = means[j]! / Math.max(1, x.rows);
  return means;
}

/** Ordinary least squares (alpha 0) or ridge: minimize ||y − Xw − b||² + alpha ||w||². */
export function fitRidge(x: Matrix, y: Float64Array, alpha: number, fitIntercept = true): LinearArtifact {
  const p = x.cols;
  const xm = fitIntercept ? columnMeans(x) : new Float64Array(p);
  let ym = 0;
  if (fitIntercept) {
    for (let i = 0; i < x.rows; i++) ym += y[i]!;
    ym /= Math.max(1, x.rows);
  }
  const xtx = new Float64Array(p * p);
  const xty = new Float64Array(p);
  const row = new Float64Array(p);
  for (let i = 0; i < x.rows; i++) {
    for (let j = 0; j < p; j++) row[j] = x.data[i * p + j]! - xm[j]!;
    const yi = y[i]! - ym;
    for (let j = 0; j < p; j++) {
      const rj = row[j]!;
      if (rj === 0) continue;
      xty[j] = xty[j]! + rj * yi;
      for (let k = 0; k <= j; k++) xtx[j * p + k] = xtx[j * p + k]! + rj * row[k]!;
    }
  }
  for (let j = 0; j < p; j++) {
    for (let k = 0; k < j; k++) xtx[k * p + j] = xtx[j * p + k]!;
    xtx[j * p + j] = xtx[j * p + j]! + alpha;
  }
  const w = p > 0 ? solveSpd(xtx, xty, p) : new Float64Array(0);
  let intercept = ym;
  for (let j = 0; j < p; j++) intercept -= w[j]! * xm[j]!;
  return { type: "linear", coefficients: [Array.from(w)], intercepts: [intercept], link: "identity" };
}

/**
 * Elastic net by cyclic coordinate descent, scikit-learn's objective:
 * 1/(2n) ||y − Xw − b||² + alpha·l1Ratio·||w||₁ + alpha·(1 − l1Ratio)/2·||w||². Lasso is l1Ratio = 1.
 */
export function fitElasticNet(
  x: Matrix,
  y: Float64Array,
  options: { alpha: number; l1Ratio: number; maxIter: number; tol: number; fitIntercept?: boolean },
  ctx: FitContext = {},
): LinearArtifact {
  const n = x.rows;
  const p = x.cols;
  const fitIntercept = options.fitIntercept ?? true;
  const xm = fitIntercept ? columnMeans(x) : new Float64Array(p);
  let ym = 0;
  if (fitIntercept) {
    for (let i = 0; i < n; i++) ym += y[i]!;
    ym /= Math.max(1, n);
  }
  // Column-major centered copy, for fast column sweeps.
  const cols = new Float64Array(n * p);
  const norms = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    let s = 0;
    for (let i = 0; i < n; i++) {
      const v = x.data[i * p + j]! - xm[j]!;
      cols[j * n + i] = v;
      s += v * v;
    }
    norms[j] = s;
  }
  const residual = new Float64Array(n);
  for (let i = 0; i < n; i++) residual[i] = y[i]! - ym;
  const w = new Float64Array(p);
  const l1 = options.alpha * options.l1Ratio * n;
  const l2 = options.alpha * (1 - options.l1Ratio) * n;
  let ymax = 0;
  for (let i = 0; i < n; i++) ymax = Math.max(ymax, Math.abs(residual[i]!));
  for (let iter = 0; iter < options.maxIter; iter++) {
    if (iter % 10 === 0) throwIfAborted(ctx.signal);
    let maxChange = 0;
    let maxW = 0;
    for (let j = 0; j < p; j++) {
      if (norms[j] === 0) continue;
      const old = w[j]!;
      let rho = 0;
      const base = j * n;
      for (let i = 0; i < n; i++) rho += cols[base + i]! * residual[i]!;
      rho += norms[j]! * old;
      const next = (Math.sign(rho) * Math.max(Math.abs(rho) - l1, 0)) / (norms[j]! + l2);
      if (next !== old) {
        const d = next - old;
        for (let i = 0; i < n; i++) residual[i] = residual[i]! - d * cols[base + i]!;
        w[j] = next;
      }
      maxChange = Math.max(maxChange, Math.abs(next - old));
      maxW = Math.max(maxW, Math.abs(next));
    }
    ctx.progress?.((iter + 1) / options.maxIter);
    if (maxW === 0 || maxChange / maxW < options.tol) break;
  }
  let intercept = ym;
  for (let j = 0; j < p; j++) intercept -= w[j]! * xm[j]!;
  return { type: "linear", coefficients: [Array.from(w)], intercepts: [intercept], link: "identity" };
}

/**
 * Minimize f with L-BFGS (two-loop recursion, backtracking Armijo line search). `fg` writes the gradient
 * into `grad` and returns the value.
 */
export function lbfgs(
  fg: (w: Float64Array, grad: Float64Array) => number,
  w0: Float64Array,
  options: { maxIter: number; tol: number; memory?: number },
  ctx: FitContext = {},
): Float64Array {
  const m = options.memory ?? 10;
  const d = w0.length;
  let w = Float64Array.from(w0);
  let g = new Float64Array(d);
  let f = fg(w, g);
  const s: Float64Array[] = [];
  const yv: Float64Array[] = [];
  const rho: number[] = [];
  const alpha = new Float64Array(m);
  const dir = new Float64Array(d);
  const wNew = new Float64Array(d);
  let gNew = new Float64Array(d);
  for (let iter = 0; iter < options.maxIter; iter++) {
    throwIfAborted(ctx.signal);
    let gmax = 0;
    for (let i = 0; i < d; i++) gmax = Math.max(gmax, Math.abs(g[i]!));
    if (gmax <= options.tol) break;
    // Two-loop recursion: dir = −H g.
    for (let i = 0; i < d; i++) dir[i] = -g[i]!;
    for (let k = s.length - 1; k >= 0; k--) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += s[k]![i]! * dir[i]!;
      alpha[k] = rho[k]! * dot;
      for (let i = 0; i < d; i++) dir[i] = dir[i]! - alpha[k]! * yv[k]![i]!;
    }
    if (s.length > 0) {
      const last = s.length - 1;
      let sy = 0;
      let yy = 0;
      for (let i = 0; i < d; i++) {
        sy += s[last]![i]! * yv[last]![i]!;
        yy += yv[last]![i]! * yv[last]![i]!;
      }
      const gamma = sy / yy;
      for (let i = 0; i < d; i++) dir[i] = dir[i]! * gamma;
    } else {
      const gnorm = Math.sqrt(g.reduce((a, v) => a + v * v, 0));
      for (let i = 0; i < d; i++) dir[i] = dir[i]! / Math.max(1, gnorm);
    }
    for (let k = 0; k < s.length; k++) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += yv[k]![i]! * dir[i]!;
      const beta = rho[k]! * dot;
      for (let i = 0; i < d; i++) dir[i] = dir[i]! + s[k]![i]! * (alpha[k]! - beta);
    }
    let slope = 0;
    for (let i = 0; i < d; i++) slope += g[i]! * dir[i]!;
    if (slope >= 0) {
      // Not a descent direction: restart from steepest descent.
      s.length = 0;
      yv.length = 0;
      rho.length = 0;
      for (let i = 0; i < d; i++) dir[i] = -g[i]!;
      slope = -g.reduce((a, v) => a + v * v, 0);
    }
    let step = 1;
    let fNew = 0;
    let accepted = false;
    for (let ls = 0; ls < 30; ls++) {
      for (let i = 0; i < d; i++) wNew[i] = w[i]! + step * dir[i]!;
      fNew = fg(wNew, gNew);
      if (fNew <= f + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) break;
    const sk = new Float64Array(d);
    const yk = new Float64Array(d);
    let sy = 0;
    for (let i = 0; i < d; i++) {
      sk[i] = wNew[i]! - w[i]!;
      yk[i] = gNew[i]! - g[i]!;
      sy += sk[i]! * yk[i]!;
    }
    if (sy > 1e-12) {
      s.push(sk);
      yv.push(yk);
      rho.push(1 / sy);
      if (s.length > m) {
        s.shift();
        yv.shift();
        rho.shift();
      }
    }
    const df = f - fNew;
    w = Float64Array.from(wNew);
    const tmp = g;
    g = gNew;
    gNew = tmp;
    f = fNew;
    ctx.progress?.((iter + 1) / options.maxIter);
    if (Math.abs(df) <= 1e-12 * Math.max(1, Math.abs(f))) break;
  }
  return w;
}

/**
 * L2-regularized logistic regression, scikit-learn's objective C·Σ loss + ½||w||² (the intercept is not
 * penalized). Binary: one output (the score of class 1), logistic link. Multiclass: multinomial, softmax.
 */
export function fitLogistic(
  x: Matrix,
  y: Float64Array,
  classCount: number,
  options: { c: number; maxIter: number; tol: number; fitIntercept?: boolean },
  ctx: FitContext = {},
): LinearArtifact {
  const n = x.rows;
  const p = x.cols;
  const fitIntercept = options.fitIntercept ?? true;
  const k = classCount <= 2 ? 1 : classCount;
  const stride = p + 1; // p coefficients then the intercept, per output
  const lambda = 1 / (options.c * n); // the objective divided by C·n
  const z = new Float64Array(k);
  const fg = (w: Float64Array, grad: Float64Array): number => {
    grad.fill(0);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      const off = i * p;
      for (let c = 0; c < k; c++) {
        let s = fitIntercept ? w[c * stride + p]! : 0;
        const wb = c * stride;
        for (let j = 0; j < p; j++) s += w[wb + j]! * x.data[off + j]!;
        z[c] = s;
      }
      const yi = y[i]!;
      if (k === 1) {
        const s = z[0]!;
        const t = yi === 1 ? 1 : 0;
        // log(1 + e^s) − t·s, stably
        loss += (s > 0 ? s + Math.log1p(Math.exp(-s)) : Math.log1p(Math.exp(s))) - t * s;
        const r = 1 / (1 + Math.exp(-s)) - t;
        if (r !== 0) {
          for (let j = 0; j < p; j++) grad[j] = grad[j]! + r * x.data[off + j]!;
          grad[p] = grad[p]! + r;
        }
      } else {
        let max = -Infinity;
        for (let c = 0; c < k; c++) max = Math.max(max, z[c]!);
        let sum = 0;
        for (let c = 0; c < k; c++) sum += Math.exp(z[c]! - max);
        const lse = max + Math.log(sum);
        loss += lse - z[yi]!;
        for (let c = 0; c < k; c++) {
          const r = Math.exp(z[c]! - lse) - (c === yi ? 1 : 0);
          const wb = c * stride;
          for (let j = 0; j < p; j++) grad[wb + j] = grad[wb + j]! + r * x.data[off + j]!;
          grad[wb + p] = grad[wb + p]! + r;
        }
      }
    }
    let reg = 0;
    for (let c = 0; c < k; c++)
      for (let j = 0; j < p; j++) {
        const wj = w[c * stride + j]!;
        reg += wj * wj;
      }
    for (let i = 0; i < grad.length; i++) grad[i] = grad[i]! / n;
    for (let c = 0; c < k; c++) {
      for (let j = 0; j < p; j++) grad[c * stride + j] = grad[c * stride + j]! + lambda * w[c * stride + j]!;
      if (!fitIntercept) grad[c * stride + p] = 0;
    }
    return loss / n + 0.5 * lambda * reg;
  };
  const w = lbfgs(fg, new Float64Array(k * stride), { maxIter: options.maxIter, tol: options.tol }, ctx);
  const coefficients: number[][] = [];
  const intercepts: number[] = [];
  for (let c = 0; c < k; c++) {
    coefficients.push(Array.from(w.subarray(c * stride, c * stride + p)));
    intercepts.push(fitIntercept ? w[c * stride + p]! : 0);
  }
  return { type: "linear", coefficients, intercepts, link: k === 1 ? "logistic" : "softmax" };
}
