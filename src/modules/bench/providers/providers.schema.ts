// The wire contract of bench configuration: providers, models, prompt templates, keys, env keys, discovery,
// the parameter registry (/api/config*, /api/keys, /api/env, /api/models/discover, /api/provider-params/*,
// /api/health/providers), in LLM Benchmark Studio's shapes (bench-upstream-shapes.md).
import { z } from "zod";

export const PROVIDER_KINDS = ["openai", "anthropic", "gemini", "openai_compatible"] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** Request timeout bounds for provider calls (upstream users ask for 30–600 s). */
export const TIMEOUT_MIN_S = 30;
export const TIMEOUT_MAX_S = 600;
export const DEFAULT_TIMEOUT_S = 120;

const identifier = (what: string) =>
  z
    .string({ error: `${what} required` })
    .trim()
    .min(1, `${what} required`)
    .max(64, `${what} must be at most 64 characters`)
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.:-]*$/, `${what}: use letters, digits, '_', '.', ':' or '-'`);

export const providerKeySchema = identifier("provider_key");
const modelIdSchema = z
  .string({ error: "model id required" })
  .trim()
  .min(1, "model id required")
  .max(256)
  // eslint-disable-next-line no-control-regex -- no control characters or whitespace in a model id
  .regex(/^[^\s\u0000-\u001f]+$/, "model id must not contain whitespace");
const apiBaseSchema = z
  .string()
  .trim()
  .max(2048)
  .refine((value) => value === "" || /^https?:\/\/[^\s]+$/i.test(value), "api_base must be an http(s) URL");
const envNameSchema = z
  .string()
  .trim()
  .max(128)
  .refine(
    (value) => value === "" || /^[A-Za-z_][A-Za-z0-9_]*$/.test(value),
    "api_key_env must be an environment variable name",
  );
const timeoutSchema = z
  .int()
  .min(TIMEOUT_MIN_S, `timeout must be between ${TIMEOUT_MIN_S} and ${TIMEOUT_MAX_S} seconds`)
  .max(TIMEOUT_MAX_S, `timeout must be between ${TIMEOUT_MIN_S} and ${TIMEOUT_MAX_S} seconds`);
const priceSchema = z.number().min(0).max(1_000_000);

export const createProviderSchema = z.object({
  provider_key: providerKeySchema,
  display_name: z.string().trim().max(128).optional(),
  api_base: apiBaseSchema.optional(),
  api_key_env: envNameSchema.optional(),
  api_key: z.string().max(4096).optional().describe("Stored as the user's key for this provider (encrypted)"),
  model_id_prefix: z
    .string()
    .trim()
    .max(64)
    .regex(/^[A-Za-z0-9_.-]*$/)
    .optional(),
  kind: z
    .enum(PROVIDER_KINDS)
    .optional()
    .describe("Which API it speaks (default: from provider_key and api_base)"),
  timeout_s: timeoutSchema.nullable().optional().describe("Request timeout of its calls, 30–600 s"),
});

export const updateProviderSchema = createProviderSchema;

export const providerRefSchema = z.object({ provider_key: providerKeySchema });

const modelFields = {
  display_name: z.string().trim().max(256).optional(),
  context_window: z.int().min(1).max(100_000_000).optional(),
  max_output_tokens: z.int().min(1).max(10_000_000).nullable().optional(),
  skip_params: z.array(z.string().max(64)).max(50).optional(),
  input_cost_per_mtok: priceSchema.nullable().optional().describe("USD per million input tokens"),
  output_cost_per_mtok: priceSchema.nullable().optional().describe("USD per million output tokens"),
  custom_fields: z
    .record(z.string().max(64), z.unknown())
    .optional()
    .describe("Further fields of the model entry (a null value removes one)"),
};

export const createModelSchema = z.object({
  provider_key: providerKeySchema,
  id: modelIdSchema,
  ...modelFields,
});

export const updateModelSchema = z.object({
  model_id: modelIdSchema,
  provider_key: providerKeySchema.optional(),
  new_model_id: modelIdSchema.optional(),
  ...modelFields,
});

export const modelRefSchema = z.object({ provider_key: providerKeySchema, model_id: modelIdSchema });

export const modelSchema = z.looseObject({
  model_id: z.string(),
  display_name: z.string(),
  context_window: z.number(),
  max_output_tokens: z.number().nullable(),
  skip_params: z.array(z.string()),
  input_cost_per_mtok: z.number().nullable(),
  output_cost_per_mtok: z.number().nullable(),
});

