// /api/v1/explainer: global and local explainers of a run (list, create, get, plot, delete), the dataset
// check before a local one, and PATCH (rename). Computing is an ExplainerJob through `POST /api/v1/job/`.
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
  listExplainersSchema,
  patchExplainerSchema,
  validateDatasetOutSchema,
  validateDatasetSchema,
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
