import { z } from "zod";
import { dashboardProcedure, router } from "../../../trpc/init.js";
import { metricsSchema, tierCountSchema, timeseriesInputSchema, timeseriesSchema } from "./metrics.schema.js";
import { ITEMS_CHANGED_CHANNEL, METRICS_CHANGED_CHANNEL, SERIES_RETENTION } from "./service.js";

const DEFAULT_BUCKETS = { minute: 60, hour: 48 } as const;

export const metricsRouter = router({
  get: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/dashboard/api/metrics",
        tags: ["dashboard: metrics"],
        summary: "Traffic and challenge summary",
      },
      graphql: { name: "metrics", liveChannels: [METRICS_CHANGED_CHANNEL, ITEMS_CHANGED_CHANNEL] },
    })
    .input(z.void())
    .output(metricsSchema)
    .query(({ ctx }) => ctx.deps.services.metrics.snapshot()),

  timeseries: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/dashboard/api/metrics/timeseries",
        tags: ["dashboard: metrics"],
        summary: "Challenges served, passed and failed per minute or per hour (per-bucket counters)",
      },
      graphql: { name: "timeseries" },
    })
    .input(timeseriesInputSchema)
    .output(timeseriesSchema)
    .query(async ({ ctx, input }) => {
      const buckets = Math.min(
        input.buckets ?? DEFAULT_BUCKETS[input.resolution],
        SERIES_RETENTION[input.resolution],
      );
      const points = await ctx.deps.services.metrics.timeseries(input.resolution, buckets);
      return { resolution: input.resolution, points };
    }),

  tiers: dashboardProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/dashboard/api/metrics/tiers",
        tags: ["dashboard: metrics"],
        summary: "Challenges served per degradation-ladder tier",
      },
      graphql: { name: "tierDistribution" },
    })
    .input(z.void())
    .output(z.array(tierCountSchema))
    .query(({ ctx }) => ctx.deps.services.metrics.tiers()),
});
