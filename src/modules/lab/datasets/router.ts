// /api/v1/dataset (DashAI's paths, trailing slashes as documented). Every route needs the dashboard
// credentials. The upload itself is `POST /api/v1/job/` (DatasetJob, jobs/http.ts); the CSV exports are
// plain routes (http.ts).
import { z } from "zod";
import { dashboardProcedure, router } from "../../../trpc/init.js";
import {
  bulkDeleteSchema,
  changeTypesSchema,
  columnTypesSchema,
  copySchema,
  createLabDatasetSchema,
  datasetIdParamSchema,
  datasetInfoSchema,
  deletedSchema,
  filterQuerySchema,
  filterResultSchema,
  importGuardSchema,
  labDatasetSchema,
  renameColumnResultSchema,
  renameColumnSchema,
  sampleSchema,
  updateLabDatasetSchema,
} from "./datasets.schema.js";

const tags = ["lab: datasets"];
const hidden = { hidden: true } as const;

export const labDatasetsRouter = router({
  list: dashboardProcedure
    .meta({
      openapi: { method: "GET", path: "/api/v1/dataset/", tags, summary: "List datasets" },
      graphql: hidden,
    })
    .input(z.object({}))
    .output(z.array(labDatasetSchema))
    .query(({ ctx }) => ctx.deps.services.lab.datasets.list()),

  create: dashboardProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/v1/dataset/",
        tags,
        summary: "Create a dataset (status 0); its file is then sent with POST /api/v1/job/ (DatasetJob)",
      },
      httpStatus: 201,
      graphql: hidden,
    })
    .input(createLabDatasetSchema)
    .output(labDatasetSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.lab.datasets.create(input.name)),

  deleteMany: dashboardProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/v1/dataset/",
        tags,
        summary: "Delete datasets by id (unknown ids skipped)",
      },
      httpStatus: 204,
      graphql: hidden,
    })
    .input(bulkDeleteSchema)
    .output(deletedSchema)
    .mutation(async ({ ctx, input }) => ({
      deleted: await ctx.deps.services.lab.datasets.deleteMany(input.ids),
    })),

  filter: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/dataset/filter/",
        tags,
        summary: "A page of rows for the data grid, filtered and sorted (MUI filter/sort models)",
      },
      graphql: hidden,
    })
    .input(filterQuerySchema)
    .output(filterResultSchema)
    .query(({ ctx, input }) => ctx.deps.services.lab.datasets.filter(input)),

  copy: dashboardProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/v1/dataset/copy",
        tags,
        summary: "Copy a dataset (named <name>_copy)",
      },
      httpStatus: 201,
      graphql: hidden,
    })
    .input(copySchema)
    .output(labDatasetSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.lab.datasets.copy(input.dataset_id, input.name)),

  importGuard: dashboardProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/api/v1/dataset/import/guard",
        tags,
        summary:
          "Import a guard dataset's finalized labels as a new dataset (loaded by a DatasetJob: see job_id)",
      },
      httpStatus: 201,
      graphql: hidden,
    })
    .input(importGuardSchema)
    .output(labDatasetSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.lab.datasets.importGuard(
        ctx.deps.services.datasets,
        input.guard_dataset_id,
        input.name,
      ),
    ),

  get: dashboardProcedure
    .meta({
      openapi: { method: "GET", path: "/api/v1/dataset/{dataset_id}", tags, summary: "Get a dataset" },
      graphql: hidden,
    })
    .input(datasetIdParamSchema)
    .output(labDatasetSchema)
    .query(({ ctx, input }) => ctx.deps.services.lab.datasets.get(input.dataset_id)),

  update: dashboardProcedure
    .meta({
      openapi: { method: "PATCH", path: "/api/v1/dataset/{dataset_id}", tags, summary: "Rename a dataset" },
      graphql: hidden,
    })
    .input(updateLabDatasetSchema)
    .output(labDatasetSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.lab.datasets.rename(input.dataset_id, input.name)),

  delete: dashboardProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/v1/dataset/{dataset_id}",
        tags,
        summary: "Delete a dataset, its files and its model sessions",
      },
      httpStatus: 204,
      graphql: hidden,
    })
    .input(datasetIdParamSchema)
    .output(deletedSchema)
    .mutation(async ({ ctx, input }) => {
      await ctx.deps.services.lab.datasets.delete(input.dataset_id);
      return { deleted: 1 };
    }),

  sample: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/dataset/{dataset_id}/sample",
        tags,
        summary: "Ten representative rows (evenly spread), column by column",
      },
      graphql: hidden,
    })
    .input(datasetIdParamSchema)
    .output(sampleSchema)
    .query(({ ctx, input }) => ctx.deps.services.lab.datasets.sample(input.dataset_id)),

  info: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/dataset/{dataset_id}/info",
        tags,
        summary: "Row and column counts, columns",
      },
      graphql: hidden,
    })
    .input(datasetIdParamSchema)
    .output(datasetInfoSchema)
    .query(({ ctx, input }) => ctx.deps.services.lab.datasets.info(input.dataset_id)),

  types: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/dataset/{dataset_id}/types",
        tags,
        summary: "Each column's type",
      },
      graphql: hidden,
    })
    .input(datasetIdParamSchema)
    .output(columnTypesSchema)
    .query(({ ctx, input }) => ctx.deps.services.lab.datasets.types(input.dataset_id)),

  changeTypes: dashboardProcedure
    .meta({
      openapi: {
        method: "PATCH",
        path: "/api/v1/dataset/{dataset_id}/types",
        tags,
        summary:
          "Change column types (422 naming the first value that does not convert; nothing changes then)",
      },
      graphql: hidden,
    })
    .input(changeTypesSchema)
    .output(columnTypesSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.lab.datasets.changeTypes(input.dataset_id, input.types)),

  modelSessionsExist: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/dataset/{dataset_id}/model-sessions-exist",
        tags,
        summary: "Whether model sessions use this dataset (a bare boolean)",
      },
      graphql: hidden,
    })
    .input(datasetIdParamSchema)
    .output(z.boolean())
    .query(({ ctx, input }) => ctx.deps.services.lab.datasets.modelSessionsExist(input.dataset_id)),

  renameColumn: dashboardProcedure
    .meta({
      openapi: {
        method: "PATCH",
        path: "/api/v1/dataset/{dataset_id}/columns/rename",
        tags,
        summary: "Rename a column",
      },
      graphql: hidden,
    })
    .input(renameColumnSchema)
    .output(renameColumnResultSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.lab.datasets.renameColumn(input.dataset_id, input.old_name, input.new_name),
    ),
});
