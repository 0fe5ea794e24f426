// POST /api/labeling/run: a labeling run as Server-Sent Events (the framing of tool evals). Refusals (404, 422,
// 429, 409) are plain JSON errors before the stream opens; the run is not tied to the request.
import { z } from "zod";
import { defineRoute, type Route } from "../../../platform/http/route.js";
import type { AppDeps } from "../../../platform/module.js";
import { EVAL_ALREADY_RUNNING } from "../evals/service.js";
import { TAGS } from "../shared/procedures.js";
import { streamRunEvents } from "../shared/stream.js";
import { labelRunRequestSchema } from "./labeling.schema.js";
import { isTerminalLabelEvent, LABEL_SUITE_NOT_FOUND } from "./service.js";

const errorRef = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/HTTPError" } } },
});

export function labelingRoutes(deps: AppDeps): Route[] {
  return [
    defineRoute({
      method: "POST",
      path: "/api/labeling/run",
      auth: "user",
      body: labelRunRequestSchema,
      bodyLimit: 64 * 1024,
      openapi: {
        operationId: "bench-labeling-run",
        tags: [...TAGS.labeling],
        summary:
          "Label a labeling suite's items with models, scored against the crowd, as Server-Sent Events",
        description:
          "Events (`data: <JSON>`, kind in `type`): `label_start` {run_id, suite_name, dataset_id, items, models, " +
          "total}; `crowd_summary` {items, mean_confidence, solvers, votes, vote_agreement, gt_correct, gt_total, " +
          "gt_accuracy}; per item and model `progress` {current, total, model, model_id, provider, item_id} then " +
          "`label_result` {model_id, model_name, provider, provider_key, item_id, expected, answer, raw_answer, " +
          "correct, confidence, success, error, latency_ms, input_tokens, output_tokens, cost}; `model_summary` " +
          "{model_id, model_name, provider, provider_key, items, answered, errors, correct, accuracy, " +
          "weighted_agreement, cost_total, cost_per_1k_labels, avg_latency_ms, labels_per_minute, input_tokens, " +
          "output_tokens} per model after the last result; `complete` {run_id}, `cancelled` or `error` {message} " +
          "end the stream; `heartbeat` when quiet. The run's id is also in the `X-Run-Id` header.",
        responses: {
          200: { description: "Event stream", content: { "text/event-stream": { schema: z.string() } } },
          404: errorRef(LABEL_SUITE_NOT_FOUND),
          409: errorRef(EVAL_ALREADY_RUNNING),
          429: errorRef("Rate limit exceeded. Max N benchmarks per hour."),
        },
      },
      handler: async (input, request, reply) => {
        const run = await deps.services.benchLabeling.begin(input.user!, input.body);
        streamRunEvents(deps, request, reply, run, {
          idHeader: "x-run-id",
          isTerminal: isTerminalLabelEvent,
        });
      },
    }),
  ];
}
