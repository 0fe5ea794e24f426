// /api/v1/explainer: global and local explainers of a run (list, create, get, plot with the user's figure
// overrides, delete), the dataset checks before a local one (validate-dataset, valid-datasets), the
// explainable splits of a run, and PATCH (rename). Computing is an ExplainerJob through `POST /api/v1/job/`.
import { z } from "zod";
import { dashboardProcedure, router } from "../../../trpc/init.js";
import { deletedSchema } from "../datasets/datasets.schema.js";
import {
  artifactSchema,
  createGlobalSchema,
  createLocalSchema,
  explainerIdParamSchema,
  type ExplainerScope,
  labExplainerDetailSchema,
  labExplainerSchema,
  explainableSplitsOutSchema,
  listExplainersSchema,
  okSchema,
  patchExplainerSchema,
  plotOverrideIndexSchema,
  plotOverrideSchema,
  runIdParamSchema,
  validateDatasetOutSchema,
  validateDatasetSchema,
  validDatasetsOutSchema,
  validDatasetsSchema,
} from "./explainers.schema.js";

const tags = ["lab: explainers"];
const hidden = { hidden: true } as const;

/** The list, get, plot and delete procedures of one scope. */
function scoped(scope: ExplainerScope) {
  const base = `/api/v1/explainer/${scope}` as const;
  return {
    list: dashboardProcedure
      .meta({
        openapi: {
          method: "GET",
          path: base,
          tags,
          summary: `List ${scope} explainers (of one run with run_id)`,
        },
        graphql: hidden,
      })
      .input(listExplainersSchema)
      .output(z.array(labExplainerSchema))
      .query(({ ctx, input }) => ctx.deps.services.lab.explainers.list(scope, input.run_id)),

    get: dashboardProcedure
      .meta({
        openapi: {
          method: "GET",
          path: `${base}/{explainer_id}`,
          tags,
          summary: `Get a ${scope} explainer with its explanation (null until finished)`,
        },
        graphql: hidden,
      })
      .input(explainerIdParamSchema)
      .output(labExplainerDetailSchema)
      .query(({ ctx, input }) => ctx.deps.services.lab.explainers.get(scope, input.explainer_id)),

    plot: dashboardProcedure
      .meta({
        openapi: {
          method: "GET",
          path: `${base}/plot/{explainer_id}`,
          tags,
          summary: `The ${scope} explainer's figures: artifacts whose plotly payload is the Plotly figure (JSON string); 422 until finished`,
        },
        graphql: hidden,
      })
      .input(explainerIdParamSchema)
      .output(z.array(artifactSchema))
      .query(({ ctx, input }) => ctx.deps.services.lab.explainers.plot(scope, input.explainer_id)),

    saveOverride: dashboardProcedure
      .meta({
        openapi: {
          method: "PUT",
          path: `${base}/plot/{explainer_id}/override`,
          tags,
          summary: `Keep the user's edit of one plotly artifact of a finished ${scope} explainer ({index, figure}); GET …/plot answers it in place of the computed one`,
        },
        graphql: hidden,
      })
      .input(plotOverrideSchema)
      .output(okSchema)
      .mutation(({ ctx, input }) =>
        ctx.deps.services.lab.explainers.saveOverride(scope, input.explainer_id, input.index, input.figure),
      ),

    removeOverride: dashboardProcedure
      .meta({
        openapi: {
          method: "DELETE",
          path: `${base}/plot/{explainer_id}/override/{index}`,
          tags,
          summary: `Restore the computed figure at index of a ${scope} explainer (200 also when it was not edited)`,
        },
        graphql: hidden,
      })
      .input(plotOverrideIndexSchema)
      .output(okSchema)
      .mutation(({ ctx, input }) =>
        ctx.deps.services.lab.explainers.removeOverride(scope, input.explainer_id, input.index),
      ),

    delete: dashboardProcedure
      .meta({
        openapi: {
          method: "DELETE",
          path: `${base}/{explainer_id}`,
          tags,
          summary: `Delete a ${scope} explainer (its running job is cancelled)`,
        },
        httpStatus: 204,
        graphql: hidden,
      })
      .input(explainerIdParamSchema)
      .output(deletedSchema)
      .mutation(async ({ ctx, input }) => {
        await ctx.deps.services.lab.explainers.delete(scope, input.explainer_id);
        return { deleted: 1 };
      }),
  };
}

const global = scoped("global");
const local = scoped("local");

export const labExplainersRouter = router({
  globalList: global.list,
  globalGet: global.get,
  globalPlot: global.plot,
  globalDelete: global.delete,
  localList: local.list,
  localGet: local.get,
  localPlot: local.plot,
  localDelete: local.delete,
  globalSaveOverride: global.saveOverride,
  globalRemoveOverride: global.removeOverride,
  localSaveOverride: local.saveOverride,
  localRemoveOverride: local.removeOverride,

  validDatasets: dashboardProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/v1/explainer/local/valid-datasets",
        tags,
        summary:
          "The ids of the finished datasets a local explainer of the run can read: validate-dataset answers valid for each ({valid_dataset_ids})",
      },
      graphql: hidden,
    })
    .input(validDatasetsSchema)
    .output(validDatasetsOutSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.lab.explainers.validDatasets(input.run_id)),

  explainableSplits: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/explainer/explainable-splits/{run_id}",
        tags,
        summary:
          "The splits of the run's dataset a global explainer can read (its split parameter), with their rows: {splits: [{name, rows}]}",
      },
      graphql: hidden,
    })
    .input(runIdParamSchema)
    .output(explainableSplitsOutSchema)
    .query(({ ctx, input }) => ctx.deps.services.lab.explainers.explainableSplits(input.run_id)),

  globalCreate: dashboardProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/v1/explainer/global",
        tags,
        summary:
          "Create a global explainer of a trained run (status 0); compute it with POST /api/v1/job/ (ExplainerJob, kwargs {explainer_id, explainer_scope: global})",
      },
      httpStatus: 201,
      graphql: hidden,
    })
    .input(createGlobalSchema)
    .output(labExplainerSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.lab.explainers.createGlobal(input)),

  localCreate: dashboardProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/v1/explainer/local",
        tags,
        summary:
          "Create a local explainer of a trained run on rows of a dataset (status 0); compute it with POST /api/v1/job/ (ExplainerJob, kwargs {explainer_id, explainer_scope: local})",
      },
      httpStatus: 201,
      graphql: hidden,
    })
    .input(createLocalSchema)
    .output(labExplainerSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.lab.explainers.createLocal(input)),

  validateDataset: dashboardProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/v1/explainer/local/validate-dataset",
        tags,
        summary:
          "Whether a dataset has the run's input and output columns with the training dataset's types ({dataset_status: valid | invalid, missing_columns?, type_mismatches?})",
      },
      graphql: hidden,
    })
    .input(validateDatasetSchema)
    .output(validateDatasetOutSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.lab.explainers.validateDataset(input.run_id, input.dataset_id),
    ),

  update: dashboardProcedure
    .meta({
      openapi: {
        method: "PATCH",
        path: "/api/v1/explainer/",
        tags,
        summary: "Rename an explainer: JSON {explainer_id, scope, name}",
      },
      graphql: hidden,
    })
    .input(patchExplainerSchema)
    .output(labExplainerSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.lab.explainers.rename(input.scope, input.explainer_id, input.name),
    ),
});
