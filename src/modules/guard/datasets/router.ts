import { z } from "zod";
import { dashboardProcedure, router } from "../../../trpc/init.js";
import { deletedSchema, idParamSchema } from "../shared.schema.js";
import { createDatasetSchema, datasetSchema } from "./datasets.schema.js";

const tags = ["dashboard: datasets"];

export const datasetsRouter = router({
  list: dashboardProcedure
    .meta({
      openapi: { method: "GET", path: "/dashboard/api/item-datasets", tags, summary: "List all datasets" },
      graphql: { name: "datasets" },
    })
    .input(z.void())
    .output(z.array(datasetSchema))
    .query(({ ctx }) => ctx.deps.services.datasets.list()),

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
});
