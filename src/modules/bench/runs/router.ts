import { z } from "zod";
import { router, userProcedure } from "../../../trpc/init.js";
import { TAGS } from "../shared/procedures.js";
import {
  cancelSchema,
  historyListSchema,
  historyQuerySchema,
  historyRunSchema,
  okSchema,
  rateLimitSchema,
  runIdSchema,
} from "./runs.schema.js";

const benchmarks = [...TAGS.benchmarks];
const history = [...TAGS.history];

export const benchmarkRouter = router({
  cancel: userProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/benchmark/cancel",
        tags: benchmarks,
        summary:
          "Cancel your running benchmark (its provider calls are aborted, on whichever instance runs it)",
      },
    })
    .input(z.void())
    .output(cancelSchema)
    .mutation(({ ctx }) => ctx.deps.services.benchRuns.cancel(ctx.principal.userId)),

  rateLimit: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/user/rate-limit",
        tags: benchmarks,
        summary: "Your hourly benchmark limit and what is left of it",
      },
    })
    .input(z.void())
    .output(rateLimitSchema)
    .query(({ ctx }) => ctx.deps.services.benchRuns.rateLimit(ctx.principal.userId)),
});

export const historyRouter = router({
  list: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/history",
        tags: history,
        summary: "Your completed benchmark runs with their results, newest first (50 unless `limit`)",
      },
    })
    .input(historyQuerySchema)
    .output(historyListSchema)
    .query(({ ctx, input }) => ctx.deps.services.benchRuns.history(ctx.principal.userId, input)),

  get: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/history/{run_id}",
        tags: history,
        summary: "One run (any status: running, completed, empty, cancelled, failed)",
        errorResponses: { 404: "Run not found" },
      },
    })
    .input(runIdSchema)
    .output(historyRunSchema)
    .query(({ ctx, input }) => ctx.deps.services.benchRuns.run(ctx.principal.userId, input.run_id)),

  delete: userProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/history/{run_id}",
        tags: history,
        summary: "Delete a run and its results",
        errorResponses: { 404: "Run not found", 409: "Run is still running: cancel it first" },
      },
    })
    .input(runIdSchema)
    .output(okSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.benchRuns.deleteRun(ctx.principal.userId, input.run_id)),
});
