// POST /api/tool-eval: an eval as Server-Sent Events in upstream's framing. Refusals (404, 422, 429, 409) are
// plain JSON errors before the stream opens; the eval is not tied to the request (a client that goes away stops
// receiving, the eval finishes and lands in history).
import { z } from "zod";
import { defineRoute, type Route } from "../../../platform/http/route.js";
import type { AppDeps } from "../../../platform/module.js";
import { TAGS } from "../shared/procedures.js";
import { streamRunEvents } from "../shared/stream.js";
import { toolEvalRequestSchema } from "./evals.schema.js";
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
  ];
}
