// Aggregation of benchmark results per (model, provider, tier): pure functions, the same numbers the
// upstream computes with Python's `statistics` module (sample stdev, `quantiles` with its default
// "exclusive" method), so a run aggregates identically here and there.
import type { ResultEvent } from "./types.js";

export type ConfidenceLabel = "high" | "medium" | "low";

export function mean(values: readonly number[]): number {
  if (values.length === 0) return 0;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Sample standard deviation (n − 1); 0 below two values. */
export function stdev(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  let squares = 0;
  for (const v of values) squares += (v - m) ** 2;
  return Math.sqrt(squares / (values.length - 1));
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Python's `statistics.quantiles(data, n=n)` (method "exclusive"): the n − 1 cut points dividing the data
 * into n intervals of equal probability. Needs at least two values.
 */
export function quantiles(values: readonly number[], n: number): number[] {
  const data = [...values].sort((a, b) => a - b);
  const ld = data.length;
  if (ld < 2) throw new RangeError("quantiles need at least two values");
  const m = ld + 1;
  const cuts: number[] = [];
  for (let i = 1; i < n; i++) {
    let j = Math.floor((i * m) / n);
    j = j < 1 ? 1 : j > ld - 1 ? ld - 1 : j;
    const delta = i * m - j * n;
    cuts.push((data[j - 1]! * (n - delta) + data[j]! * delta) / n);
  }
  return cuts;
}

/** 95th percentile: the quantile cut when n ≥ 4, else the maximum (the value itself for one). */
export function p95(values: readonly number[]): number {
  if (values.length === 0) return 0;
  if (values.length >= 4) return quantiles(values, 20)[18]!;
  return Math.max(...values);
}

/** 99th percentile: the quantile cut when n ≥ 5, else the maximum. */
export function p99(values: readonly number[]): number {
  if (values.length === 0) return 0;
  if (values.length >= 5) return quantiles(values, 100)[98]!;
  return Math.max(...values);
}

/** Coefficient of variation in percent (stdev / mean × 100); 0 below two values or for a zero mean. */
export function coefficientOfVariation(values: readonly number[]): number {
  const m = mean(values);
  if (values.length < 2 || m === 0) return 0;
  return (stdev(values) / m) * 100;
}

/** high when CV < 10 % with n ≥ 3; low when CV > 30 % or n = 1; medium otherwise. */
export function confidenceLabel(cvPercent: number, n: number): ConfidenceLabel {
  if (cvPercent < 10 && n >= 3) return "high";
  if (cvPercent > 30 || n <= 1) return "low";
  return "medium";
}

/** Values outside [Q1 − 1.5·IQR, Q3 + 1.5·IQR] (quartiles as Python computes them); none below four values. */
export function iqrOutliers(values: readonly number[]): number[] {
  if (values.length < 4) return [];
  const [q1, , q3] = quantiles(values, 4) as [number, number, number];
  const iqr = q3 - q1;
  const lower = q1 - 1.5 * iqr;
  const upper = q3 + 1.5 * iqr;
  return values.filter((v) => v < lower || v > upper);
}

export interface Distribution {
  n: number;
  mean: number;
  stdev: number;
  min: number;
  max: number;
  p50: number;
  p95: number;
}

export function describe(values: readonly number[]): Distribution {
  if (values.length === 0) return { n: 0, mean: 0, stdev: 0, min: 0, max: 0, p50: 0, p95: 0 };
  return {
    n: values.length,
    mean: mean(values),
    stdev: stdev(values),
    min: Math.min(...values),
    max: Math.max(...values),
    p50: median(values),
    p95: p95(values),
  };
}

/** One row of aggregated results: a (model, provider, tier) over the successful runs. */
export interface AggregateRow {
  model: string;
  provider: string;
  model_id: string;
  context_tokens: number;
  /** Runs attempted (successful + failed). */
  runs: number;
  failures: number;
  avg_tps: number;
  std_dev_tps: number;
  min_tps: number;
  max_tps: number;
  p50_tps: number;
  p95_tps: number;
  avg_ttft_ms: number;
  std_dev_ttft: number;
  min_ttft_ms: number;
  max_ttft_ms: number;
  p50_ttft: number;
  p95_ttft: number;
  p99_ttft: number;
  cv_tps: number;
  cv_ttft: number;
  confidence: ConfidenceLabel;
  outlier_count: number;
  avg_output_speed_tps: number;
  avg_itl_ms: number;
  avg_input_tps: number;
  avg_output_tokens: number;
  avg_cost: number;
  total_cost: number;
}

type AggregatableResult = Pick<
  ResultEvent,
  | "model"
  | "provider"
  | "model_id"
  | "context_tokens"
  | "tokens_per_second"
  | "ttft_ms"
  | "output_tokens"
  | "cost"
  | "input_tokens_per_second"
  | "success"
> &
  Partial<Pick<ResultEvent, "output_speed_tps" | "itl_ms">>;

const positive = (values: readonly (number | undefined)[]) =>
  values.filter((v): v is number => typeof v === "number" && Number.isFinite(v) && v > 0);

/** Aggregates result events per (model, provider, tier) in first-seen order. */
export function aggregateResults(results: readonly AggregatableResult[]): AggregateRow[] {
  const groups = new Map<string, AggregatableResult[]>();
  for (const r of results) {
    const key = JSON.stringify([r.model_id, r.provider, r.context_tokens]);
    const group = groups.get(key);
    if (group) group.push(r);
    else groups.set(key, [r]);
  }
  return [...groups.values()].map((group) => aggregateGroup(group));
}

function aggregateGroup(group: readonly AggregatableResult[]): AggregateRow {
  const first = group[0]!;
  const ok = group.filter((r) => r.success);
  const tps = ok.map((r) => r.tokens_per_second);
  const ttft = ok.map((r) => r.ttft_ms);
  const tpsStats = describe(tps);
  const ttftStats = describe(ttft);
  const cvTps = coefficientOfVariation(tps);
  return {
    model: first.model,
    provider: first.provider,
    model_id: first.model_id,
    context_tokens: first.context_tokens,
    runs: group.length,
    failures: group.length - ok.length,
    avg_tps: tpsStats.mean,
    std_dev_tps: tpsStats.stdev,
    min_tps: tpsStats.min,
    max_tps: tpsStats.max,
    p50_tps: tpsStats.p50,
    p95_tps: tpsStats.p95,
    avg_ttft_ms: ttftStats.mean,
    std_dev_ttft: ttftStats.stdev,
    min_ttft_ms: ttftStats.min,
    max_ttft_ms: ttftStats.max,
    p50_ttft: ttftStats.p50,
    p95_ttft: ttftStats.p95,
    p99_ttft: p99(ttft),
    cv_tps: cvTps,
    cv_ttft: coefficientOfVariation(ttft),
    // No successful run: nothing to be confident about.
    confidence: ok.length === 0 ? "low" : confidenceLabel(cvTps, ok.length),
    outlier_count: iqrOutliers(tps).length,
    avg_output_speed_tps: mean(positive(ok.map((r) => r.output_speed_tps))),
    avg_itl_ms: mean(positive(ok.map((r) => r.itl_ms))),
    avg_input_tps: mean(positive(ok.map((r) => r.input_tokens_per_second))),
    avg_output_tokens: mean(ok.map((r) => r.output_tokens)),
    avg_cost: mean(ok.map((r) => r.cost)),
    total_cost: ok.reduce((sum, r) => sum + r.cost, 0),
  };
}
