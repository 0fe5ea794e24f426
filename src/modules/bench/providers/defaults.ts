// What a new user starts with (as upstream seeds its config): OpenAI, Anthropic and Google Gemini with a few
// models each, four prompt templates, and the benchmark defaults.
import type { BenchDefaults, ProviderKind } from "./providers.schema.js";
import { DEFAULT_TIMEOUT_S } from "./providers.schema.js";

export const DEFAULT_PROMPT = "Explain recursion in programming with a short example.";

export const DEFAULT_DEFAULTS: BenchDefaults = {
  max_tokens: 512,
  temperature: 0.7,
  context_tiers: [0],
  prompt: DEFAULT_PROMPT,
  request_timeout_s: DEFAULT_TIMEOUT_S,
};

export interface SeedProvider {
  providerKey: string;
  displayName: string;
  kind: ProviderKind;
  apiKeyEnv: string;
  modelIdPrefix: string | null;
  models: { id: string; displayName: string; contextWindow: number; input: number; output: number }[];
}

export const SEED_PROVIDERS: SeedProvider[] = [
  {
    providerKey: "openai",
    displayName: "OpenAI",
    kind: "openai",
    apiKeyEnv: "OPENAI_API_KEY",
    modelIdPrefix: null,
    models: [
      { id: "gpt-4o", displayName: "GPT-4o", contextWindow: 128_000, input: 2.5, output: 10 },
      { id: "gpt-4o-mini", displayName: "GPT-4o Mini", contextWindow: 128_000, input: 0.15, output: 0.6 },
    ],
  },
  {
    providerKey: "anthropic",
    displayName: "Anthropic",
    kind: "anthropic",
    apiKeyEnv: "ANTHROPIC_API_KEY",
    modelIdPrefix: "anthropic",
    models: [
      {
        id: "anthropic/claude-sonnet-4-5",
        displayName: "Claude Sonnet 4.5",
        contextWindow: 200_000,
        input: 3,
        output: 15,
      },
      {
        id: "anthropic/claude-haiku-4-5",
        displayName: "Claude Haiku 4.5",
        contextWindow: 200_000,
        input: 1,
        output: 5,
      },
    ],
  },
  {
    providerKey: "gemini",
    displayName: "Google Gemini",
    kind: "gemini",
    apiKeyEnv: "GEMINI_API_KEY",
    modelIdPrefix: "gemini",
    models: [
      {
        id: "gemini/gemini-2.5-flash",
        displayName: "Gemini 2.5 Flash",
        contextWindow: 1_048_576,
        input: 0.3,
        output: 2.5,
      },
      {
        id: "gemini/gemini-2.5-pro",
        displayName: "Gemini 2.5 Pro",
        contextWindow: 1_048_576,
        input: 1.25,
        output: 10,
      },
    ],
  },
];

export const SEED_PROMPTS: { key: string; label: string; category: string; prompt: string }[] = [
  { key: "recursion", label: "Explain recursion", category: "general", prompt: DEFAULT_PROMPT },
  {
    key: "code_review",
    label: "Code review",
    category: "code",
    prompt: "Review this function and suggest improvements:\n\ndef add(a, b):\n    return a+b",
  },
  {
    key: "summarize",
    label: "Summarize",
    category: "writing",
    prompt: "Summarize the main ideas of the theory of evolution in five bullet points.",
  },
  {
    key: "reasoning",
    label: "Step-by-step reasoning",
    category: "reasoning",
    prompt:
      "A bat and a ball cost $1.10 in total. The bat costs $1.00 more than the ball. How much does the ball cost? Think step by step.",
  },
];

/** Where each kind's API lives when a provider sets no api_base. */
export const DEFAULT_API_BASE: Record<ProviderKind, string> = {
  openai: "https://api.openai.com/v1",
  anthropic: "https://api.anthropic.com/v1",
  gemini: "https://generativelanguage.googleapis.com/v1beta",
  openai_compatible: "http://localhost:11434/v1",
};

/** The kind of a provider that does not say: by its key or prefix, else OpenAI-compatible. */
export function inferKind(
  providerKey: string,
  prefix: string | null | undefined,
  apiBase: string | null | undefined,
): ProviderKind {
  const names = [providerKey, prefix ?? ""].map((name) => name.toLowerCase());
  if (names.some((name) => name === "anthropic" || name === "claude")) return "anthropic";
  if (names.some((name) => name === "gemini" || name === "google" || name === "vertex_ai")) return "gemini";
  if (names.includes("openai") && (!apiBase || /api\.openai\.com/i.test(apiBase))) return "openai";
  return "openai_compatible";
}
