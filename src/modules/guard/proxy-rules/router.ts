import { z } from "zod";
import { dashboardProcedure, router } from "../../../trpc/init.js";
import { listPageSchema, withTotalCount } from "../../../trpc/paging.js";
import { deletedSchema, idParamSchema } from "../shared.schema.js";
import { canonicalPath, pathOf } from "./matcher.js";
import {
  createProxyRuleSchema,
  proxyRuleMatchSchema,
  proxyRuleSchema,
  proxyRuleTestSchema,
  updateProxyRuleSchema,
} from "./proxy-rules.schema.js";

const tags = ["dashboard: proxy rules"];

export const proxyRulesRouter = router({
  list: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/dashboard/api/proxy-rules",
        tags,
        summary: "List proxy rules in evaluation order (priority, highest first)",
      },
      graphql: { name: "proxyRules" },
    })
    .input(listPageSchema)
    .output(z.array(proxyRuleSchema))
    .query(async ({ ctx, input }) => withTotalCount(ctx, await ctx.deps.services.proxyRules.list(input))),

  create: dashboardProcedure
    .meta({
      openapi: { method: "POST", path: "/dashboard/api/proxy-rules", tags, summary: "Create a proxy rule" },
      httpStatus: 201,
      graphql: { name: "createProxyRule" },
    })
    .input(createProxyRuleSchema)
    .output(proxyRuleSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.proxyRules.create(input)),

  update: dashboardProcedure
    .meta({
      openapi: {
        method: "PATCH",
        path: "/dashboard/api/proxy-rules/{id}",
        tags,
        summary: "Update a rule (only the fields given)",
      },
      graphql: { name: "updateProxyRule" },
    })
    .input(updateProxyRuleSchema)
    .output(proxyRuleSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.proxyRules.update(input)),

  delete: dashboardProcedure
    .meta({
      openapi: { method: "DELETE", path: "/dashboard/api/proxy-rules/{id}", tags, summary: "Delete a rule" },
      httpStatus: 204,
      graphql: { name: "deleteProxyRule" },
    })
    .input(idParamSchema)
    .output(deletedSchema)
    .mutation(async ({ ctx, input }) => {
      await ctx.deps.services.proxyRules.delete(input.id);
      return { id: input.id, deleted: true as const };
    }),

  test: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/dashboard/api/proxy-rules/test",
        tags,
        summary: "Which rule, if any, exempts a path from the challenge (as the proxy decides it)",
      },
      graphql: { name: "proxyRuleMatch" },
    })
    .input(proxyRuleTestSchema)
    .output(proxyRuleMatchSchema)
    .query(({ ctx, input }) => {
      const rule = ctx.deps.services.proxyRules.matchRule(input.path);
      const verdict = canonicalPath(pathOf(input.path));
      return verdict.canonical
        ? { path: verdict.path, canonical: true, reason: null, exempt: rule !== null, rule }
        : { path: pathOf(input.path), canonical: false, reason: verdict.reason, exempt: false, rule: null };
    }),
});
