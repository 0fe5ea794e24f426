// The risk model's feature vector: a fixed, documented list of float32 numbers computed from the features a
// challenge session records (src/modules/guard/challenges/service.ts). docs/ml.md documents the same list
// for operators who bring their own model; changing it means a new FEATURE_SET and retraining.
import type { SessionFeatures } from "../challenges/service.js";
import { CHALLENGE_TYPES } from "../shared.schema.js";

export type { SessionFeatures };

/** Identifies this list; stored with every model (`feature_names`) so a mismatch is detected on load. */
export const FEATURE_SET = "hiveguard-risk-v2";

/** Seconds assumed when the client had no earlier challenge in the last hour (and the cap of the gap). */
export const NO_PREVIOUS_GAP_S = 3600;
export const UA_LENGTH_CAP = 512;

/** Input and output tensor names of the ONNX models HiveGuard exports. */
export const ONNX_INPUT = "features";
export const ONNX_OUTPUT = "score";

const num = (value: unknown, fallback = 0): number =>
  typeof value === "number" && Number.isFinite(value) ? value : fallback;
const flag = (value: unknown): number => (value === true ? 1 : 0);
const log1p = (x: number) => Math.log1p(Math.max(0, x));

/** Name, meaning and how each is computed, in vector order. */
export const FEATURES: readonly { name: string; unit: string; compute: (f: SessionFeatures) => number }[] = [
  {
    name: "log_time_to_answer",
    unit: "ln(1 + seconds from generate to submit)",
    compute: (f) => log1p(num(f.time_to_answer_ms) / 1000),
  },
  {
    name: "log_time_since_prev_generate",
    unit: `ln(1 + seconds between this generate and the same client's previous one; ${NO_PREVIOUS_GAP_S} when none within an hour, capped there)`,
    compute: (f) =>
      log1p(Math.min(NO_PREVIOUS_GAP_S, num(f.ms_since_prev_generate, NO_PREVIOUS_GAP_S * 1000) / 1000)),
  },
  {
    name: "client_gt_accuracy",
    unit: "(gt_correct + 1) / (gt_total + 2) of the client before this answer (0.5 for a new client)",
    compute: (f) => (num(f.solver_gt_correct) + 1) / (num(f.solver_gt_total) + 2),
  },
  {
    name: "log_client_gt_total",
    unit: "ln(1 + ground-truth answers the client gave before this one)",
    compute: (f) => log1p(num(f.solver_gt_total)),
  },
  {
    name: "log_client_generates_per_minute",
    unit: "ln(1 + generate calls of the client in the current clock minute, counted at submit)",
    compute: (f) => log1p(num(f.client_generates_this_minute)),
  },
  {
    name: "ua_length",
    unit: `User-Agent length in characters, capped at ${UA_LENGTH_CAP}`,
    compute: (f) => Math.min(UA_LENGTH_CAP, num(f.ua_length)),
  },
  {
    name: "ua_automation",
    unit: "1 when the User-Agent names an automation tool or HTTP library (headless, curl, python...), else 0",
    compute: (f) => flag(f.ua_automation),
  },
  {
    name: "has_accept_language",
    unit: "1 when the request had an Accept-Language header, else 0",
    compute: (f) => flag(f.has_accept_language),
  },
  {
    name: "has_accept",
    unit: "1 when the request had an Accept header, else 0",
    compute: (f) => flag(f.has_accept),
  },
  { name: "tier", unit: "ladder tier of the challenge: 1, 2 or 3", compute: (f) => num(f.tier, 1) },
  {
    name: "log_client_recent_failures",
    unit: "ln(1 + failed challenges of the client within the escalation window, decayed, when it was served)",
    compute: (f) => log1p(num(f.client_recent_failures)),
  },
  {
    name: "log_network_recent_failures",
    unit: "ln(1 + failed challenges of the client's network (IPv4 /24, IPv6 /64), decayed, when it was served)",
    compute: (f) => log1p(num(f.network_recent_failures)),
  },
  {
    name: "client_answer_time_sd",
    unit: "standard deviation of ln(1 + seconds to answer) over the client's answers in the last hour, this one included (0 with fewer than two)",
    compute: (f) => num(f.client_answer_time_sd),
  },
  ...CHALLENGE_TYPES.map((type) => ({
    name: `type_${type}`,
    unit: `1 when the challenge type is ${type}, else 0 (one-hot; the modality follows from the type)`,
    compute: (f: SessionFeatures) => (f.challenge_type === type ? 1 : 0),
  })),
];

export const FEATURE_NAMES: readonly string[] = FEATURES.map((feature) => feature.name);
export const FEATURE_COUNT = FEATURES.length;

/** One session's vector (float64 values that are exactly representable after float32 rounding). */
export function featureVector(features: SessionFeatures): number[] {
  return FEATURES.map((feature) => Math.fround(feature.compute(features)));
}

/** Many sessions as one row-major float32 batch, the ONNX input layout. */
export function featureBatch(rows: readonly SessionFeatures[]): Float32Array {
  const out = new Float32Array(rows.length * FEATURE_COUNT);
  rows.forEach((row, i) => out.set(featureVector(row), i * FEATURE_COUNT));
  return out;
}
