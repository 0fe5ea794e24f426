// Scoring of tool-calling evals (bench-notes.md "Tool-calling evals"), pure functions over what a model called:
//   tool selection     1 or 0: the called tool's name equals the expected one, case-insensitively, or is one of
//                      a list of acceptable names; when no call is expected, 1 exactly when none was made
//   parameter accuracy the fraction of the expected keys whose value the call matched (strings
//                      case-insensitively, numbers by value, anything else by deep equality); null when the
//                      case expects no parameters (not scored), 1 for an empty expectation
//   overall            0.6 × tool + 0.4 × params (the tool score alone when parameters are not scored)
//   multi-turn         completion × min(1, optimal_hops / hops) − 0.1 per call repeating the one before it −
//                      0.1 per detour (a call before the last that is neither a valid prerequisite nor an
//                      expected tool), clamped to [0, 1]; completion is the overall score of the last call
// Every score is rounded to 4 decimals (computed unrounded first); percentages in summaries to 1 decimal.

export type ExpectedTool = string | readonly string[] | null;
export type Params = Readonly<Record<string, unknown>>;

/** One call of a multi-turn chain. */
export interface ChainCall {
  tool_name: string;
  params: Params | null;
  round: number;
}

export interface MultiTurnScore {
  completion: number;
  efficiency: number;
  redundancy_penalty: number;
  detour_penalty: number;
  overall_score: number;
}

export const TOOL_WEIGHT = 0.6;
export const PARAM_WEIGHT = 0.4;
export const REPEAT_PENALTY = 0.1;
export const DETOUR_PENALTY = 0.1;

/** Rounded to 4 decimals (half away from zero on the decimal value, so 0.86665 stays 0.8667 however stored). */
export function round4(value: number): number {
  return Math.round((value + Number.EPSILON * Math.sign(value)) * 10_000) / 10_000;
}

const lower = (name: string) => name.toLowerCase();

/** Whether `actual` is (one of) the expected tool(s), case-insensitively; false when either is missing. */
export function toolMatches(actual: string | null | undefined, expected: ExpectedTool): boolean {
  if (actual === null || actual === undefined || expected === null) return false;
  const wanted = typeof expected === "string" ? [expected] : expected;
  return wanted.some((name) => lower(name) === lower(actual));
}

/** 1 or 0. `expected` null means no call is expected: 1 exactly when the model called nothing. */
export function scoreToolSelection(expected: ExpectedTool, actual: string | null | undefined): number {
  if (expected === null) return actual === null || actual === undefined ? 1 : 0;
  return toolMatches(actual, expected) ? 1 : 0;
}

/** Two argument values the same? Strings case-insensitively, numbers by value, the rest structurally. */
export function paramValuesMatch(expected: unknown, actual: unknown): boolean {
  if (typeof expected === "string" && typeof actual === "string") return lower(expected) === lower(actual);
  if (typeof expected === "number" && typeof actual === "number") return expected === actual;
  return deepEqual(expected, actual);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const other = b as unknown[];
    return a.length === other.length && a.every((item, i) => deepEqual(item, other[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return (
    ka.length === kb.length &&
    ka.every(
      (key) =>
        Object.hasOwn(b as object, key) &&
        deepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
    )
  );
}

/** The fraction of expected keys matched (0–1), or null when parameters are not scored. */
export function scoreParams(
  expected: Params | null | undefined,
  actual: Params | null | undefined,
): number | null {
  const fraction = rawParams(expected, actual);
  return fraction === null ? null : round4(fraction);
}

/** 0.6 × tool + 0.4 × params; the tool score alone when parameters are not scored. */
export function overallScore(tool: number, params: number | null): number {
  if (params === null) return tool;
  return round4(TOOL_WEIGHT * tool + PARAM_WEIGHT * params);
}

/** The three scores of a single-turn case. */
export function scoreSingleTurn(
  expected: { tool: ExpectedTool; params: Params | null },
  actual: { tool: string | null; params: Params | null },
) {
  const tool = scoreToolSelection(expected.tool, actual.tool);
  // Unrounded parameter fraction for the overall, so rounding happens once.
  const params = rawParams(expected.params, actual.params);
  return {
    tool_selection_score: tool,
    param_accuracy: params === null ? null : round4(params),
    overall_score: params === null ? tool : round4(TOOL_WEIGHT * tool + PARAM_WEIGHT * params),
  };
}

function rawParams(expected: Params | null | undefined, actual: Params | null | undefined): number | null {
  if (expected === null || expected === undefined) return null;
  const keys = Object.keys(expected);
  if (keys.length === 0) return 1;
  if (actual === null || actual === undefined) return 0;
  return (
    keys.filter((key) => Object.hasOwn(actual, key) && paramValuesMatch(expected[key], actual[key])).length /
    keys.length
  );
}

/** The multi-turn formula over the chain of calls the model made (an empty chain scores 0 throughout). */
export function scoreMultiTurn(
  chain: readonly ChainCall[],
  expected: {
    tool: ExpectedTool;
    params: Params | null;
    validPrerequisites: readonly string[];
    optimalHops: number;
  },
): MultiTurnScore {
  if (chain.length === 0)
    return { completion: 0, efficiency: 0, redundancy_penalty: 0, detour_penalty: 0, overall_score: 0 };
  const last = chain[chain.length - 1]!;
  const tool = scoreToolSelection(expected.tool, last.tool_name);
  const params = rawParams(expected.params, last.params);
  const completion = params === null ? tool : TOOL_WEIGHT * tool + PARAM_WEIGHT * params;
  const efficiency = Math.min(1, expected.optimalHops / chain.length);
  let repeats = 0;
  for (let i = 1; i < chain.length; i++)
    if (lower(chain[i]!.tool_name) === lower(chain[i - 1]!.tool_name)) repeats++;
  const allowed = new Set(expected.validPrerequisites.map(lower));
  if (typeof expected.tool === "string") allowed.add(lower(expected.tool));
  else if (expected.tool) for (const name of expected.tool) allowed.add(lower(name));
  const detours = chain.slice(0, -1).filter((call) => !allowed.has(lower(call.tool_name))).length;
  const redundancy = repeats * REPEAT_PENALTY;
  const detour = detours * DETOUR_PENALTY;
  const overall = Math.min(1, Math.max(0, completion * efficiency - redundancy - detour));
  return {
    completion: round4(completion),
    efficiency: round4(efficiency),
    redundancy_penalty: round4(redundancy),
    detour_penalty: round4(detour),
    overall_score: round4(overall),
  };
}

/** What a model's summary is computed from: one scored case. */
export interface ScoredCase {
  success: boolean;
  tool_selection_score: number;
  param_accuracy: number | null;
  overall_score: number;
}

const pct = (values: readonly number[]) =>
  values.length === 0
    ? 0
    : Math.round(((values.reduce((a, b) => a + b, 0) / values.length) * 100 + Number.EPSILON) * 10) / 10;

/**
 * A model's summary over its cases: mean tool, parameter (over the cases that score parameters) and overall
 * scores in % (1 decimal) over the cases that ran without an error; a case passes with an overall score of 1.
 */
export function summarizeCases(results: readonly ScoredCase[]) {
  const ok = results.filter((r) => r.success);
  return {
    tool_accuracy_pct: pct(ok.map((r) => r.tool_selection_score)),
    param_accuracy_pct: pct(ok.flatMap((r) => (r.param_accuracy === null ? [] : [r.param_accuracy]))),
    overall_pct: pct(ok.map((r) => r.overall_score)),
    cases_run: results.length,
    cases_passed: ok.filter((r) => r.overall_score === 1).length,
  };
}
