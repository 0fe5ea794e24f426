import { z } from "zod";
import { apiKeyProcedure, dashboardProcedure, router } from "../../../trpc/init.js";
import { pagingSchema } from "../shared.schema.js";
import { labelPageSchema, labelSchema, labelSearchSchema } from "./labels.schema.js";

export const labelsRouter = router({
  list: apiKeyProcedure
    .meta({
      scope: "data:read",
      openapi: {
        method: "GET",
        path: "/api/v1/data/labeled",
        tags: ["data"],
        summary: "List finalized labels visible to this API key (items flagged for review are left out)",
      },
      graphql: { name: "labels" },
    })
    .input(pagingSchema)
    .output(z.array(labelSchema))
    .query(({ ctx, input }) => ctx.deps.services.labels.list(ctx.principal, input)),

  search: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/dashboard/api/labels",
        tags: ["dashboard: datasets"],
        summary: "Labels of every dataset, newest first, filtered by dataset and minimum confidence, paged",
      },
      graphql: { name: "labelPage" },
    })
    .input(labelSearchSchema)
    .output(labelPageSchema)
    .query(({ ctx, input }) => ctx.deps.services.labels.search(input)),
});
