// The provider parameter registry (GET /api/provider-params/registry) and validation (POST .../validate):
// tier 1 (temperature, max_tokens, stop) for every provider, tier 2 (top_p, top_k, penalties, seed,
// reasoning_effort) where supported, tier 3 passed through as given. Ranges and conflicts as upstream's
// provider_params.py documents them for these providers.

type Spec = Record<string, unknown>;
interface ProviderParams {
  display_name: string;
  tier1: Record<string, Spec>;
  tier2: Record<string, Spec>;
  tier3_examples?: Record<string, Spec>;
  conflicts?: { params: string[]; condition: string; resolution: string; message: string }[];
  model_overrides?: Record<string, Record<string, Spec>>;
  note?: string;
}

const float = (min: number, max: number, def: number | null, step = 0.05): Spec => ({
  min,
  max,
  default: def,
  step,
  type: "float",
});
const temperature = (max: number, def: number): Spec => ({ ...float(0, max, def, 0.1) });
const maxTokens = (max: number, required = false): Spec => ({
  min: 1,
  max,
  default: 4096,
  type: "int",
  required,
});
const penalties = (supported: boolean | string = true): Record<string, Spec> => ({
  frequency_penalty: { ...float(-2, 2, 0, 0.1), supported },
  presence_penalty: { ...float(-2, 2, 0, 0.1), supported },
});
const unsupported = (reason?: string): Spec => ({ supported: false, ...(reason && { reason }) });

const local = (display: string, extra: Record<string, Spec>): ProviderParams => ({
  display_name: display,
  tier1: { temperature: temperature(2, 0.8), max_tokens: maxTokens(32768) },
  tier2: {
    top_p: { ...float(0, 1, 0.9), supported: true },
    top_k: { min: 1, max: 500, default: 40, type: "int", supported: true },
    ...penalties(),
    seed: { type: "int", supported: true },
    reasoning_effort: unsupported(),
  },
  tier3_examples: extra,
});

export const PROVIDER_PARAMS: Record<string, ProviderParams> = {
  openai: {
    display_name: "OpenAI",
    tier1: {
      temperature: temperature(2, 1),
      max_tokens: maxTokens(128000),
      stop: { type: "string_array", max_items: 4 },
    },
    tier2: {
      top_p: { ...float(0, 1, 1), supported: true },
      top_k: unsupported("OpenAI does not support top_k"),
      ...penalties(),
      seed: { type: "int", supported: true, deprecated: true, note: "Seed is deprecated for OpenAI" },
      reasoning_effort: {
        type: "enum",
        values: ["none", "low", "medium", "high"],
        supported: true,
        note: "Only for reasoning models (o-series, GPT-5)",
      },
    },
    tier3_examples: {
      service_tier: { type: "string", values: ["auto", "default", "flex", "priority"] },
      prediction: { type: "object" },
    },
    conflicts: [
      {
        params: ["temperature"],
        condition: "model contains 'gpt-5'",
        resolution: "Lock to 1.0",
        message: "GPT-5 locks temperature to 1.0",
      },
      {
        params: ["max_tokens"],
        condition: "model contains 'o1' or 'o3' or 'o4'",
        resolution: "Use max_completion_tokens instead",
        message: "O-series uses max_completion_tokens",
      },
    ],
    model_overrides: {
      "gpt-5*": { temperature: { locked: true, value: 1 } },
      "o1*|o3*|o4*": { temperature: { locked: true, value: 1 }, stop: { supported: false } },
    },
  },
  anthropic: {
    display_name: "Anthropic",
    tier1: {
      temperature: temperature(1, 1),
      max_tokens: { ...maxTokens(128000, true), note: "Anthropic REQUIRES max_tokens" },
    },
    tier2: {
      top_p: {
        ...float(0, 1, null),
        supported: true,
        note: "Cannot be used with temperature on newer models",
      },
      top_k: { min: 1, max: 500, default: null, type: "int", supported: true },
      frequency_penalty: unsupported("Anthropic does not support penalty parameters"),
      presence_penalty: unsupported("Anthropic does not support penalty parameters"),
      seed: unsupported("Anthropic does not support seed"),
      reasoning_effort: {
        type: "enum",
        values: ["none", "low", "medium", "high"],
        supported: true,
        note: "Maps to thinking.budget_tokens",
      },
    },
    tier3_examples: { cache_control: { type: "object" } },
    conflicts: [
      {
        params: ["temperature", "top_p"],
        condition: "both set on newer models",
        resolution: "Drop top_p, keep temperature",
        message: "Anthropic newer models cannot use both temperature and top_p",
      },
    ],
  },
  gemini: {
    display_name: "Google Gemini",
    tier1: { temperature: temperature(2, 1), max_tokens: maxTokens(65536) },
    tier2: {
      top_p: { ...float(0, 1, null), supported: true },
      top_k: { min: 1, max: 100, default: null, type: "int", supported: true },
      ...penalties(),
      seed: { type: "int", supported: true },
      reasoning_effort: {
        type: "enum",
        values: ["none", "low", "medium", "high"],
        supported: true,
        note: "Maps to thinkingConfig",
      },
    },
    tier3_examples: { safety_settings: { type: "array" } },
    conflicts: [
      {
        params: ["temperature"],
        condition: "model contains 'gemini-3' and value < 1.0",
        resolution: "Clamp to 1.0",
        message: "Gemini 3 models degrade below temperature 1.0",
      },
    ],
  },
  ollama: local("Ollama / Local", {
    num_ctx: { type: "int", note: "Context window size override" },
    min_p: { type: "float", min: 0, max: 1 },
    keep_alive: { type: "string" },
  }),
  lm_studio: local("LM Studio", {
    min_p: { type: "float", min: 0, max: 1 },
    repetition_penalty: { type: "float", min: 0, max: 3 },
  }),
  vllm: local("vLLM (Self-Hosted)", {
    min_p: { type: "float", min: 0, max: 1 },
    guided_json: { type: "object" },
    repetition_penalty: { type: "float", min: 0, max: 3 },
  }),
  _unknown: {
    display_name: "Unknown (OpenAI-compatible fallback)",
    note: "Used when the provider is not recognized. Assumes an OpenAI-compatible API.",
    tier1: { temperature: temperature(2, 1), max_tokens: maxTokens(128000) },
    tier2: {
      top_p: { ...float(0, 1, 1), supported: true },
      top_k: { supported: "unknown" },
      ...penalties("unknown"),
      seed: { type: "int", supported: "unknown" },
      reasoning_effort: { supported: "unknown" },
    },
  },
};

