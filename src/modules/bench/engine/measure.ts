// One measured call: a streamed chat completion timed exactly as bench-notes.md says.
//   TTFT                     time from just before the HTTP request (taken in the fetch the SDK calls, so the
//                            SDK's own preparation is not counted) to the first streamed chunk carrying a
//                            token (content or reasoning); role-only/metadata chunks carry none
//   output tokens            the provider's usage report when present, else the chunks counted (content and
//                            reasoning: reasoning counts as output)
//   tokens_per_second        output tokens / total time
//   output_speed_tps         output tokens / (total − TTFT)
//   itl_ms                   (total − TTFT) / (output tokens − 1)
//   input_tokens_per_second  prompt tokens / TTFT
//   cost                     from the per-million-token prices
import { APICallError, streamText } from "ai";
import { countContextTokens } from "./context.js";
import { bodyMergingFetch, defaultAdapters, type FetchFunction, type ProviderAdapter } from "./providers.js";
import { scrubSecrets } from "./scrub.js";
import type { BenchTarget, GenerationParams, ModelPrices, ProviderKind } from "./types.js";

export interface CallRequest {
  system?: string;
  prompt: string;
  /** An image (http(s) or data: URL) sent with the prompt as the provider's image input. */
  image?: string;
  maxTokens: number;
  temperature: number;
  /** The target's params overlaid with the request's `provider_params`. */
  params?: GenerationParams | null;
}

export interface CallMeasurement {
  success: boolean;
  /** Scrubbed, prefixed `[rate_limited]` / `[auth_failed]` / `[timeout]` when the cause is known. */
  error: string | null;
  ttftMs: number;
  totalTimeS: number;
  outputTokens: number;
  inputTokens: number;
  reasoningTokens: number;
  tokensSource: "usage" | "counted";
  tokensPerSecond: number;
  outputSpeedTps: number;
  itlMs: number;
  inputTokensPerSecond: number;
  cost: number;
  /** Text received (content only), for callers that need the answer itself. */
  text: string;
}

export class CallCancelledError extends Error {
  constructor() {
    super("cancelled");
    this.name = "CallCancelledError";
  }
}

export interface MeasureDeps {
  adapters?: Readonly<Record<ProviderKind, ProviderAdapter>>;
  fetch?: FetchFunction;
  now?: () => number;
}

// Known parameter names → the SDK's call settings (each provider maps them onto its own field names).
const SETTING_NAMES: Record<string, string> = {
  top_p: "topP",
  top_k: "topK",
  frequency_penalty: "frequencyPenalty",
  presence_penalty: "presencePenalty",
  seed: "seed",
  stop: "stopSequences",
};

/** The SDK call settings and the body passthrough of one call (shared with tool evals). */
export function callSettings(target: BenchTarget, request: CallRequest) {
  const skip = new Set(target.skipParams ?? []);
  const settings: Record<string, unknown> = {};
  const passthrough: Record<string, unknown> = {};
  if (!skip.has("max_tokens")) settings.maxOutputTokens = request.maxTokens;
  const params = { ...(request.params ?? {}) };
  const temperature = typeof params.temperature === "number" ? params.temperature : request.temperature;
  delete params.temperature;
  if (!skip.has("temperature")) settings.temperature = temperature;
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null || skip.has(name)) continue;
    if (name === "passthrough") {
      if (typeof value === "object" && !Array.isArray(value)) Object.assign(passthrough, value);
      continue;
    }
    if (name === "max_tokens") continue;
    const setting = SETTING_NAMES[name];
    if (setting) settings[setting] = name === "stop" && typeof value === "string" ? [value] : value;
    // A provider-specific name (reasoning_effort, min_p, ...) goes into the body as it is.
    else passthrough[name] = value;
  }
  return { settings, passthrough };
}

export function costOf(
  prices: ModelPrices | null | undefined,
  inputTokens: number,
  outputTokens: number,
): number {
  if (!prices) return 0;
  return (inputTokens * prices.inputPerMTok + outputTokens * prices.outputPerMTok) / 1_000_000;
}

/** The message a failed call reports: classified, scrubbed of the key, at most 200 characters. */
export function describeCallError(error: unknown, secrets: readonly (string | null | undefined)[]): string {
  let prefix = "";
  let message: string;
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    if (status === 429) prefix = "[rate_limited] ";
    else if (status === 401 || status === 403) prefix = "[auth_failed] ";
    else if (status === 408 || status === 504) prefix = "[timeout] ";
    message = status ? `HTTP ${status}: ${error.message}` : error.message;
  } else if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    message =
      error.message === "terminated" || error.message === "fetch failed"
        ? `connection failed: ${cause instanceof Error ? cause.message : error.message}`
        : error.message;
  } else {
    message = String(error);
  }
  message = scrubSecrets(message.replace(/\s+/g, " ").trim(), secrets);
  return prefix + (message.length > 200 ? `${message.slice(0, 197)}...` : message);
}

/**
 * Runs one streamed call and measures it. Resolves with a failed measurement for a provider error or a
 * timeout (a failed call is still a result); rejects with `CallCancelledError` when `signal` aborts (the
 * in-flight HTTP request is aborted with it).
 */
