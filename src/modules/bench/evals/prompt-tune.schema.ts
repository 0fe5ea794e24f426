// The wire contract of the prompt tuner (bench-upstream-shapes.md "Prompt tuner").
import { z } from "zod";
import { EVAL_STATUSES, TOOL_CHOICES, toolEvalRequestSchema } from "./evals.schema.js";

export const POPULATION_MAX = 20;
export const GENERATIONS_MAX = 10;

export const promptTuneRequestSchema = z.object({
  suite_id: z.string().min(1, "suite_id is required").max(100),
  target_models: toolEvalRequestSchema.shape.models.describe("The models each proposed prompt is scored on"),
  meta_model: z
    .string()
    .min(1, "meta_model is required")
    .max(300)
    .describe("The model that proposes prompts"),
  mode: z.enum(["quick", "evolutionary"]).optional().describe("Default: your prompt_tuner.mode (quick)"),
  base_prompt: z.string().max(20_000).nullish().describe("The prompt to improve on (default: a generic one)"),
  config: z
    .object({
      population_size: z.number().int().min(1).max(POPULATION_MAX).optional(),
      generations: z.number().int().min(1).max(GENERATIONS_MAX).optional(),
      selection_ratio: z.number().gt(0).max(1).default(0.4),
      temperature: z.number().min(0).max(2).default(0),
      tool_choice: z.enum(TOOL_CHOICES).default("required"),
      max_tokens: z.number().int().min(1).max(16_384).default(1024),
    })
    .prefault({})
    .describe(
      "population_size (your prompt_tuner setting, 5), generations (1 in quick mode; else your setting, 3), " +
        "selection_ratio (0.4), temperature and tool_choice of the scoring calls",
    ),
});
export type PromptTuneRequest = z.infer<typeof promptTuneRequestSchema>;

const intParam = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const promptTuneEstimateQuerySchema = z.object({
  suite_id: z.string().min(1, "suite_id is required").max(100),
  mode: z.enum(["quick", "evolutionary"]).default("quick"),
  population_size: intParam(1, POPULATION_MAX).default(5),
  generations: intParam(1, GENERATIONS_MAX).optional().describe("Default 3 (always 1 in quick mode)"),
  num_models: intParam(1, 50).default(1),
  target_models: z
    .string()
    .max(5000)
    .optional()
    .describe(
      "Comma-separated model ids (ours): their count replaces num_models and their prices give the cost",
    ),
  meta_model: z.string().max(300).optional().describe("The meta model (ours): its prices enter the cost"),
  base_prompt: z.string().max(20_000).optional(),
});

export const promptTuneEstimateSchema = z.object({
  total_prompt_generations: z.number().int().describe("Prompts proposed: population × generations"),
  total_eval_calls: z.number().int(),
  total_meta_calls: z.number().int(),
  total_api_calls: z.number().int(),
  estimated_input_tokens: z.number().int(),
  estimated_output_tokens: z.number().int(),
  estimated_cost: z
    .number()
    .nullable()
    .describe("USD; null when a model's prices are unknown or none was named"),
  estimated_duration_s: z.number(),
  max_api_calls: z.number().int().describe("Your prompt_tuner.max_api_calls: a tune above it is refused"),
  warning: z.string().nullable(),
});

const tuneFields = {
  id: z.string(),
  suite_id: z.string().nullable(),
  suite_name: z.string(),
  target_models_json: z.string().describe("The target models as JSON text (upstream's field)"),
  target_models: z.array(z.string()),
  meta_model: z.string(),
  mode: z.enum(["quick", "evolutionary"]),
  best_score: z.number().nullable(),
  status: z.enum(EVAL_STATUSES),
  total_prompts: z.number().int(),
  completed_prompts: z.number().int(),
  duration_s: z.number().nullable(),
  timestamp: z.string(),
};

const scoredPromptSchema = z.object({
  prompt_index: z.number().int(),
  prompt_text: z.string(),
  style: z.string(),
  parent_prompt: z.string().nullable(),
  scores: z.array(
    z.object({
      model_id: z.string(),
      overall_score: z.number(),
      tool_accuracy: z.number(),
      param_accuracy: z.number(),
    }),
  ),
  avg_score: z.number().nullable(),
});

export const promptTuneHistorySchema = z.object({ runs: z.array(z.object(tuneFields)) });
export const promptTuneRunSchema = z.object({
  ...tuneFields,
  user_id: z.string(),
  base_prompt: z.string(),
  best_prompt: z.string().nullable(),
  config: z.record(z.string(), z.unknown()),
  generations: z.array(
    z.object({
      generation: z.number().int(),
      prompts: z.array(scoredPromptSchema),
      best_prompt_index: z.number().int().nullable(),
      survivors: z.array(z.number().int()),
    }),
  ),
  error: z.string().nullable(),
});
export const promptTuneIdSchema = z.object({ tune_id: z.string().min(1).max(100) });
