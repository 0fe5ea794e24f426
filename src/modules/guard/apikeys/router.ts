import { z } from "zod";
import { dashboardProcedure, router } from "../../../trpc/init.js";
import { deletedSchema, idParamSchema } from "../shared.schema.js";
import { apiKeySchema, createApiKeySchema, createdApiKeySchema } from "./apikeys.schema.js";

const tags = ["dashboard: API keys"];

export const apiKeysRouter = router({
  list: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/dashboard/api/apikeys",
        tags,
        summary: "List active API keys (prefix only)",
      },
      graphql: { name: "apiKeys" },
    })
    .input(z.void())
    .output(z.array(apiKeySchema))
    .query(({ ctx }) => ctx.deps.services.apiKeys.list()),

  create: dashboardProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/dashboard/api/apikeys",
        tags,
        summary: "Create an API key (raw_key is returned only here)",
      },
      httpStatus: 201,
      graphql: { name: "createApiKey" },
    })
    .input(createApiKeySchema)
    .output(createdApiKeySchema)
    .mutation(({ ctx, input }) => ctx.deps.services.apiKeys.create(input)),

  revoke: dashboardProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/dashboard/api/apikeys/{id}",
        tags,
        summary: "Revoke an API key (immediately, on every instance)",
      },
      httpStatus: 204,
      graphql: { name: "revokeApiKey" },
    })
    .input(idParamSchema)
    .output(deletedSchema)
    .mutation(async ({ ctx, input }) => {
      await ctx.deps.services.apiKeys.revoke(input.id);
      return { id: input.id, deleted: true as const };
    }),
});
