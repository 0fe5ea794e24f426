// /api/v1/notebook (DashAI's frontend paths; not in lab-api.txt, documented in docs/lab.md). Every route
// needs the dashboard credentials. Saving a notebook as a dataset is DashAI's two requests: POST
// /api/v1/dataset/ {name}, then POST /api/v1/job/ DatasetJob {dataset_id, notebook_id}.
import { z } from "zod";
import { dashboardProcedure, router } from "../../../trpc/init.js";
import { bulkDeleteSchema, deletedSchema } from "../datasets/datasets.schema.js";
import { labConverterSchema } from "../converters/converters.schema.js";
import { labExplorerSchema } from "../explorers/explorers.schema.js";
import {
  createNotebookSchema,
  labNotebookSchema,
  listQuerySchema,
  notebookDataSchema,
  notebookIdParamSchema,
  notebookRowsQuerySchema,
  updateNotebookSchema,
} from "./notebooks.schema.js";

const tags = ["lab: notebooks"];
const hidden = { hidden: true } as const;

export const labNotebooksRouter = router({
  list: dashboardProcedure
    .meta({
      openapi: { method: "GET", path: "/api/v1/notebook/", tags, summary: "List notebooks" },
      graphql: hidden,
    })
    .input(z.object({}))
    .output(z.array(labNotebookSchema))
    .query(({ ctx }) => ctx.deps.services.lab.notebooks.list()),

  create: dashboardProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/v1/notebook/",
        tags,
        summary:
          "Create a notebook: a working copy of a finished dataset (422 when the dataset is not finished)",
      },
      httpStatus: 201,
      graphql: hidden,
    })
    .input(createNotebookSchema)
    .output(labNotebookSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.lab.notebooks.create(input)),

  deleteMany: dashboardProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/v1/notebook/",
        tags,
        summary: "Delete notebooks by id (unknown ids skipped), with their explorers and converter steps",
      },
      httpStatus: 204,
      graphql: hidden,
    })
    .input(bulkDeleteSchema)
    .output(deletedSchema)
    .mutation(async ({ ctx, input }) => ({
      deleted: await ctx.deps.services.lab.notebooks.deleteMany(input.ids),
    })),

  get: dashboardProcedure
    .meta({
      openapi: { method: "GET", path: "/api/v1/notebook/{notebook_id}", tags, summary: "A notebook" },
      graphql: hidden,
    })
    .input(notebookIdParamSchema)
    .output(labNotebookSchema)
    .query(({ ctx, input }) => ctx.deps.services.lab.notebooks.get(input.notebook_id)),

  update: dashboardProcedure
    .meta({
      openapi: {
        method: "PATCH",
        path: "/api/v1/notebook/{notebook_id}",
        tags,
        summary: "Rename a notebook (JSON {name}; 422 when blank)",
      },
      graphql: hidden,
    })
    .input(updateNotebookSchema)
    .output(labNotebookSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.lab.notebooks.update(input.notebook_id, input.name, input.description),
    ),

  delete: dashboardProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/v1/notebook/{notebook_id}",
        tags,
        summary: "Delete a notebook, its explorers and converter steps",
      },
      httpStatus: 204,
      graphql: hidden,
    })
    .input(notebookIdParamSchema)
    .output(z.void())
    .mutation(({ ctx, input }) => ctx.deps.services.lab.notebooks.delete(input.notebook_id)),

  explorers: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/notebook/{notebook_id}/explorers",
        tags,
        summary: "The notebook's explorers (skip, limit; limit 0: all)",
      },
      graphql: hidden,
    })
    .input(listQuerySchema)
    .output(z.array(labExplorerSchema))
    .query(({ ctx, input }) =>
      ctx.deps.services.lab.explorers.ofNotebook(input.notebook_id, input.skip, input.limit),
    ),

  converters: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/notebook/{notebook_id}/converters",
        tags,
        summary: "Every converter step of the notebook in order, whatever its status",
      },
      graphql: hidden,
    })
    .input(notebookIdParamSchema)
    .output(z.array(labConverterSchema))
    .query(({ ctx, input }) => ctx.deps.services.lab.converters.all(input.notebook_id)),

  data: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/notebook/{notebook_id}/data",
        tags,
        summary: "The working copy's columns (name, type, missing values) and a page of its rows",
      },
      graphql: hidden,
    })
    .input(notebookRowsQuerySchema)
    .output(notebookDataSchema)
    .query(({ ctx, input }) =>
      ctx.deps.services.lab.notebooks.data(input.notebook_id, input.page, input.page_size),
    ),
});
