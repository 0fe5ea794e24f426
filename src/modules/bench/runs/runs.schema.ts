// The wire contract of benchmarks and history (bench-upstream-shapes.md: snake_case, upstream's field names).
import { z } from "zod";

/** Upstream's input bounds (bench-notes.md); a value outside them is a 422 naming the field. */
export const RUNS_MAX = 20;
export const MAX_TOKENS_MAX = 16_384;
/** Context tiers: at most this many per benchmark, each at most this many tokens. */
export const TIERS_MAX = 10;
export const TIER_TOKENS_MAX = 2_000_000;
export const MODELS_MAX = 50;

export const providerParamsSchema = z
  .object({
    temperature: z.number().min(0).max(2).optional(),
    top_p: z.number().min(0).max(1).optional(),
    top_k: z.number().int().min(0).optional(),
    frequency_penalty: z.number().min(-2).max(2).optional(),
    presence_penalty: z.number().min(-2).max(2).optional(),
    seed: z.number().int().optional(),
    stop: z.union([z.string(), z.array(z.string()).max(16)]).optional(),
    passthrough: z.record(z.string(), z.unknown()).optional(),
  })
  .catchall(z.unknown())
  .describe(
    "Tier-2 parameters (top_p, top_k, penalties, seed, stop, others passed as given) and a `passthrough` object merged into the request body",
  );

export const benchmarkRequestSchema = z.object({
  models: z
    .array(z.string().min(1).max(300))
    .min(1, "models must name at least one model")
    .max(MODELS_MAX)
    .describe("Full (prefixed) model ids as GET /api/config lists them"),
  runs: z
    .number()
    .int()
    .min(1, "runs must be between 1 and 20")
    .max(RUNS_MAX, "runs must be between 1 and 20")
    .default(3),
  max_tokens: z
    .number()
    .int()
    .min(1, "max_tokens must be between 1 and 16384")
    .max(MAX_TOKENS_MAX, "max_tokens must be between 1 and 16384")
    .optional()
    .describe("Default: the user's defaults (512)"),
  temperature: z
    .number()
    .min(0, "temperature must be between 0 and 2")
    .max(2, "temperature must be between 0 and 2")
    .optional()
    .describe("Default: the user's defaults (0.7)"),
  prompt: z.string().max(100_000).optional().describe("Empty or absent: the user's default prompt"),
  context_tiers: z
    .array(z.number().int().min(0).max(TIER_TOKENS_MAX))
    .min(1)
    .max(TIERS_MAX)
    .optional()
    .describe("Context sizes in cl100k_base tokens (0: no padding). Default: the user's defaults ([0])"),
  warmup: z.boolean().default(true),
  provider_params: providerParamsSchema.nullish(),
});
export type BenchmarkRequest = z.infer<typeof benchmarkRequestSchema>;

export const resultEventSchema = z.object({
  type: z.literal("result"),
  provider: z.string(),
  provider_key: z.string(),
  model: z.string(),
  model_id: z.string(),
  run: z.number().int(),
  runs: z.number().int(),
  context_tokens: z.number().int(),
  ttft_ms: z.number(),
  total_time_s: z.number(),
  output_tokens: z.number().int(),
  input_tokens: z.number().int(),
  reasoning_tokens: z.number().int(),
  tokens_per_second: z.number(),
  output_speed_tps: z.number(),
  itl_ms: z.number(),
  input_tokens_per_second: z.number(),
  cost: z.number(),
  tokens_source: z.enum(["usage", "counted"]),
  success: z.boolean(),
  error: z.string().nullable(),
});

export const RUN_STATUSES = ["running", "completed", "empty", "cancelled", "failed"] as const;

export const historyRunSchema = z.object({
  id: z.string(),
  timestamp: z.string().describe('UTC, "YYYY-MM-DD HH:MM:SS" (upstream\'s format)'),
  prompt: z.string(),
  context_tiers: z.array(z.number().int()),
  results: z.array(resultEventSchema),
  metadata: z
    .string()
    .nullable()
    .describe("JSON text or null; schedules set {source, schedule_id, schedule_name}"),
  status: z.enum(RUN_STATUSES),
  models: z.array(z.string()),
  runs: z.number().int(),
  max_tokens: z.number().int(),
  temperature: z.number(),
  finished_at: z.string().nullable(),
});

export const historyListSchema = z.object({ runs: z.array(historyRunSchema) });

export const historyQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const runIdSchema = z.object({ run_id: z.string().min(1).max(100) });

export const rateLimitSchema = z.object({
  limit: z.number().int(),
  remaining: z.number().int(),
  window: z.literal("1 hour"),
});

export const cancelSchema = z.object({ status: z.literal("ok"), message: z.string() });
export const okSchema = z.object({ status: z.literal("ok") });
