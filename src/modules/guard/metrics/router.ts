import { z } from "zod";
import { dashboardProcedure, router } from "../../../trpc/init.js";
import { metricsSchema } from "./metrics.schema.js";

export const metricsRouter = router({
  get: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/dashboard/api/metrics",
        tags: ["dashboard: metrics"],
        summary: "Traffic and challenge summary",
      },
      graphql: { name: "metrics" },
    })
    .input(z.void())
    .output(metricsSchema)
    .query(({ ctx }) => ctx.deps.services.metrics.snapshot()),
});
