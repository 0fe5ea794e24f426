import { z } from "zod";
import { router, userProcedure } from "../../../trpc/init.js";
import { cancelSchema, okSchema } from "../runs/runs.schema.js";
import { TAGS } from "../shared/procedures.js";
import { PROMPT_TUNE_NOT_FOUND } from "./prompt-tune.js";
import {
  promptTuneEstimateQuerySchema,
  promptTuneEstimateSchema,
  promptTuneHistorySchema,
  promptTuneIdSchema,
  promptTuneRunSchema,
} from "./prompt-tune.schema.js";

const tags = [...TAGS.toolEval];

export const promptTuneRouter = router({
  cancel: userProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/tool-eval/prompt-tune/cancel",
        tags,
        summary:
          "Cancel your running prompt tune (and any eval, tune or benchmark): the calls in flight are aborted",
      },
    })
    .input(z.void())
    .output(cancelSchema)
    .mutation(({ ctx }) => ctx.deps.services.benchPromptTunes.cancel(ctx.principal.userId)),

  estimate: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/tool-eval/prompt-tune/estimate",
        tags,
        summary: "What a prompt tune would spend (calls, tokens, cost, duration) before anything is spent",
        errorResponses: { 404: "Suite not found" },
      },
    })
    .input(promptTuneEstimateQuerySchema)
    .output(promptTuneEstimateSchema)
    .query(({ ctx, input }) => ctx.deps.services.benchPromptTunes.estimate(ctx.principal.userId, input)),

  history: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/tool-eval/prompt-tune/history",
        tags,
        summary: "Your prompt tunes, newest first (the last 100)",
      },
    })
    .input(z.void())
    .output(promptTuneHistorySchema)
    .query(({ ctx }) => ctx.deps.services.benchPromptTunes.history(ctx.principal.userId)),

  get: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/tool-eval/prompt-tune/history/{tune_id}",
        tags,
        summary: "One prompt tune: every generation's prompts (full text) and their scores per model",
        errorResponses: { 404: PROMPT_TUNE_NOT_FOUND },
      },
    })
    .input(promptTuneIdSchema)
    .output(promptTuneRunSchema)
    .query(({ ctx, input }) => ctx.deps.services.benchPromptTunes.get(ctx.principal.userId, input.tune_id)),

  delete: userProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/tool-eval/prompt-tune/history/{tune_id}",
        tags,
        summary: "Delete a prompt tune",
        errorResponses: { 404: PROMPT_TUNE_NOT_FOUND, 409: "Tune is still running: cancel it first" },
      },
    })
    .input(promptTuneIdSchema)
    .output(okSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.benchPromptTunes.delete(ctx.principal.userId, input.tune_id),
    ),
});