export async function measureCall(
  target: BenchTarget,
  request: CallRequest,
  signal: AbortSignal,
  deps: MeasureDeps = {},
): Promise<CallMeasurement> {
  const now = deps.now ?? (() => performance.now());
  const secrets = [target.connection.apiKey, ...Object.values(target.connection.headers ?? {})];
  if (signal.aborted) throw new CallCancelledError();

  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new Error("timeout")), target.timeoutMs);
  const onCancel = () => timeout.abort(new CallCancelledError());
  signal.addEventListener("abort", onCancel, { once: true });

  const { settings, passthrough } = callSettings(target, request);
  let contentChunks = 0;
  let reasoningChunks = 0;
  let text = "";
  let firstTokenAt: number | undefined;
  let usage:
    | { inputTokens?: number; outputTokens?: number; outputTokenDetails?: { reasoningTokens?: number } }
    | undefined;
  let failure: unknown;
  const callStart = now();
  let requestStart: number | undefined;
  const inner = deps.fetch ?? fetch;
  const timedFetch: FetchFunction = (input, init) => {
    requestStart ??= now();
    return inner(input, init);
  };
  try {
    const adapters = deps.adapters ?? defaultAdapters;
    const adapter = adapters[target.connection.kind];
    if (!adapter) throw new Error(`unsupported provider kind ${String(target.connection.kind)}`);
    const model = adapter.languageModel(target.connection, bodyMergingFetch(passthrough, timedFetch));
    const stream = streamText({
      model,
      system: request.system || undefined,
      ...(request.image
        ? {
            messages: [
              {
                role: "user" as const,
                content: [
                  { type: "text" as const, text: request.prompt },
                  { type: "image" as const, image: new URL(request.image) },
                ],
              },
            ],
          }
        : { prompt: request.prompt }),
      ...settings,
      maxRetries: 0, // a retried call would time two requests as one
      abortSignal: timeout.signal,
      onError: () => {}, // reported below, scrubbed; the SDK's default prints the raw error
    });
    for await (const part of stream.fullStream) {
      switch (part.type) {
        case "text-delta":
          if (part.text) {
            firstTokenAt ??= now();
            contentChunks++;
            text += part.text;
          }
          break;
        case "reasoning-delta":
          if (part.text) {
            firstTokenAt ??= now();
            reasoningChunks++;
          }
          break;
        case "finish":
          usage = part.totalUsage;
          break;
        case "error":
          throw part.error;
        case "abort":
          throw timeout.signal.reason ?? new CallCancelledError();
      }
    }
  } catch (error) {
    failure = error;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onCancel);
  }
  const end = now();
  const start = requestStart ?? callStart;

  if (signal.aborted) throw new CallCancelledError();
  const totalMs = end - start;
  if (failure !== undefined || timeout.signal.aborted) {
    const error = timeout.signal.aborted
      ? `[timeout] no complete answer within ${Math.round(target.timeoutMs / 1000)} s`
      : describeCallError(failure, secrets);
    return failed(error, totalMs, firstTokenAt === undefined ? 0 : firstTokenAt - start);
  }

  const counted = contentChunks + reasoningChunks;
  const reportedOutput = usage?.outputTokens;
  const tokensSource = typeof reportedOutput === "number" ? "usage" : "counted";
  // A provider whose usage leaves the reasoning out would report fewer tokens than it streamed.
  const outputTokens = typeof reportedOutput === "number" ? Math.max(reportedOutput, counted) : counted;
  const reasoningTokens = usage?.outputTokenDetails?.reasoningTokens ?? reasoningChunks;
  const inputTokens =
    typeof usage?.inputTokens === "number"
      ? usage.inputTokens
      : countContextTokens(request.system ?? "") + countContextTokens(request.prompt);
  const ttftMs = firstTokenAt === undefined ? totalMs : firstTokenAt - start;
  const genMs = totalMs - ttftMs;
  return {
    success: true,
    error: null,
    ttftMs,
    totalTimeS: totalMs / 1000,
    outputTokens,
    inputTokens,
    reasoningTokens,
    tokensSource,
    tokensPerSecond: totalMs > 0 ? outputTokens / (totalMs / 1000) : 0,
    outputSpeedTps: genMs > 0 && outputTokens > 0 ? outputTokens / (genMs / 1000) : 0,
    itlMs: genMs > 0 && outputTokens > 1 ? genMs / (outputTokens - 1) : 0,
    inputTokensPerSecond: ttftMs > 0 && inputTokens > 0 ? inputTokens / (ttftMs / 1000) : 0,
    cost: costOf(target.prices, inputTokens, outputTokens),
    text,
  };
}

function failed(error: string, totalMs: number, ttftMs: number): CallMeasurement {
  return {
    success: false,
    error,
    ttftMs,
    totalTimeS: totalMs / 1000,
    outputTokens: 0,
    inputTokens: 0,
    reasoningTokens: 0,
    tokensSource: "counted",
    tokensPerSecond: 0,
    outputSpeedTps: 0,
    itlMs: 0,
    inputTokensPerSecond: 0,
    cost: 0,
    text: "",
  };
}
