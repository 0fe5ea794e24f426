import { z } from "zod";
import { timestampSchema } from "../shared.schema.js";

export const metricsSchema = z
  .object({
    total_challenges: z.int().describe("Challenges served since the counters started"),
    total_items: z.int().describe("Items in all datasets (exact)"),
    solve_rate_pct: z
      .number()
      .describe("Passed submissions as a percentage of all submissions (0 when none)"),
    recent_sessions: z.int().describe("Challenge sessions started in the last 15 minutes"),
    challenges_passed: z.int().describe("Served challenges answered correctly"),
    challenges_failed: z.int().describe("Served challenges answered wrongly or too late"),
    invalid_submits: z
      .int()
      .describe(
        "Submits naming a challenge that was not served to that client (unknown, someone else's, already answered); not counted as failed",
      ),
  })
  .meta({ id: "Metrics" });

export type Metrics = z.infer<typeof metricsSchema>;

export const seriesResolutionSchema = z.enum(["minute", "hour"]).meta({ id: "SeriesResolution" });

export const timeseriesInputSchema = z
  .object({
    resolution: seriesResolutionSchema.default("minute").describe("Bucket size: minute or hour"),
    buckets: z
      .int()
      .min(1)
      .max(1440)
      .optional()
      .describe(
        "How many buckets, ending with the current one (default 60 minutes or 48 hours; at most 1440 minutes or 720 hours)",
      ),
  })
  .strict()
  .meta({ id: "TimeseriesQuery" });

export const seriesPointSchema = z
  .object({
    start: timestampSchema.describe("Start of the bucket, ISO 8601 (UTC)"),
    served: z.int().describe("Challenges served in the bucket"),
    passed: z.int().describe("Submissions that passed"),
    failed: z.int().describe("Submissions that failed"),
  })
  .meta({ id: "SeriesPoint" });

export const timeseriesSchema = z
  .object({
    resolution: seriesResolutionSchema,
    points: z.array(seriesPointSchema).describe("Oldest first; the last bucket is the current, partial one"),
  })
  .meta({ id: "Timeseries" });

export const tierCountSchema = z
  .object({
    tier: z.int().describe("Ladder tier: 1 GT + unlabeled item, 2 GT + item in re-validation, 3 GT only"),
    served: z.int().describe("Challenges served at this tier since the counters started"),
  })
  .meta({ id: "TierCount" });
