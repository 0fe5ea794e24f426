import { z } from "zod";
import { router, userProcedure } from "../../../trpc/init.js";
import { cancelSchema, okSchema } from "../runs/runs.schema.js";
import { ADMIN_REQUIRED, adminProcedure, TAGS } from "../shared/procedures.js";
import {
  labelDatasetListSchema,
  labelRunIdSchema,
  labelRunListSchema,
  labelRunSchema,
  labelSuiteCreateSchema,
  labelSuiteDetailSchema,
  labelSuiteIdSchema,
  labelSuiteListSchema,
  labelSuiteSchema,
} from "./labeling.schema.js";
import { LABEL_RUN_NOT_FOUND, LABEL_SUITE_NOT_FOUND } from "./service.js";

const tags = [...TAGS.labeling];

export const labelingRouter = router({
  datasets: adminProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/labeling/datasets",
        tags,
        summary: "The guard's challenge datasets a labeling suite can be built from (admins; no audio)",
        errorResponses: { 403: ADMIN_REQUIRED },
      },
    })
    .input(z.void())
    .output(labelDatasetListSchema)
    .query(({ ctx }) => ctx.deps.services.benchLabeling.datasets()),

  createSuite: adminProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/labeling/suites",
        tags,
        summary:
          "Make a labeling suite from a guard dataset's finalized labels (admins: the guard's data is theirs)",
        errorResponses: { 403: ADMIN_REQUIRED, 404: "Dataset not found" },
      },
    })
    .input(labelSuiteCreateSchema)
    .output(labelSuiteSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.benchLabeling.createSuite(ctx.principal.userId, input)),

  suites: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/labeling/suites",
        tags,
        summary: "Your labeling suites, newest first",
      },
    })
    .input(z.void())
    .output(labelSuiteListSchema)
    .query(({ ctx }) => ctx.deps.services.benchLabeling.listSuites(ctx.principal.userId)),

  suite: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/labeling/suites/{suite_id}",
        tags,
        summary: "One labeling suite with its items and their consensus labels",
        errorResponses: { 404: LABEL_SUITE_NOT_FOUND },
      },
    })
    .input(labelSuiteIdSchema)
    .output(labelSuiteDetailSchema)
    .query(({ ctx, input }) =>
      ctx.deps.services.benchLabeling.getSuite(ctx.principal.userId, input.suite_id),
    ),

  deleteSuite: userProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/labeling/suites/{suite_id}",
        tags,
        summary: "Delete a labeling suite (its runs stay, with suite_id null)",
        errorResponses: { 404: LABEL_SUITE_NOT_FOUND },
      },
    })
    .input(labelSuiteIdSchema)
    .output(okSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.benchLabeling.deleteSuite(ctx.principal.userId, input.suite_id),
    ),

  cancel: userProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/labeling/run/cancel",
        tags,
        summary:
          "Cancel your running labeling run (and any benchmark, eval or tune): calls in flight are aborted",
      },
    })
    .input(z.void())
    .output(cancelSchema)
    .mutation(({ ctx }) => ctx.deps.services.benchLabeling.cancel(ctx.principal.userId)),

  history: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/labeling/history",
        tags,
        summary: "Your labeling runs (the crowd-vs-model table of each), newest first (the last 100)",
      },
    })
    .input(z.void())
    .output(labelRunListSchema)
    .query(({ ctx }) => ctx.deps.services.benchLabeling.history(ctx.principal.userId)),

  get: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/labeling/history/{run_id}",
        tags,
        summary: "One labeling run with every item's answer per model",
        errorResponses: { 404: LABEL_RUN_NOT_FOUND },
      },
    })
    .input(labelRunIdSchema)
    .output(labelRunSchema)
    .query(({ ctx, input }) => ctx.deps.services.benchLabeling.get(ctx.principal.userId, input.run_id)),

  delete: userProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/labeling/history/{run_id}",
        tags,
        summary: "Delete a labeling run",
        errorResponses: { 404: LABEL_RUN_NOT_FOUND, 409: "Run is still running: cancel it first" },
      },
    })
    .input(labelRunIdSchema)
    .output(okSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.benchLabeling.delete(ctx.principal.userId, input.run_id)),
});
