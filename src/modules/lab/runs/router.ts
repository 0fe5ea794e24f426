// /api/v1/run: CRUD, reset, operations (predictions), HPO plots. Training is a ModelJob through
// `POST /api/v1/job/` (runs/job.ts); the .onnx download and upload are plain routes (http.ts).
import { z } from "zod";
import { dashboardProcedure, router } from "../../../trpc/init.js";
import { deletedSchema } from "../datasets/datasets.schema.js";
import {
  createRunSchema,
  labRunSchema,
  listRunsSchema,
  operationsCountSchema,
  plotFigureSchema,
  plotParamsSchema,
  runIdParamSchema,
  updateRunSchema,
} from "./runs.schema.js";

const tags = ["lab: runs"];
const hidden = { hidden: true } as const;

export const labRunsRouter = router({
  list: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/run/",
        tags,
        summary: "List runs (of one model session with model_session_id)",
      },
      graphql: hidden,
    })
    .input(listRunsSchema)
    .output(z.array(labRunSchema))
    .query(({ ctx, input }) => ctx.deps.services.lab.runs.list(input.model_session_id)),

  create: dashboardProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/v1/run/",
        tags,
        summary: "Create a run (status 0); train it with POST /api/v1/job/ (ModelJob, kwargs {run_id})",
      },
      httpStatus: 201,
      graphql: hidden,
    })
    .input(createRunSchema)
    .output(labRunSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.lab.runs.create(input)),

  plot: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/run/plot/{run_id}/{plot_type}",
        tags,
        summary:
          "A hyperparameter-search plot as Plotly JSON (history, slice, contour, importance); 422 when the run made no search, or contour/importance with fewer than 2 searched parameters",
      },
      graphql: hidden,
    })
    .input(plotParamsSchema)
    .output(plotFigureSchema)
    .query(({ ctx, input }) => ctx.deps.services.lab.runs.plot(input.run_id, input.plot_type)),

  get: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/run/{run_id}",
        tags,
        summary: "Get a run (status, metrics per split, trials)",
      },
      graphql: hidden,
    })
    .input(runIdParamSchema)
    .output(labRunSchema)
    .query(({ ctx, input }) => ctx.deps.services.lab.runs.get(input.run_id)),

  update: dashboardProcedure
    .meta({
      openapi: {
        method: "PATCH",
        path: "/api/v1/run/{run_id}",
        tags,
        summary:
          "Update a run (run_name, description, parameters, optimizer, optimizer_parameters, goal_metric); a changed configuration resets a trained run",
      },
      graphql: hidden,
    })
    .input(updateRunSchema)
    .output(labRunSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.lab.runs.update(input.run_id, {
        name: input.run_name ?? input.name,
        description: input.description,
        parameters: input.parameters,
        optimizer_name: input.optimizer !== undefined ? input.optimizer : input.optimizer_name,
        optimizer_parameters: input.optimizer_parameters,
        goal_metric: input.goal_metric,
      }),
    ),

  reset: dashboardProcedure
    .meta({
      openapi: {
        method: "PATCH",
        path: "/api/v1/run/{run_id}/reset",
        tags,
        summary:
          "Reset a run to NOT_STARTED (metrics, trials and trained model removed; a running job cancelled)",
      },
      graphql: hidden,
    })
    .input(runIdParamSchema)
    .output(labRunSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.lab.runs.reset(input.run_id)),

  delete: dashboardProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/v1/run/{run_id}",
        tags,
        summary: "Delete a run, its files and predictions",
      },
      httpStatus: 204,
      graphql: hidden,
    })
    .input(runIdParamSchema)
    .output(deletedSchema)
    .mutation(async ({ ctx, input }) => {
      await ctx.deps.services.lab.runs.delete(input.run_id);
      return { deleted: 1 };
    }),

  operationsCount: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/run/{run_id}/operations/count",
        tags,
        summary: "How many explainers and predictions the run has",
      },
      graphql: hidden,
    })
    .input(runIdParamSchema)
    .output(operationsCountSchema)
    .query(({ ctx, input }) => ctx.deps.services.lab.runs.operationsCount(input.run_id)),

  deleteOperations: dashboardProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/v1/run/{run_id}/operations",
        tags,
        summary: "Delete the run's predictions and explainers",
      },
      httpStatus: 204,
      graphql: hidden,
    })
    .input(runIdParamSchema)
    .output(deletedSchema)
    .mutation(async ({ ctx, input }) => {
      await ctx.deps.services.lab.runs.deleteOperations(input.run_id);
      return { deleted: 1 };
    }),
});
