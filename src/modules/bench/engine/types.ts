// The engine's data contract: what a benchmark is asked to run (a plan of resolved targets) and what it emits
// (the upstream's SSE events, snake_case as they go on the wire). No Prisma, no tRPC: the module's services
// resolve users, providers and keys into `BenchTarget`s and store what the engine emits.

/** The provider protocols the engine speaks (each through its Vercel AI SDK provider). */
export type ProviderKind = "openai" | "anthropic" | "gemini" | "openai_compatible";

export const PROVIDER_KINDS: readonly ProviderKind[] = ["openai", "anthropic", "gemini", "openai_compatible"];

/** How to reach one model: the protocol, the endpoint, the key, and the model name the provider expects. */
export interface ProviderConnection {
  kind: ProviderKind;
  /** Base URL including the version segment (`http://localhost:1234/v1`); the SDK's default when absent. */
  apiBase?: string | null;
  apiKey?: string | null;
  /** The model name sent to the provider (without our `model_id_prefix`). */
  model: string;
  /** Extra HTTP headers (never logged). */
  headers?: Record<string, string>;
}

/** Per-million-token prices; cost is 0 when absent. */
export interface ModelPrices {
  inputPerMTok: number;
  outputPerMTok: number;
}

/** One model of one provider, resolved for one user. */
export interface BenchTarget {
  /** Groups targets: providers run in parallel, the models of one provider in sequence. */
  providerKey: string;
  /** The provider's display name (`provider` in events). */
  providerName: string;
  /** The full (prefixed) model id (`model_id` in events). */
  modelId: string;
  /** The model's display name (`model` in events). */
  modelName: string;
  connection: ProviderConnection;
  contextWindow: number;
  /** Parameters this model rejects (`skip_params`): never sent. */
  skipParams?: readonly string[];
  prices?: ModelPrices | null;
  /** Per-request timeout (30–600 s upstream users ask for). */
  timeoutMs: number;
  /** Per-model system prompt, prepended before the context padding. */
  systemPrompt?: string | null;
  /** Parameters configured for the provider or model; the request's `provider_params` override them. */
  params?: GenerationParams;
}

/**
 * Generation parameters beyond temperature and max_tokens. Known names map onto the SDK's call settings
 * (and so onto each provider's own field name); `passthrough` is merged as-is into the request body.
 */
export interface GenerationParams {
  temperature?: number;
  top_p?: number;
  top_k?: number;
  frequency_penalty?: number;
  presence_penalty?: number;
  seed?: number;
  stop?: string | string[];
  passthrough?: Record<string, unknown>;
  [name: string]: unknown;
}

export interface BenchmarkPlan {
  targets: readonly BenchTarget[];
  prompt: string;
  runs: number;
  maxTokens: number;
  temperature: number;
  contextTiers: readonly number[];
  warmup: boolean;
  providerParams?: GenerationParams | null;
}

// ---- events (the wire shapes of bench-upstream-shapes.md) ----

export interface ProgressEvent {
  type: "progress";
  current: number;
  total: number;
  provider: string;
  model: string;
  model_id: string;
  run: number;
  runs: number;
  context_tokens: number;
}

export interface ResultEvent {
  type: "result";
  provider: string;
  provider_key: string;
  model: string;
  model_id: string;
  run: number;
  runs: number;
  context_tokens: number;
  ttft_ms: number;
  total_time_s: number;
  output_tokens: number;
  input_tokens: number;
  reasoning_tokens: number;
  tokens_per_second: number;
  output_speed_tps: number;
  itl_ms: number;
  input_tokens_per_second: number;
  cost: number;
  /** Whether output/input tokens came from the provider's usage report or were counted. */
  tokens_source: "usage" | "counted";
  success: boolean;
  error: string | null;
}

export interface SkippedEvent {
  type: "skipped";
  provider: string;
  model: string;
  model_id: string;
  context_tokens: number;
  reason: string;
}

export interface HeartbeatEvent {
  type: "heartbeat";
}
export interface CancelledEvent {
  type: "cancelled";
}
export interface CompleteEvent {
  type: "complete";
  saved_to: string;
  run_id?: string | null;
}
export interface ErrorEvent {
  type: "error";
  message: string;
  /** Present when one provider failed as a whole (the others go on). */
  provider?: string;
}

export type BenchEvent =
  ProgressEvent | ResultEvent | SkippedEvent | HeartbeatEvent | CancelledEvent | CompleteEvent | ErrorEvent;
