// The LLM judge's prompts and the reading of its answers (pure). An answer is read strictly: a verdict needs a
// quality_score that is an integer 1-5 and a verdict pass | marginal | fail, a report an overall_score 0-100, a
// comparison a winner model_a | model_b | tie; anything else is "unparsed" and carries no score.
import type { FunctionTool, ToolEvalResult } from "./toolcall.js";

export const VERDICTS = ["pass", "marginal", "fail"] as const;
export const TOOL_ASSESSMENTS = ["correct", "acceptable_alternative", "wrong"] as const;
export const PARAM_ASSESSMENTS = ["exact", "close", "partial", "wrong"] as const;
export const WINNERS = ["model_a", "model_b", "tie"] as const;

export interface Verdict {
  quality_score: number;
  verdict: (typeof VERDICTS)[number];
  summary: string;
  reasoning: string;
  tool_selection_assessment: (typeof TOOL_ASSESSMENTS)[number] | "unknown";
  param_assessment: (typeof PARAM_ASSESSMENTS)[number] | "unknown";
}

export interface CrossCaseReport {
  overall_grade: string | null;
  overall_score: number;
  strengths: string[];
  weaknesses: string[];
  cross_case_analysis: string;
  recommendations: string[];
}

export interface Comparison {
  winner: (typeof WINNERS)[number];
  confidence: number;
  reasoning: string;
}

export interface CompareSummary {
  overall_winner: (typeof WINNERS)[number];
  score_a: number;
  score_b: number;
  summary: string;
}

/** The tools as the judge reads them: name, description, each parameter with its type. */
export function toolDefinitionsText(tools: readonly FunctionTool[]): string {
  return tools
    .map((t) => {
      const fn = t.function;
      const props = ((
        fn.parameters as { properties?: Record<string, { type?: unknown; description?: unknown }> }
      )?.properties ?? {}) as Record<string, { type?: unknown; description?: unknown }>;
      const params = Object.entries(props).map(
        ([name, spec]) =>
          `    ${name} (${typeof spec?.type === "string" ? spec.type : "any"})${
            typeof spec?.description === "string" && spec.description
              ? `: ${spec.description.slice(0, 80)}`
              : ""
          }`,
      );
      return `- ${fn.name}: ${fn.description ?? ""}\n  Parameters:\n${params.join("\n") || "    (none)"}`;
    })
    .join("\n");
}

const json = (value: unknown) => JSON.stringify(value ?? null);

function instructionsBlock(custom: string | null | undefined): string {
  return custom?.trim() ? `\nADDITIONAL INSTRUCTIONS FROM THE USER:\n${custom.trim()}\n` : "";
}

function callsText(result: ToolEvalResult): string {
  if (result.tool_chain?.length)
    return result.tool_chain.map((c) => `${c.tool_name}(${json(c.params)}) [round ${c.round}]`).join(" -> ");
  return result.actual_tool ? `${result.actual_tool}(${json(result.actual_params)})` : "no tool call";
}

/** The prompt that grades one case's result. */
export function verdictPrompt(
  tools: string,
  result: ToolEvalResult,
  customInstructions?: string | null,
): string {
  return `You grade how well a language model used tools on one test case.

TOOLS OFFERED:
${tools}

TEST CASE:
- User prompt: ${json(result.prompt)}
- Expected tool: ${result.expected_tool === null ? "no tool call" : json(result.expected_tool)}
- Expected parameters: ${json(result.expected_params)}

WHAT THE MODEL DID:
- Calls: ${callsText(result)}
- Automated score (0-1): ${result.overall_score}
${result.error ? `- Error: ${result.error}\n` : ""}
Judge tool choice, parameter correctness, and whether the call shows the user's intent was understood.
${instructionsBlock(customInstructions)}
Answer with one JSON object and nothing else:
{"quality_score": 4, "verdict": "pass", "summary": "one line, at most 100 characters", "reasoning": "two or three sentences", "tool_selection_assessment": "correct", "param_assessment": "exact"}
quality_score: integer 1-5; verdict: "pass" | "marginal" | "fail";
tool_selection_assessment: "correct" | "acceptable_alternative" | "wrong";
param_assessment: "exact" | "close" | "partial" | "wrong"`;
}

/** The prompt of the cross-case analysis of one model, from its parsed verdicts. */
export function crossCasePrompt(
  modelName: string,
  verdicts: readonly (Verdict & { test_case_id: string })[],
  customInstructions?: string | null,
): string {
  const lines = verdicts.map((v) =>
    `- Case ${v.test_case_id}: ${v.verdict} (${v.quality_score}/5) ${v.summary}`.trimEnd(),
  );
  return `You graded ${verdicts.length} tool-calling test cases of the model ${json(modelName)}:

${lines.join("\n")}

Analyse the cases together: strengths, weaknesses, patterns, a letter grade (A to F, + or - allowed) and
recommendations.
${instructionsBlock(customInstructions)}
Answer with one JSON object and nothing else:
{"overall_grade": "B+", "overall_score": 82, "strengths": ["..."], "weaknesses": ["..."], "cross_case_analysis": "a paragraph", "recommendations": ["..."]}
overall_score: integer 0-100`;
}

