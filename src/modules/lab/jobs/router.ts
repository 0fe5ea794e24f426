// /api/v1/job: status, list, cancel. Submitting (`POST /api/v1/job/`) is a form with a file: http.ts.
import { z } from "zod";
import { dashboardProcedure, router } from "../../../trpc/init.js";
import { jobIdParamSchema, labJobSchema } from "./jobs.schema.js";

const tags = ["lab: jobs"];
const hidden = { hidden: true } as const;

export const labJobsRouter = router({
  list: dashboardProcedure
    .meta({
      openapi: { method: "GET", path: "/api/v1/job/", tags, summary: "Lab jobs, newest first" },
      graphql: hidden,
    })
    .input(z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) }))
    .output(z.array(labJobSchema))
    .query(({ ctx, input }) => ctx.deps.services.lab.jobs.list(input.limit)),

  status: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/job/status/{job_id}",
        tags,
        summary: "A job's status, progress (0–100) and message; poll until finished, error or cancelled",
      },
      graphql: hidden,
    })
    .input(jobIdParamSchema)
    .output(labJobSchema)
    .query(({ ctx, input }) => ctx.deps.services.lab.jobs.status(input.job_id)),

  cancel: dashboardProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/v1/job/{job_id}",
        tags,
        summary:
          "Cancel a queued or running job (its work stops within a second); a finished job is left as is",
      },
      httpStatus: 204,
      graphql: hidden,
    })
    .input(jobIdParamSchema)
    .output(z.object({ id: z.string() }))
    .mutation(async ({ ctx, input }) => {
      await ctx.deps.services.lab.jobs.cancel(input.job_id);
      return { id: input.job_id };
    }),
});
