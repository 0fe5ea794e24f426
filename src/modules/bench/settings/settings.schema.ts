// The wire contract of bench settings: phase10 (judge and tuners), onboarding, settings backup and restore.
import { z } from "zod";
import {
  defaultsSchema,
  PROVIDER_KINDS,
  TIMEOUT_MAX_S,
  TIMEOUT_MIN_S,
} from "../providers/providers.schema.js";

export const phase10Schema = z.object({
  judge: z.object({
    enabled: z.boolean(),
    model_id: z.string().max(256),
    mode: z.enum(["post_eval", "live_inline"]),
    temperature: z.number().min(0).max(2),
    max_tokens: z.int().min(1).max(128_000),
  }),
  param_tuner: z.object({
    max_combinations: z.int().min(1).max(10_000),
    temp_min: z.number().min(0).max(2),
    temp_max: z.number().min(0).max(2),
    temp_step: z.number().gt(0).max(2),
    top_p_min: z.number().min(0).max(1),
    top_p_max: z.number().min(0).max(1),
    top_p_step: z.number().gt(0).max(1),
  }),
  prompt_tuner: z.object({
    mode: z.enum(["quick", "evolutionary"]),
    generations: z.int().min(1).max(50),
    population_size: z.int().min(1).max(100),
    max_api_calls: z.int().min(1).max(100_000),
  }),
});
export type Phase10 = z.infer<typeof phase10Schema>;

export const updatePhase10Schema = z.object({
  judge: phase10Schema.shape.judge.partial().optional(),
  param_tuner: phase10Schema.shape.param_tuner.partial().optional(),
  prompt_tuner: phase10Schema.shape.prompt_tuner.partial().optional(),
});

export const okTrueSchema = z.object({ ok: z.literal(true) });
export const onboardingSchema = z.object({ completed: z.boolean() });
export const statusOkSchema = z.object({ status: z.literal("ok") });

const exportedModelSchema = z.object({
  model_id: z.string().min(1).max(256),
  display_name: z.string().max(256).optional(),
  context_window: z.int().min(1).max(100_000_000).optional(),
  max_output_tokens: z.int().min(1).max(10_000_000).nullable().optional(),
  skip_params: z.array(z.string().max(64)).max(50).optional(),
  input_cost_per_mtok: z.number().min(0).max(1_000_000).nullable().optional(),
  output_cost_per_mtok: z.number().min(0).max(1_000_000).nullable().optional(),
  custom_fields: z.record(z.string().max(64), z.unknown()).optional(),
});

/** A provider in a settings backup (never a key: `api_key` and the like are dropped on import). */
const exportedProviderSchema = z.object({
  display_name: z.string().max(128).optional(),
  kind: z.enum(PROVIDER_KINDS).optional(),
  api_base: z
    .string()
    .max(2048)
    .refine((v) => v === "" || /^https?:\/\/\S+$/i.test(v), "api_base must be an http(s) URL")
    .optional(),
  api_key_env: z
    .string()
    .max(128)
    .refine(
      (v) => v === "" || /^[A-Za-z_][A-Za-z0-9_]*$/.test(v),
      "api_key_env must be an environment variable name",
    )
    .optional(),
  model_id_prefix: z
    .string()
    .max(64)
    .regex(/^[A-Za-z0-9_.-]*$/)
    .optional(),
  timeout_s: z.int().min(TIMEOUT_MIN_S).max(TIMEOUT_MAX_S).nullable().optional(),
  models: z.array(exportedModelSchema).max(1000).default([]),
});

const providerKey = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/, "provider_key: use letters, digits, '_', '.', ':' or '-'");

export const settingsBackupSchema = z.object({
  export_version: z.literal(1, "export_version must be 1"),
  exported_at: z.string().max(64).optional(),
  defaults: defaultsSchema.partial().optional(),
  providers: z
    .record(providerKey, exportedProviderSchema)
    .refine((p) => Object.keys(p).length <= 200, "At most 200 providers"),
  prompts: z
    .record(
      z
        .string()
        .min(1)
        .max(64)
        .regex(/^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/),
      z.object({
        category: z.string().min(1).max(64).optional(),
        label: z.string().max(256).optional(),
        prompt: z.string().min(1).max(100_000),
      }),
    )
    .optional(),
  phase10: updatePhase10Schema.optional(),
  api_keys: z
    .array(z.object({ provider_key: z.string().max(64), key_name: z.string().max(128) }))
    .max(1000)
    .optional(),
});

export const settingsExportSchema = settingsBackupSchema.extend({
  exported_at: z.string(),
  defaults: defaultsSchema,
  phase10: phase10Schema,
  api_keys: z.array(z.object({ provider_key: z.string(), key_name: z.string() })),
});

export const importResultSchema = z.object({
  status: z.literal("ok"),
  providers_imported: z.number(),
  providers_updated: z.number(),
  providers_added: z.number(),
});