export const providerSchema = z.object({
  provider_key: z.string(),
  display_name: z.string(),
  kind: z.enum(PROVIDER_KINDS),
  api_base: z.string(),
  api_key_env: z.string(),
  api_key: z.enum(["***", ""]).describe('"***" when a key is set for the user (never the key itself)'),
  model_id_prefix: z.string(),
  timeout_s: z.number().nullable(),
  models: z.array(modelSchema),
});

export const defaultsSchema = z.object({
  max_tokens: z.int().min(1).max(16384),
  temperature: z.number().min(0).max(2),
  context_tiers: z.array(z.int().min(0).max(10_000_000)).min(1).max(20),
  prompt: z.string().max(100_000),
  request_timeout_s: timeoutSchema,
});
export type BenchDefaults = z.infer<typeof defaultsSchema>;

export const updateDefaultsSchema = defaultsSchema.partial();

export const configSchema = z.object({
  defaults: defaultsSchema,
  providers: z.record(z.string(), providerSchema).describe("Keyed by display name, as upstream"),
});

export const okSchema = z.object({ status: z.literal("ok") });
export const providerAddedSchema = z.object({ status: z.literal("ok"), provider_key: z.string() });
export const modelSavedSchema = z.object({ status: z.literal("ok"), model_id: z.string() });

export const promptSchema = z.object({ category: z.string(), label: z.string(), prompt: z.string() });
export const promptsSchema = z.record(z.string(), promptSchema);
export const createPromptSchema = z.object({
  key: identifier("key"),
  label: z.string().trim().max(256).optional(),
  category: z.string().trim().min(1).max(64).optional(),
  prompt: z.string({ error: "prompt required" }).min(1, "prompt required").max(100_000),
});
export const promptRefSchema = z.object({ key: identifier("key") });
export const promptSavedSchema = z.object({ status: z.literal("ok"), key: z.string() });

export const discoverQuerySchema = z.object({ provider_key: providerKeySchema });
export const discoveredSchema = z.object({
  models: z.array(z.object({ id: z.string(), display_name: z.string() })),
});

export const keysListSchema = z.object({
  keys: z.array(
    z.object({
      provider_key: z.string(),
      display_name: z.string(),
      key_env_name: z.string(),
      has_global_key: z.boolean(),
      has_user_key: z.boolean(),
      user_key_updated_at: z.string().nullable(),
    }),
  ),
});
export const setKeySchema = z.object({
  provider_key: providerKeySchema,
  value: z.string({ error: "value required" }).trim().min(1, "value required").max(4096),
});
export const keySetSchema = z.object({
  status: z.literal("ok"),
  key_id: z.string(),
  provider_key: z.string(),
});

const envName = z
  .string({ error: "name required" })
  .trim()
  .min(1, "name required")
  .max(128)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "name must be an environment variable name");
export const envListSchema = z.object({
  keys: z.array(z.object({ name: z.string(), masked_value: z.string(), is_set: z.boolean() })),
});
export const setEnvSchema = z.object({
  name: envName,
  value: z.string({ error: "value required" }).min(1, "value required").max(4096),
});
export const envRefSchema = z.object({ name: envName });
export const envSetSchema = z.object({ status: z.literal("ok"), name: z.string(), masked_value: z.string() });

export const providerHealthSchema = z.object({
  providers: z.array(
    z.object({
      name: z.string(),
      provider_key: z.string(),
      status: z.enum(["ok", "error"]),
      latency_ms: z.number(),
      error: z.string().optional(),
    }),
  ),
});

export const registrySchema = z.object({
  providers: z.record(z.string(), z.record(z.string(), z.unknown())),
});
export const validateParamsSchema = z.object({
  provider_key: z.string().max(64).optional(),
  model_id: z.string({ error: "model_id required" }).min(1, "model_id required").max(256),
  params: z.record(z.string().max(64), z.unknown()).default({}),
});
export const validationResultSchema = z.object({
  valid: z.boolean(),
  adjustments: z.array(
    z.object({
      param: z.string(),
      original: z.unknown(),
      adjusted: z.unknown(),
      action: z.enum(["clamp", "drop", "warn", "rename", "passthrough"]),
      reason: z.string(),
    }),
  ),
  warnings: z.array(z.string()),
  resolved_params: z.record(z.string(), z.unknown()),
});