/** The prompt comparing two models' results on one case. */
export function comparePrompt(
  tools: string,
  index: { n: number; total: number },
  a: { name: string; result: ToolEvalResult },
  b: { name: string; result: ToolEvalResult },
  customInstructions?: string | null,
): string {
  return `You compare two language models' tool calls on one test case (${index.n} of ${index.total}).

TOOLS OFFERED:
${tools}

TEST CASE:
- User prompt: ${json(a.result.prompt)}
- Expected: ${a.result.expected_tool === null ? "no tool call" : json(a.result.expected_tool)} with ${json(
    a.result.expected_params,
  )}

MODEL A (${a.name}): ${callsText(a.result)}; automated score ${a.result.overall_score}
MODEL B (${b.name}): ${callsText(b.result)}; automated score ${b.result.overall_score}
${instructionsBlock(customInstructions)}
Answer with one JSON object and nothing else:
{"winner": "model_a", "confidence": 0.8, "reasoning": "why"}
winner: "model_a" | "model_b" | "tie"; confidence: a number from 0 to 1`;
}

/** The prompt summarising a comparison from its parsed per-case outcomes. */
export function compareSummaryPrompt(
  names: { a: string; b: string },
  cases: readonly (Comparison & { test_case_id: string })[],
  customInstructions?: string | null,
): string {
  const lines = cases.map(
    (c) => `- Case ${c.test_case_id}: ${c.winner} (confidence ${c.confidence}) ${c.reasoning.slice(0, 120)}`,
  );
  return `You compared model A (${names.a}) and model B (${names.b}) on ${cases.length} test cases:

${lines.join("\n")}
${instructionsBlock(customInstructions)}
Answer with one JSON object and nothing else:
{"overall_winner": "model_a", "score_a": 75, "score_b": 60, "summary": "two or three sentences"}
overall_winner: "model_a" | "model_b" | "tie"; score_a, score_b: integers 0-100`;
}

// ── reading answers ────────────────────────────────────────────────────────────────────────────────────

/** The JSON object in a judge's answer: the whole text, inside a code fence, or the outermost braces. */
export function parseJudgeJson(text: string): Record<string, unknown> | null {
  const attempts = [text.trim()];
  const fenced = /```(?:json)?\s*([\s\S]*?)```/i.exec(text);
  if (fenced) attempts.push(fenced[1]!.trim());
  const first = text.indexOf("{");
  const last = text.lastIndexOf("}");
  if (first >= 0 && last > first) attempts.push(text.slice(first, last + 1));
  for (const attempt of attempts) {
    try {
      const value = JSON.parse(attempt) as unknown;
      if (value && typeof value === "object" && !Array.isArray(value))
        return value as Record<string, unknown>;
    } catch {
      // next
    }
  }
  return null;
}

const str = (value: unknown, max: number) => (typeof value === "string" ? value.trim().slice(0, max) : "");
const strings = (value: unknown) =>
  Array.isArray(value)
    ? value.filter((v): v is string => typeof v === "string").map((v) => v.slice(0, 500))
    : [];
const oneOf = <T extends string>(values: readonly T[], value: unknown): T | null =>
  typeof value === "string" && (values as readonly string[]).includes(value.trim().toLowerCase())
    ? (value.trim().toLowerCase() as T)
    : null;
function number(value: unknown): number | null {
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  return typeof n === "number" && Number.isFinite(n) ? n : null;
}

export function readVerdict(answer: string): Verdict | null {
  const data = parseJudgeJson(answer);
  if (!data) return null;
  const score = number(data.quality_score);
  const verdict = oneOf(VERDICTS, data.verdict);
  if (score === null || !Number.isInteger(score) || score < 1 || score > 5 || !verdict) return null;
  return {
    quality_score: score,
    verdict,
    summary: str(data.summary, 300),
    reasoning: str(data.reasoning, 4000),
    tool_selection_assessment: oneOf(TOOL_ASSESSMENTS, data.tool_selection_assessment) ?? "unknown",
    param_assessment: oneOf(PARAM_ASSESSMENTS, data.param_assessment) ?? "unknown",
  };
}

export function readCrossCase(answer: string): CrossCaseReport | null {
  const data = parseJudgeJson(answer);
  if (!data) return null;
  const score = number(data.overall_score);
  if (score === null || score < 0 || score > 100) return null;
  const grade = str(data.overall_grade, 3).toUpperCase();
  return {
    overall_grade: /^[A-F][+-]?$/.test(grade) ? grade : null,
    overall_score: score,
    strengths: strings(data.strengths),
    weaknesses: strings(data.weaknesses),
    cross_case_analysis: str(data.cross_case_analysis, 8000),
    recommendations: strings(data.recommendations),
  };
}

export function readComparison(answer: string): Comparison | null {
  const data = parseJudgeJson(answer);
  if (!data) return null;
  const winner = oneOf(WINNERS, data.winner);
  const confidence = number(data.confidence);
  if (!winner || confidence === null || confidence < 0 || confidence > 1) return null;
  return { winner, confidence, reasoning: str(data.reasoning, 4000) };
}

export function readCompareSummary(answer: string): CompareSummary | null {
  const data = parseJudgeJson(answer);
  if (!data) return null;
  const winner = oneOf(WINNERS, data.overall_winner);
  const a = number(data.score_a);
  const b = number(data.score_b);
  if (!winner || a === null || b === null || a < 0 || a > 100 || b < 0 || b > 100) return null;
  return { overall_winner: winner, score_a: a, score_b: b, summary: str(data.summary, 4000) };
}
