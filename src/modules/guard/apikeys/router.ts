import { z } from "zod";
import { dashboardProcedure, router } from "../../../trpc/init.js";
import { listPageSchema, withTotalCount } from "../../../trpc/paging.js";
import { deletedSchema, idParamSchema } from "../shared.schema.js";
import {
  apiKeySchema,
  createApiKeySchema,
  createdApiKeySchema,
  createdSecretSchema,
  rotateSecretSchema,
  updateApiKeySchema,
} from "./apikeys.schema.js";

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
    .input(listPageSchema)
    .output(z.array(apiKeySchema))
    .query(async ({ ctx, input }) => withTotalCount(ctx, await ctx.deps.services.apiKeys.list(input))),

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

  update: dashboardProcedure
    .meta({
      openapi: {
        method: "PATCH",
        path: "/dashboard/api/apikeys/{id}",
        tags,
        summary: "Change the hostnames a key may be used on as a site key",
      },
      graphql: { name: "updateApiKey" },
    })
    .input(updateApiKeySchema)
    .output(apiKeySchema)
    .mutation(({ ctx, input }) => ctx.deps.services.apiKeys.update(input.id, { hostnames: input.hostnames })),

  rotateSecret: dashboardProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/dashboard/api/apikeys/{id}/secret",
        tags,
        summary: "Create or rotate the key's siteverify secret (returned only here)",
        description:
          "Makes the key a site key for `POST /api/v1/siteverify`. The key must hold the `challenge` scope " +
          "alone (it is public). On a rotation the old secret stays valid for `overlap_seconds` (default 7200).",
      },
      httpStatus: 201,
      graphql: { name: "rotateApiKeySecret" },
    })
    .input(rotateSecretSchema)
    .output(createdSecretSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.apiKeys.rotateSecret(input.id, input.overlap_seconds)),

  removeSecret: dashboardProcedure
    .meta({
      openapi: {
        method: "DELETE",
        path: "/dashboard/api/apikeys/{id}/secret",
        tags,
        summary:
          "Remove the key's siteverify secrets (current and previous); siteverify refuses them at once",
      },
      httpStatus: 204,
      graphql: { name: "removeApiKeySecret" },
    })
    .input(idParamSchema)
    .output(deletedSchema)
    .mutation(async ({ ctx, input }) => {
      await ctx.deps.services.apiKeys.removeSecret(input.id);
      return { id: input.id, deleted: true as const };
    }),

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
