// POST /api/tool-eval/prompt-tune: a prompt tune as Server-Sent Events (upstream's framing). Refusals (404, 422,
// 429, 409) are plain JSON errors before the stream opens; the tune is not tied to the request.
import { z } from "zod";
import { defineRoute, type Route } from "../../../platform/http/route.js";
import type { AppDeps } from "../../../platform/module.js";
import { TAGS } from "../shared/procedures.js";
import { streamRunEvents } from "../shared/stream.js";
import { isTerminalPromptTune } from "./prompt-tune.js";
import { promptTuneRequestSchema } from "./prompt-tune.schema.js";
import { EVAL_ALREADY_RUNNING } from "./service.js";

const errorRef = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/HTTPError" } } },
});

export function promptTuneRoutes(deps: AppDeps): Route[] {
  return [
    defineRoute({
      method: "POST",
      path: "/api/tool-eval/prompt-tune",
      auth: "user",
      body: promptTuneRequestSchema,
      bodyLimit: 256 * 1024,
      openapi: {
        operationId: "bench-prompt-tune-run",
        tags: [...TAGS.toolEval],
        summary:
          "Tune the system prompt: a meta model proposes prompts, each scored on the suite, streamed as Server-Sent Events",
        description:
          "Events (`data: <JSON>`, kind in `type`): `tune_start` {tune_id, mode, total_prompts, total_eval_calls, " +
          "suite_name}; per generation `generation_start` {generation, total_generations, population_size}, " +
          "`prompt_generated` {generation, prompt_index, prompt_text (≤ 300 chars), style, parent_prompt} per " +
          "proposed prompt, then per prompt and model `prompt_eval_start` {generation, prompt_index, model, model_id} " +
          "and `prompt_eval_result` {generation, prompt_index, model_id, overall_score (0-1), tool_accuracy (%), " +
          "param_accuracy (%)}, then `generation_complete` {generation, best_score, best_prompt_index, survivors " +
          "(prompt indices)}; `tune_complete` {tune_id, best_prompt, best_score, duration_s}, `cancelled` or `error` " +
          "{message} end the stream; `heartbeat` when quiet. The tune's id is also in the `X-Tune-Id` header. A tune " +
          "whose estimate is above your prompt_tuner.max_api_calls is refused (422).",
        responses: {
          200: { description: "Event stream", content: { "text/event-stream": { schema: z.string() } } },
          404: errorRef("Suite not found"),
          409: errorRef(EVAL_ALREADY_RUNNING),
          429: errorRef("Rate limit exceeded. Max N benchmarks per hour."),
        },
      },
      handler: async (input, request, reply) => {
        const run = await deps.services.benchPromptTunes.begin(input.user!, input.body);
        streamRunEvents(deps, request, reply, run, {
          idHeader: "x-tune-id",
          isTerminal: isTerminalPromptTune,
        });
      },
    }),
  ];
}
