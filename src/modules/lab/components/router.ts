// /api/v1/component: the registry, localized by Accept-Language (English or Spanish).
import { z } from "zod";
import { headerValue } from "../../../trpc/context.js";
import { dashboardProcedure, router } from "../../../trpc/init.js";
import { componentNameParamSchema, componentQuerySchema, componentSchema } from "./components.schema.js";
import { languageOf } from "./service.js";

const tags = ["lab: components"];
const hidden = { hidden: true } as const;

export const labComponentsRouter = router({
  list: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/v1/component/",
        tags,
        summary:
          "Registered components (tasks, models, metrics, optimizers) with JSON Schemas of their parameters",
        description:
          "`select_types` and `ignore_types` are repeated keys (`select_types=Model&select_types=Metric`, as " +
          "DashAI's frontend sends them); `Accept-Language: es` gives Spanish names and descriptions. An unknown " +
          "type or related component is a 422.",
      },
      graphql: hidden,
    })
    .input(componentQuerySchema)
    .output(z.array(componentSchema))
    .query(({ ctx, input }) =>
      ctx.deps.services.lab.components.list(
        input,
        languageOf(headerValue(ctx.req.headers, "accept-language")),
      ),
    ),

  get: dashboardProcedure
    .meta({
      openapi: { method: "GET", path: "/api/v1/component/{name}/", tags, summary: "One component" },
      graphql: hidden,
    })
    .input(componentNameParamSchema)
    .output(componentSchema)
    .query(({ ctx, input }) =>
      ctx.deps.services.lab.components.get(
        input.name,
        languageOf(headerValue(ctx.req.headers, "accept-language")),
      ),
    ),
});
