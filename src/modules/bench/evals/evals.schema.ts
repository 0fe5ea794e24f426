// The wire contract of tool evals (bench-upstream-shapes.md "Tool eval").
import { z } from "zod";
import { evalJudgeSchema } from "../judge/judge.schema.js";
import { MAX_TOKENS_MAX, MODELS_MAX, providerParamsSchema } from "../runs/runs.schema.js";

export const TOOL_CHOICES = ["auto", "required", "none"] as const;

export const toolEvalRequestSchema = z.object({
  suite_id: z.string().min(1, "suite_id is required").max(100),
  models: z
    .array(z.string().min(1).max(300))
    .min(1, "models must be a non-empty list")
    .max(MODELS_MAX)
    .describe("Full (prefixed) model ids as GET /api/config lists them"),
  temperature: z.number().min(0).max(2).default(0),
  tool_choice: z.enum(TOOL_CHOICES).default("required"),
  max_tokens: z
    .number()
    .int()
    .min(1)
    .max(MAX_TOKENS_MAX)
    .default(1024)
    .describe("Per call (ours; upstream: 1024)"),
  system_prompt: z
    .string()
    .max(100_000)
    .nullish()
    .describe("A system message before each case's prompt (ours)"),
  provider_params: providerParamsSchema.nullish(),
  judge: evalJudgeSchema
    .nullish()
    .describe(
      "With `enabled: true`, a judge grades the results: live (each case as it finishes) or after the run",
    ),
});
export type ToolEvalRequest = z.infer<typeof toolEvalRequestSchema>;

export const EVAL_STATUSES = ["running", "completed", "cancelled", "failed"] as const;

export const modelSummarySchema = z.object({
  model_id: z.string(),
  model_name: z.string(),
  provider: z.string(),
  provider_key: z.string(),
  tool_accuracy_pct: z.number(),
  param_accuracy_pct: z.number(),
  overall_pct: z.number(),
  cases_run: z.number().int(),
  cases_passed: z.number().int(),
});

const runFields = {
  id: z.string(),
  suite_id: z.string().nullable().describe("null once the suite is deleted"),
  suite_name: z.string(),
  models: z.array(z.string()),
  summary: z.array(modelSummarySchema),
  temperature: z.number(),
  tool_choice: z.enum(TOOL_CHOICES),
  timestamp: z.string().describe('UTC, "YYYY-MM-DD HH:MM:SS" (upstream\'s format)'),
  status: z.enum(EVAL_STATUSES),
  finished_at: z.string().nullable(),
};

export const evalHistorySchema = z.object({ runs: z.array(z.object(runFields)) });
export const evalRunSchema = z.object({
  ...runFields,
  user_id: z.string(),
  error: z.string().nullable(),
  results: z
    .array(z.record(z.string(), z.unknown()))
    .describe("The `result` events as streamed, in order (raw requests and responses included)"),
});
export const evalIdSchema = z.object({ eval_id: z.string().min(1).max(100) });
export const evalHistoryQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

// ── param tuner ────────────────────────────────────────────────────────────────────────────────────────

const searchValue = z.union([z.number(), z.string().max(200), z.boolean()]);
const searchDimension = z.union([
  z.array(searchValue).min(1).max(100),
  z
    .object({ min: z.number(), max: z.number(), step: z.number().positive() })
    .refine((range) => range.max >= range.min, "max must be at least min"),
]);

export const paramTuneRequestSchema = z.object({
  suite_id: z.string().min(1, "suite_id is required").max(100),
  models: toolEvalRequestSchema.shape.models,
  search_space: z
    .record(z.string().min(1).max(64), searchDimension)
    .describe(
      "Parameter name → a list of values or {min, max, step}: temperature, top_p, top_k, penalties, …",
    ),
  tool_choice: z.enum(TOOL_CHOICES).default("required"),
  max_tokens: toolEvalRequestSchema.shape.max_tokens,
  max_combinations: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .optional()
    .describe("Above this, a random sample of the grid (default: your param_tuner.max_combinations, 50)"),
});
export type ParamTuneRequest = z.infer<typeof paramTuneRequestSchema>;

const tuneFields = {
  id: z.string(),
  suite_id: z.string().nullable(),
  suite_name: z.string(),
  models_json: z.string().describe("The models as JSON text (upstream's field)"),
  models: z.array(z.string()),
  total_combos: z.number().int(),
  completed_combos: z.number().int(),
  best_score: z.number().nullable(),
  status: z.enum(EVAL_STATUSES),
  duration_s: z.number().nullable(),
  timestamp: z.string(),
};
export const tuneHistorySchema = z.object({ runs: z.array(z.object(tuneFields)) });
export const tuneRunSchema = z.object({
  ...tuneFields,
  user_id: z.string(),
  strategy: z.enum(["grid", "random"]),
  search_space: z.record(z.string(), z.unknown()),
  best_config: z.record(z.string(), z.unknown()).nullable(),
  results: z.array(z.record(z.string(), z.unknown())).describe("The combo_result events, best first"),
  error: z.string().nullable(),
});
export const tuneIdSchema = z.object({ tune_id: z.string().min(1).max(100) });
