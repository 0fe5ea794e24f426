import { z } from "zod";
import { dashboardProcedure, router } from "../../../trpc/init.js";
import { listPageSchema, withTotalCount } from "../../../trpc/paging.js";
import { deletedSchema, idParamSchema } from "../shared.schema.js";
import { uploadItemsResultSchema } from "../items/items.schema.js";
import {
  createDatasetSchema,
  datasetProgressInputSchema,
  datasetProgressSchema,
  datasetSchema,
  datasetUploadSchema,
} from "./datasets.schema.js";

const tags = ["dashboard: datasets"];

export const datasetsRouter = router({
  list: dashboardProcedure
    .meta({
      openapi: { method: "GET", path: "/dashboard/api/item-datasets", tags, summary: "List all datasets" },
      graphql: { name: "datasets" },
    })
    .input(listPageSchema)
    .output(z.array(datasetSchema))
    .query(async ({ ctx, input }) => withTotalCount(ctx, await ctx.deps.services.datasets.list(input))),

  create: dashboardProcedure
    .meta({
      openapi: { method: "POST", path: "/dashboard/api/item-datasets", tags, summary: "Create a dataset" },
      httpStatus: 201,
      graphql: { name: "createDataset" },
    })
    .input(createDatasetSchema)
    .output(datasetSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.datasets.create(input)),

  get: dashboardProcedure
    .meta({
      openapi: { method: "GET", path: "/dashboard/api/item-datasets/{id}", tags, summary: "Get a dataset" },
      graphql: { name: "dataset" },
    })
    .input(idParamSchema)
    .output(datasetSchema)
    .query(({ ctx, input }) => ctx.deps.services.datasets.get(input.id)),

  delete: dashboardProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/dashboard/api/item-datasets/{id}",
        tags,
        summary: "Delete a dataset and all its items, votes and labels (one transaction)",
      },
      httpStatus: 204,
      graphql: { name: "deleteDataset" },
    })
    .input(idParamSchema)
    .output(deletedSchema)
    .mutation(async ({ ctx, input }) => {
      await ctx.deps.services.datasets.delete(input.id);
      return { id: input.id, deleted: true as const };
    }),

  progress: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/dashboard/api/item-datasets/progress",
        tags,
        summary: "Labeling progress of datasets: items per state (one grouped query for all of them)",
      },
      // GraphQL: `Dataset.progress`, batched per request (see src/graphql/schema.ts), and this field.
      graphql: {
        name: "datasetProgress",
        nest: { on: "Dataset", field: "progress", key: "id", batchArg: "ids", resultKey: "dataset_id" },
      },
    })
    .input(datasetProgressInputSchema)
    .output(z.array(datasetProgressSchema))
    .query(({ ctx, input }) => ctx.deps.services.datasets.progress(input.ids)),

  uploadItems: dashboardProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/dashboard/api/item-datasets/{id}/items",
        tags,
        summary: "Upload up to 1,000 items into a dataset (all or nothing)",
      },
      httpStatus: 201,
      graphql: { name: "uploadDatasetItems" },
    })
    .input(datasetUploadSchema)
    .output(uploadItemsResultSchema)
    .mutation(async ({ ctx, input }) => {
      const dataset = await ctx.deps.services.datasets.get(input.id);
      const items = input.items.map((item) => ({
        ...item,
        dataset_id: dataset.id,
        modality: dataset.modality,
      }));
      return ctx.deps.services.items.upload(null, items);
    }),
});
