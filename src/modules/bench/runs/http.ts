// POST /api/benchmark: the run as Server-Sent Events in upstream's framing (one `data: <json>` line per event,
// the kind in its `type` field, no `event:` lines; bench-upstream-shapes.md). The limits are checked before
// the stream opens, so a refusal is a plain JSON error (422, 429, 409). The run is not tied to the request:
// a client that goes away stops receiving, the run finishes and lands in history.
import { z } from "zod";
import { defineRoute, type Route } from "../../../platform/http/route.js";
import type { AppDeps } from "../../../platform/module.js";
import { streamRunEvents } from "../shared/stream.js";
import { ALREADY_RUNNING, isTerminal } from "./service.js";
import { benchmarkRequestSchema } from "./runs.schema.js";

const EVENTS_DESCRIPTION =
  "Server-Sent Events, each one line `data: <JSON>` with the kind in `type`: `progress` {current, total, provider, " +
  "model, model_id, run, runs, context_tokens} just before each `result` {provider, provider_key, model, model_id, " +
  "run, runs, context_tokens, ttft_ms, total_time_s, output_tokens, input_tokens, reasoning_tokens, " +
  "tokens_per_second, output_speed_tps, itl_ms, input_tokens_per_second, cost, tokens_source, success, error}; " +
  "`skipped` {provider, model, model_id, context_tokens, reason}; `heartbeat` after 15 s without an event; " +
  "`cancelled` (the stream ends); `complete` {saved_to, run_id} (the stream ends); `error` {message, provider?} " +
  "(without `provider` it ends the stream). The run's id is also in the `X-Run-Id` header. Closing the " +
  "connection does not stop the run: it finishes and is stored in history (cancel with POST /api/benchmark/cancel).";

const errorRef = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/HTTPError" } } },
});

export function runRoutes(deps: AppDeps): Route[] {
  return [
    defineRoute({
      method: "POST",
      path: "/api/benchmark",
      auth: "user",
      body: benchmarkRequestSchema,
      bodyLimit: 1024 * 1024,
      openapi: {
        operationId: "bench-benchmark-run",
        tags: ["bench: benchmarks"],
        summary: "Run a benchmark, streamed as Server-Sent Events",
        description: EVENTS_DESCRIPTION,
        responses: {
          200: { description: "Event stream", content: { "text/event-stream": { schema: z.string() } } },
          409: errorRef(ALREADY_RUNNING),
          429: errorRef("Rate limit exceeded. Max N benchmarks per hour."),
        },
      },
      handler: async (input, request, reply) => {
        const run = await deps.services.benchRuns.begin(input.user!, input.body);
        streamRunEvents(deps, request, reply, run, { idHeader: "x-run-id", isTerminal });
      },
    }),
  ];
}