const PREFIXES: [string, string][] = [
  ["anthropic/", "anthropic"],
  ["gemini/", "gemini"],
  ["vertex_ai/", "gemini"],
  ["ollama/", "ollama"],
  ["ollama_chat/", "ollama"],
  ["lm_studio/", "lm_studio"],
  ["vllm/", "vllm"],
  ["openai/", "openai"],
];

/** Which registry entry applies: the provider key (or kind) when it names one, else the model id's prefix, else `_unknown`. */
export function registryKeyFor(modelId: string, providerKey?: string, kind?: string): string {
  if (providerKey && providerKey in PROVIDER_PARAMS && providerKey !== "_unknown") return providerKey;
  if (kind && kind in PROVIDER_PARAMS) return kind;
  const lower = modelId.toLowerCase();
  for (const [prefix, key] of PREFIXES) if (lower.startsWith(prefix)) return key;
  return "_unknown";
}

export interface Adjustment {
  param: string;
  original: unknown;
  adjusted: unknown;
  action: "clamp" | "drop" | "warn" | "rename" | "passthrough";
  reason: string;
}

export interface ParamValidation {
  valid: boolean;
  adjustments: Adjustment[];
  warnings: string[];
  resolved_params: Record<string, unknown>;
}

const bareModel = (modelId: string) => modelId.toLowerCase().replace(/^[a-z_]+\//, "");

/**
 * Validates benchmark parameters for a provider: numbers clamped to its ranges (temperature, top_p,
 * max_tokens, the penalties...), model locks applied (GPT-5 and o-series temperature 1.0), hard conflicts
 * resolved (Anthropic: temperature and top_p), unsupported tier-2 parameters warned about but passed through,
 * and `passthrough` (tier 3) merged in as given. `valid` is false when something was clamped or dropped.
 */
export function validateParams(
  registryKey: string,
  modelId: string,
  params: Record<string, unknown>,
): ParamValidation {
  const registry = PROVIDER_PARAMS[registryKey] ?? PROVIDER_PARAMS._unknown!;
  const adjustments: Adjustment[] = [];
  const warnings: string[] = [];
  const { passthrough, ...direct } = params;
  const resolved: Record<string, unknown> = { ...direct };
  const model = bareModel(modelId);

  const clamp = (param: string, spec: Spec | undefined) => {
    const value = resolved[param];
    if (value === undefined || value === null || !spec) return;
    if (typeof value !== "number" || !Number.isFinite(value)) {
      if (spec.type === "float" || spec.type === "int") {
        delete resolved[param];
        adjustments.push({
          param,
          original: value,
          adjusted: null,
          action: "drop",
          reason: `${param} must be a number`,
        });
      }
      return;
    }
    const min = typeof spec.min === "number" ? spec.min : -Infinity;
    const max = typeof spec.max === "number" ? spec.max : Infinity;
    let adjusted = Math.min(max, Math.max(min, value));
    if (spec.type === "int") adjusted = Math.round(adjusted);
    if (adjusted !== value) {
      resolved[param] = adjusted;
      adjustments.push({
        param,
        original: value,
        adjusted,
        action: "clamp",
        reason: `${registry.display_name} ${param} range is ${min}-${max}`,
      });
    }
  };

  // Temperature: model locks first, then the range.
  const temperatureValue = resolved.temperature;
  if (typeof temperatureValue === "number") {
    const locked =
      registryKey === "openai" && (model.includes("gpt-5") || /^o[134]/.test(model))
        ? "GPT-5 and o-series models lock temperature to 1.0"
        : registryKey === "gemini" && model.includes("gemini-3") && temperatureValue < 1
          ? "Gemini 3 models degrade below temperature 1.0"
          : null;
    if (locked && temperatureValue !== 1) {
      resolved.temperature = 1;
      adjustments.push({
        param: "temperature",
        original: temperatureValue,
        adjusted: 1,
        action: "clamp",
        reason: locked,
      });
    } else clamp("temperature", registry.tier1.temperature);
  } else clamp("temperature", registry.tier1.temperature);
  clamp("max_tokens", registry.tier1.max_tokens);

  for (const [param, spec] of Object.entries(registry.tier2)) {
    if (resolved[param] === undefined || resolved[param] === null) continue;
    if (spec.supported === false) {
      adjustments.push({
        param,
        original: resolved[param],
        adjusted: resolved[param],
        action: "warn",
        reason:
          typeof spec.reason === "string"
            ? spec.reason
            : `${param} may not be supported by ${registry.display_name}: passing through`,
      });
      continue;
    }
    if (spec.supported === "unknown") continue;
    if (spec.type === "enum" && Array.isArray(spec.values) && !spec.values.includes(resolved[param])) {
      const original = resolved[param];
      delete resolved[param];
      adjustments.push({
        param,
        original,
        adjusted: null,
        action: "drop",
        reason: `${param} must be one of ${spec.values.join(", ")}`,
      });
      continue;
    }
    clamp(param, spec);
  }

  if (registryKey === "anthropic" && resolved.temperature != null && resolved.top_p != null) {
    const original = resolved.top_p;
    delete resolved.top_p;
    adjustments.push({
      param: "top_p",
      original,
      adjusted: null,
      action: "drop",
      reason: "Anthropic cannot use both temperature and top_p. Dropping top_p.",
    });
  }
  if (registryKey === "openai" && /^o[134]/.test(model) && resolved.max_tokens !== undefined) {
    resolved.max_completion_tokens = resolved.max_tokens;
    delete resolved.max_tokens;
    adjustments.push({
      param: "max_tokens",
      original: resolved.max_completion_tokens,
      adjusted: resolved.max_completion_tokens,
      action: "rename",
      reason: "O-series uses max_completion_tokens instead of max_tokens",
    });
  }

  const known = new Set([
    ...Object.keys(registry.tier1),
    ...Object.keys(registry.tier2),
    "max_completion_tokens",
  ]);
  const adjusted = new Set(adjustments.map((a) => a.param));
  for (const [param, value] of Object.entries(resolved)) {
    if (!known.has(param) && !adjusted.has(param) && value !== null && value !== undefined)
      adjustments.push({
        param,
        original: value,
        adjusted: value,
        action: "passthrough",
        reason: `Custom param '${param}' passed through without validation (Tier 3)`,
      });
  }
  if (passthrough !== undefined && passthrough !== null) {
    if (typeof passthrough === "object" && !Array.isArray(passthrough)) {
      for (const [param, value] of Object.entries(passthrough)) {
        if (param in resolved) warnings.push(`passthrough.${param} overrides the validated ${param}`);
        resolved[param] = value;
        adjustments.push({
          param,
          original: value,
          adjusted: value,
          action: "passthrough",
          reason: `'${param}' passed through without validation (Tier 3)`,
        });
      }
    } else {
      adjustments.push({
        param: "passthrough",
        original: passthrough,
        adjusted: null,
        action: "drop",
        reason: "passthrough must be an object",
      });
    }
  }

  if (registryKey === "anthropic")
    warnings.push("max_tokens is required for Anthropic and will always be included");
  if (registryKey === "_unknown")
    warnings.push("Unknown provider: using OpenAI-compatible defaults. Parameters may not all be supported.");
  for (const key of Object.keys(resolved))
    if (resolved[key] === null || resolved[key] === undefined) delete resolved[key];
  return {
    valid: !adjustments.some((a) => a.action === "drop" || a.action === "clamp"),
    adjustments,
    warnings,
    resolved_params: resolved,
  };
}
