// The wire contract of leaderboard, trends, compare and exports (bench-upstream-shapes.md "Analytics", "Export").
import { z } from "zod";

export const PERIODS = ["7d", "30d", "90d", "all"] as const;
export type Period = (typeof PERIODS)[number];

export const periodSchema = z.enum(PERIODS).default("all").describe("7d, 30d, 90d or all (default)");

export const leaderboardQuerySchema = z.object({
  type: z.enum(["benchmark", "tool_eval"]).default("benchmark"),
  period: periodSchema,
});

export const leaderboardModelSchema = z.object({
  model: z.string(),
  provider: z.string(),
  model_id: z.string(),
  provider_key: z.string(),
  avg_tps: z.number(),
  avg_ttft_ms: z.number(),
  avg_cost: z.number(),
  total_runs: z.number().int(),
  last_run: z.string().nullable(),
});

export const toolEvalLeaderboardModelSchema = z.object({
  model: z.string(),
  provider: z.string(),
  model_id: z.string(),
  provider_key: z.string(),
  avg_tool_pct: z.number(),
  avg_param_pct: z.number(),
  avg_overall_pct: z.number(),
  total_evals: z.number().int(),
  last_eval: z.string().nullable(),
});

export const aggregateSchema = z.object({
  model: z.string(),
  provider: z.string(),
  model_id: z.string(),
  context_tokens: z.number().int(),
  runs: z.number().int(),
  failures: z.number().int(),
  avg_tps: z.number(),
  std_dev_tps: z.number(),
  min_tps: z.number(),
  max_tps: z.number(),
  p50_tps: z.number(),
  p95_tps: z.number(),
  avg_ttft_ms: z.number(),
  std_dev_ttft: z.number(),
  min_ttft_ms: z.number(),
  max_ttft_ms: z.number(),
  p50_ttft: z.number(),
  p95_ttft: z.number(),
  p99_ttft: z.number(),
  cv_tps: z.number(),
  cv_ttft: z.number(),
  confidence: z.enum(["high", "medium", "low"]),
  outlier_count: z.number().int(),
  avg_output_speed_tps: z.number(),
  avg_itl_ms: z.number(),
  avg_input_tps: z.number(),
  avg_output_tokens: z.number(),
  avg_cost: z.number(),
  total_cost: z.number(),
});

export const leaderboardSchema = z.object({
  type: z.enum(["benchmark", "tool_eval"]),
  period: z.enum(PERIODS),
  models: z
    .array(z.union([leaderboardModelSchema, toolEvalLeaderboardModelSchema]))
    .describe(
      "benchmark: fastest first, over successful results that produced tokens; tool_eval: best overall % first, " +
        "the per-model summaries of completed evals averaged",
    ),
  aggregates: z
    .array(aggregateSchema)
    .describe(
      "Per (model, provider, context tier): distribution of tokens/s and TTFT, CV and confidence, IQR outliers",
    ),
});

export const trendsQuerySchema = z.object({
  models: z.string().min(1).max(4000).describe("Comma-separated model display names (or full model ids)"),
  metric: z.enum(["tps", "ttft"]).default("tps"),
  period: periodSchema,
});

export const trendsSchema = z.object({
  metric: z.enum(["tps", "ttft"]),
  period: z.enum(PERIODS),
  series: z.array(
    z.object({
      model: z.string(),
      model_id: z.string(),
      provider: z.string(),
      points: z.array(z.object({ timestamp: z.string(), value: z.number(), run_id: z.string() })),
    }),
  ),
});

export const compareQuerySchema = z.object({
  runs: z.string().min(1).max(1000).describe("2–4 comma-separated run ids"),
});

export const compareSchema = z.object({
  runs: z.array(
    z.object({
      id: z.string(),
      timestamp: z.string(),
      prompt: z.string(),
      models: z.array(
        z.object({
          model: z.string(),
          provider: z.string(),
          model_id: z.string(),
          context_tokens: z.number().int(),
          avg_tps: z.number(),
          avg_tokens_per_second: z.number(),
          avg_ttft_ms: z.number(),
          avg_cost: z.number(),
          runs: z.number().int(),
          failures: z.number().int(),
        }),
      ),
    }),
  ),
});
