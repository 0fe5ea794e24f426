import { z } from "zod";
import { router, userProcedure } from "../../../trpc/init.js";
import { cancelSchema, okSchema } from "../runs/runs.schema.js";
import { TAGS } from "../shared/procedures.js";
import { judgeReportSchema, judgeReportsSchema, reportIdSchema } from "./judge.schema.js";
import { JUDGE_NOT_FOUND } from "./service.js";

const tags = [...TAGS.toolEval];

export const judgeRouter = router({
  cancel: userProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/tool-eval/judge/cancel",
        tags,
        summary:
          "Cancel your running judge (and any eval, tune or benchmark): the calls in flight are aborted",
      },
    })
    .input(z.void())
    .output(cancelSchema)
    .mutation(({ ctx }) => ctx.deps.services.benchJudge.cancel(ctx.principal.userId)),

  reports: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/tool-eval/judge/reports",
        tags,
        summary: "Your judge reports (any mode, any status), newest first (the last 100)",
      },
    })
    .input(z.void())
    .output(judgeReportsSchema)
    .query(({ ctx }) => ctx.deps.services.benchJudge.list(ctx.principal.userId)),

  get: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/tool-eval/judge/reports/{report_id}",
        tags,
        summary: "One judge report: every verdict with the judge's prompt and raw answer, and the report",
        errorResponses: { 404: JUDGE_NOT_FOUND },
      },
    })
    .input(reportIdSchema)
    .output(judgeReportSchema)
    .query(({ ctx, input }) => ctx.deps.services.benchJudge.get(ctx.principal.userId, input.report_id)),

  delete: userProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/tool-eval/judge/reports/{report_id}",
        tags,
        summary: "Delete a judge report",
        errorResponses: { 404: JUDGE_NOT_FOUND, 409: "Judge report is still running: cancel it first" },
      },
    })
    .input(reportIdSchema)
    .output(okSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.benchJudge.delete(ctx.principal.userId, input.report_id)),
});
