import { router, userProcedure } from "../../../trpc/init.js";
import { TAGS } from "../shared/procedures.js";
import {
  compareQuerySchema,
  compareSchema,
  leaderboardQuerySchema,
  leaderboardSchema,
  trendsQuerySchema,
  trendsSchema,
} from "./analytics.schema.js";

const tags = [...TAGS.analytics];

export const analyticsRouter = router({
  leaderboard: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/analytics/leaderboard",
        tags,
        summary: "Your models ranked by tokens/s over a period, with per-tier distributions",
      },
    })
    .input(leaderboardQuerySchema)
    .output(leaderboardSchema)
    .query(({ ctx, input }) => ctx.deps.services.benchAnalytics.leaderboard(ctx.principal.userId, input)),

  trends: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/analytics/trends",
        tags,
        summary: "Tokens/s or TTFT of the named models over time (one point per run)",
      },
    })
    .input(trendsQuerySchema)
    .output(trendsSchema)
    .query(({ ctx, input }) => ctx.deps.services.benchAnalytics.trends(ctx.principal.userId, input)),

  compare: userProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/analytics/compare",
        tags,
        summary: "2–4 runs side by side",
        errorResponses: { 404: "Run not found" },
      },
    })
    .input(compareQuerySchema)
    .output(compareSchema)
    .query(({ ctx, input }) => ctx.deps.services.benchAnalytics.compare(ctx.principal.userId, input)),
});
