// POST /api/tool-eval/judge and /judge/compare: the judge as Server-Sent Events in upstream's framing. Refusals
// (404, 422, 429, 409) are plain JSON errors before the stream opens; the judge is not tied to the request.
import { z } from "zod";
import { defineRoute, type Route } from "../../../platform/http/route.js";
import type { AppDeps } from "../../../platform/module.js";
import { TAGS } from "../shared/procedures.js";
import { streamRunEvents } from "../shared/stream.js";
import { compareRequestSchema, judgeRequestSchema } from "./judge.schema.js";
import { isTerminalJudge, JUDGE_ALREADY_RUNNING } from "./service.js";

const errorRef = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/HTTPError" } } },
});

const responses = {
  200: { description: "Event stream", content: { "text/event-stream": { schema: z.string() } } },
  404: errorRef("Eval run not found"),
  409: errorRef(JUDGE_ALREADY_RUNNING),
  429: errorRef("Rate limit exceeded. Max N benchmarks per hour."),
};

const VERDICT_FIELDS =
  "{test_case_id, model_id, model_name, quality_score (1-5, null unless parsed), verdict (pass | marginal | fail, " +
  "error unless parsed), summary, reasoning, tool_selection_assessment, param_assessment, parsed, judge_status " +
  "(parsed | unparsed | failed), judge_error}";

export function judgeRoutes(deps: AppDeps): Route[] {
  return [
    defineRoute({
      method: "POST",
      path: "/api/tool-eval/judge",
      auth: "user",
      body: judgeRequestSchema,
      openapi: {
        operationId: "bench-judge-run",
        tags: [...TAGS.toolEval],
        summary: "Judge a stored eval's results case by case, then a report per model (Server-Sent Events)",
        description:
          "Events (`data: <JSON>`, kind in `type`): `judge_start` {mode, judge_model, cases_to_review, " +
          `judge_report_id}; per result \`judge_verdict\` ${VERDICT_FIELDS}; per model \`judge_report\` {eval_id, ` +
          "report: {overall_grade, overall_score, strengths, weaknesses, cross_case_analysis, recommendations, " +
          "model_id, model_name, parsed, judge_status, verdicts_parsed, verdicts_unparsed, mean_quality_score}}; " +
          "`judge_complete` {judge_report_id}, `cancelled` or `error` {message} end the stream. The report's id is " +
          "also in the `X-Judge-Report-Id` header.",
        responses,
      },
      handler: async (input, request, reply) => {
        const run = await deps.services.benchJudge.beginPostEval(input.user!, input.body);
        streamRunEvents(deps, request, reply, run, {
          idHeader: "x-judge-report-id",
          isTerminal: isTerminalJudge,
        });
      },
    }),
    defineRoute({
      method: "POST",
      path: "/api/tool-eval/judge/compare",
      auth: "user",
      body: compareRequestSchema,
      openapi: {
        operationId: "bench-judge-compare",
        tags: [...TAGS.toolEval],
        summary: "Compare two models' results case by case with a judge (Server-Sent Events)",
        description:
          "Events: `compare_start` {model_a, model_b, cases, judge_report_id}; per common case `compare_case` " +
          "{test_case_id, winner (model_a | model_b | tie, null unless parsed), confidence (0-1), reasoning, parsed, " +
          "judge_status, judge_error}; `compare_complete` {judge_report_id, model_a, model_b, overall_winner, " +
          "score_a, score_b, summary, summary_source (judge | computed), a_wins, b_wins, tie_cases, unparsed_cases, " +
          "case_comparisons}, `cancelled` or `error` {message} end the stream.",
        responses,
      },
      handler: async (input, request, reply) => {
        const run = await deps.services.benchJudge.beginCompare(input.user!, input.body);
        streamRunEvents(deps, request, reply, run, {
          idHeader: "x-judge-report-id",
          isTerminal: isTerminalJudge,
        });
      },
    }),
  ];
}
