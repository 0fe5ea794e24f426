import { z } from "zod";
import { apiKeyProcedure, router } from "../../../trpc/init.js";
import { pagingSchema } from "../shared.schema.js";
import { itemSchema, uploadItemsResultSchema, uploadItemsSchema } from "./items.schema.js";

const tags = ["data"];

export const itemsRouter = router({
  list: apiKeyProcedure
    .meta({
      scope: "data:read",
      openapi: {
        method: "GET",
        path: "/api/v1/data/items",
        tags,
        summary: "List the items visible to this API key (upload order)",
      },
      graphql: { name: "items" },
    })
    .input(pagingSchema)
    .output(z.array(itemSchema))
    .query(({ ctx, input }) => ctx.deps.services.items.list(ctx.principal, input)),

  upload: apiKeyProcedure
    .meta({
      scope: "data:write",
      openapi: {
        method: "POST",
        path: "/api/v1/data/items",
        tags,
        summary: "Upload up to 1,000 items (all or nothing)",
      },
      httpStatus: 201,
      graphql: { name: "uploadItems" },
    })
    .input(uploadItemsSchema)
    .output(uploadItemsResultSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.items.upload(ctx.principal, input.items)),
});
