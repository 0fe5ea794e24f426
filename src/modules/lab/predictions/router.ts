// /api/v1/predict: persisted predictions (create, list, get, results, delete), filter_datasets and splits.
// The preview (a form) and the CSV download are plain routes (predictions/http.ts); a prediction runs as a
// PredictJob through `POST /api/v1/job/` (predictions/job.ts).
import { z } from "zod";
import { dashboardProcedure, router } from "../../../trpc/init.js";
import { deletedSchema } from "../datasets/datasets.schema.js";
import { runIdParamSchema } from "../runs/runs.schema.js";
import {
  createPredictionSchema,
  filterDatasetsResultSchema,
  filterDatasetsSchema,
  labPredictionSchema,
  listPredictionsSchema,
  predictionIdParamSchema,
  predictionResultsQuerySchema,
  predictionResultsSchema,
  splitsResultSchema,
} from "./predictions.schema.js";

const tags = ["lab: predictions"];
const hidden = { hidden: true } as const;

export const labPredictionsRouter = router({
  list: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/predict/",
        tags,
        summary: "List predictions, newest first (of one run with run_id; one with prediction_id)",
      },
      graphql: hidden,
    })
    .input(listPredictionsSchema)
    .output(z.array(labPredictionSchema))
    .query(({ ctx, input }) => ctx.deps.services.lab.predictions.list(input)),

  create: dashboardProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/v1/predict/",
        tags,
        summary:
          "Create a prediction of a trained run on a dataset or a split (status 0); run it with POST /api/v1/job/ (PredictJob, kwargs {prediction_id})",
      },
      httpStatus: 201,
      graphql: hidden,
    })
    .input(createPredictionSchema)
    .output(labPredictionSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.lab.predictions.create(input)),

  filterDatasets: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/predict/filter_datasets",
        tags,
        summary:
          "The finished datasets a run can predict: every input column present, with the type it was trained on",
      },
      graphql: hidden,
    })
    .input(filterDatasetsSchema)
    .output(filterDatasetsResultSchema)
    .query(({ ctx, input }) => ctx.deps.services.lab.predictions.filterDatasets(input)),

  splits: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/predict/splits/{run_id}",
        tags,
        summary: "The run's training splits (rows each) a prediction can read",
      },
      graphql: hidden,
    })
    .input(runIdParamSchema)
    .output(splitsResultSchema)
    .query(({ ctx, input }) => ctx.deps.services.lab.predictions.splits(input.run_id)),

  get: dashboardProcedure
    .meta({
      openapi: { method: "GET", path: "/api/v1/predict/{prediction_id}", tags, summary: "Get a prediction" },
      graphql: hidden,
    })
    .input(predictionIdParamSchema)
    .output(labPredictionSchema)
    .query(({ ctx, input }) => ctx.deps.services.lab.predictions.get(input.prediction_id)),

  results: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/predict/results/{prediction_id}",
        tags,
        summary: "A page of a finished prediction's results (offset, limit ≤ 1000); 422 before it finished",
      },
      graphql: hidden,
    })
    .input(predictionResultsQuerySchema)
    .output(predictionResultsSchema)
    .query(({ ctx, input }) =>
      ctx.deps.services.lab.predictions.resultsPage(input.prediction_id, input.offset, input.limit),
    ),

  delete: dashboardProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/v1/predict/{prediction_id}",
        tags,
        summary: "Delete a prediction and its results (a running job is cancelled)",
      },
      httpStatus: 204,
      graphql: hidden,
    })
    .input(predictionIdParamSchema)
    .output(deletedSchema)
    .mutation(async ({ ctx, input }) => {
      await ctx.deps.services.lab.predictions.delete(input.prediction_id);
      return { deleted: 1 };
    }),
});
