import { z } from "zod";
import { router, userProcedure } from "../../../trpc/init.js";
import { cancelSchema, okSchema } from "../runs/runs.schema.js";
import { TAGS } from "../shared/procedures.js";
import { evalHistoryQuerySchema, evalHistorySchema, evalIdSchema, evalRunSchema } from "./evals.schema.js";
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
