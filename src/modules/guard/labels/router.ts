import { z } from "zod";
import { apiKeyProcedure, router } from "../../../trpc/init.js";
import { pagingSchema } from "../shared.schema.js";
import { labelSchema } from "./labels.schema.js";

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
});
