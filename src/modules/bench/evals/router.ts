import { z } from "zod";
import { router, userProcedure } from "../../../trpc/init.js";
import { cancelSchema, okSchema } from "../runs/runs.schema.js";
import { TAGS } from "../shared/procedures.js";
import {
  evalHistoryQuerySchema,
  evalHistorySchema,
  evalIdSchema,
  evalRunSchema,
  tuneHistorySchema,
  tuneIdSchema,
  tuneRunSchema,
} from "./evals.schema.js";
import { TUNE_NOT_FOUND } from "./tune.js";
import { EVAL_NOT_FOUND } from "./service.js";

const tags = [...TAGS.toolEval];

export const toolEvalRouter = router({
  cancel: userProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/tool-eval/cancel",
        tags,
        summary: "Cancel your running eval (and benchmark): the provider calls in flight are aborted",
      },
    })
    .input(z.void())
    .output(cancelSchema)
    .mutation(({ ctx }) => ctx.deps.services.benchEvals.cancel(ctx.principal.userId)),

  history: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/tool-eval/history",
        tags,
        summary: "Your completed evals with their per-model summaries, newest first (50 unless `limit`)",
      },
    })
    .input(evalHistoryQuerySchema)
    .output(evalHistorySchema)
    .query(({ ctx, input }) => ctx.deps.services.benchEvals.history(ctx.principal.userId, input)),

  get: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/tool-eval/history/{eval_id}",
        tags,
        summary: "One eval (any status) with every per-case result as streamed",
        errorResponses: { 404: EVAL_NOT_FOUND },
      },
    })
    .input(evalIdSchema)
    .output(evalRunSchema)
    .query(({ ctx, input }) => ctx.deps.services.benchEvals.get(ctx.principal.userId, input.eval_id)),

  delete: userProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/tool-eval/history/{eval_id}",
        tags,
        summary: "Delete an eval and its results",
        errorResponses: { 404: EVAL_NOT_FOUND, 409: "Eval is still running: cancel it first" },
      },
    })
    .input(evalIdSchema)
    .output(okSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.benchEvals.delete(ctx.principal.userId, input.eval_id)),
});

export const paramTuneRouter = router({
  cancel: userProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/tool-eval/param-tune/cancel",
        tags,
        summary: "Cancel your running tune (and any eval or benchmark): the calls in flight are aborted",
      },
    })
    .input(z.void())
    .output(cancelSchema)
    .mutation(({ ctx }) => ctx.deps.services.benchTunes.cancel(ctx.principal.userId)),

  history: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/tool-eval/param-tune/history",
        tags,
        summary: "Your param tunes, newest first (the last 100)",
      },
    })
    .input(z.void())
    .output(tuneHistorySchema)
    .query(({ ctx }) => ctx.deps.services.benchTunes.history(ctx.principal.userId)),

  get: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/tool-eval/param-tune/history/{tune_id}",
        tags,
        summary: "One tune with its ranked combination results",
        errorResponses: { 404: TUNE_NOT_FOUND },
      },
    })
    .input(tuneIdSchema)
    .output(tuneRunSchema)
    .query(({ ctx, input }) => ctx.deps.services.benchTunes.get(ctx.principal.userId, input.tune_id)),

  delete: userProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/tool-eval/param-tune/history/{tune_id}",
        tags,
        summary: "Delete a tune",
        errorResponses: { 404: TUNE_NOT_FOUND, 409: "Tune is still running: cancel it first" },
      },
    })
    .input(tuneIdSchema)
    .output(okSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.benchTunes.delete(ctx.principal.userId, input.tune_id)),
});
