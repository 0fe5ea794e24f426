// POST /api/tool-eval: an eval as Server-Sent Events in upstream's framing. Refusals (404, 422, 429, 409) are
// plain JSON errors before the stream opens; the eval is not tied to the request (a client that goes away stops
// receiving, the eval finishes and lands in history).
import { z } from "zod";
import { defineRoute, type Route } from "../../../platform/http/route.js";
import type { AppDeps } from "../../../platform/module.js";
import { TAGS } from "../shared/procedures.js";
import { streamRunEvents } from "../shared/stream.js";
import { paramTuneRequestSchema, toolEvalRequestSchema } from "./evals.schema.js";
import { isTerminalTune } from "./tune.js";
import { EVAL_ALREADY_RUNNING, isTerminalEval } from "./service.js";

const EVENTS_DESCRIPTION =
  "Server-Sent Events, each one line `data: <JSON>` with the kind in `type`: `progress` {current, total (models × " +
  "cases), model, model_id, provider, test_case} just before each `result` {model_id, model_name, provider, " +
  "provider_key, test_case_id, prompt, expected_tool, expected_params, actual_tool, actual_params, " +
  "tool_selection_score, param_accuracy, overall_score, success, error, latency_ms, raw_request, raw_response; " +
  "multi-turn cases add multi_turn, tool_chain, rounds_used, completion_score, efficiency_score, " +
  "redundancy_penalty, detour_penalty, raw_exchanges}; `model_summary` {model_id, model_name, provider, " +
  "provider_key, tool_accuracy_pct, param_accuracy_pct, overall_pct, cases_run, cases_passed} per model after the " +
  "last result; `heartbeat` after 15 s without an event; `cancelled` or `complete` {eval_id} or `error` {message} " +
  "end the stream. The eval's id is also in the `X-Eval-Id` header.";

const errorRef = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/HTTPError" } } },
});

export function evalRoutes(deps: AppDeps): Route[] {
  return [
    defineRoute({
      method: "POST",
      path: "/api/tool-eval",
      auth: "user",
      body: toolEvalRequestSchema,
      bodyLimit: 1024 * 1024,
      openapi: {
        operationId: "bench-tool-eval-run",
        tags: [...TAGS.toolEval],
        summary: "Run a suite against models with their native tool calling, streamed as Server-Sent Events",
        description: EVENTS_DESCRIPTION,
        responses: {
          200: { description: "Event stream", content: { "text/event-stream": { schema: z.string() } } },
          404: errorRef("Suite not found"),
          409: errorRef(EVAL_ALREADY_RUNNING),
          429: errorRef("Rate limit exceeded. Max N benchmarks per hour."),
        },
      },
      handler: async (input, request, reply) => {
        const run = await deps.services.benchEvals.begin(input.user!, input.body);
        streamRunEvents(deps, request, reply, run, { idHeader: "x-eval-id", isTerminal: isTerminalEval });
      },
    }),
    defineRoute({
      method: "POST",
      path: "/api/tool-eval/param-tune",
      auth: "user",
      body: paramTuneRequestSchema,
      bodyLimit: 256 * 1024,
      openapi: {
        operationId: "bench-param-tune-run",
        tags: [...TAGS.toolEval],
        summary:
          "Tune parameters: the suite once per combination of the search space, streamed as Server-Sent Events",
        description:
          "Events (`data: <JSON>`, kind in `type`): `tune_start` {tune_id, total_combos, models, suite_name, strategy " +
          "(grid | random)}; per combination and model `combo_result` {combo_index, model_id, model_name, config, " +
          "overall_score (0-1), tool_accuracy (%), param_accuracy (%), latency_avg_ms, cases_passed, cases_total} then " +
          "`tune_progress` {completed, total, elapsed_s}; `tune_complete` {tune_id, best_config, best_model_id, " +
          "best_score, duration_s}, `cancelled` or `error` {message} end the stream; `heartbeat` when quiet. The " +
          "tune's id is also in the `X-Tune-Id` header.",
        responses: {
          200: { description: "Event stream", content: { "text/event-stream": { schema: z.string() } } },
          404: errorRef("Suite not found"),
          409: errorRef(EVAL_ALREADY_RUNNING),
        },
      },
      handler: async (input, request, reply) => {
        const run = await deps.services.benchTunes.begin(input.user!, input.body);
        streamRunEvents(deps, request, reply, run, { idHeader: "x-tune-id", isTerminal: isTerminalTune });
      },
    }),
  ];
}
