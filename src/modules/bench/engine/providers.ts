// Provider adapters: one interface, one adapter per protocol, each built on the Vercel AI SDK's provider
// package (docs/bench.md says why this SDK). An adapter only builds the SDK model for a connection; the
// measuring (runner.ts) is the same for all of them, over the SDK's provider-neutral stream parts.
import { createAnthropic } from "@ai-sdk/anthropic";
import { createGoogleGenerativeAI } from "@ai-sdk/google";
import { createOpenAI } from "@ai-sdk/openai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import type { LanguageModel } from "ai";
import type { ProviderConnection, ProviderKind } from "./types.js";

// The SDK prints warnings (unsupported settings, ...) on the console; the engine reports through its own
// events and the server's logger only.
(globalThis as { AI_SDK_LOG_WARNINGS?: unknown }).AI_SDK_LOG_WARNINGS = false;

export type FetchFunction = typeof globalThis.fetch;

export interface ProviderAdapter {
  readonly kind: ProviderKind;
  /** The SDK model for one connection; every HTTP request it makes goes through `fetch`. */
  languageModel(connection: ProviderConnection, fetch: FetchFunction): LanguageModel;
}

// The keys are always passed explicitly (`""` when the provider has none): the SDKs would otherwise read
// OPENAI_API_KEY / ANTHROPIC_API_KEY / GOOGLE_GENERATIVE_AI_API_KEY from the server's environment, and a
// user's benchmark must only ever use the key resolved for that user.
const base = (c: ProviderConnection) => c.apiBase?.replace(/\/+$/, "") || undefined;

export const openAiAdapter: ProviderAdapter = {
  kind: "openai",
  // Chat completions (the protocol the notes measure), not the Responses API the SDK defaults to.
  languageModel: (c, fetch) =>
    createOpenAI({ baseURL: base(c), apiKey: c.apiKey ?? "", headers: c.headers, fetch }).chat(c.model),
};

export const anthropicAdapter: ProviderAdapter = {
  kind: "anthropic",
  languageModel: (c, fetch) =>
    createAnthropic({ baseURL: base(c), apiKey: c.apiKey ?? "", headers: c.headers, fetch })(c.model),
};

export const geminiAdapter: ProviderAdapter = {
  kind: "gemini",
  languageModel: (c, fetch) =>
    createGoogleGenerativeAI({ baseURL: base(c), apiKey: c.apiKey ?? "", headers: c.headers, fetch })(
      c.model,
    ),
};

export const openAiCompatibleAdapter: ProviderAdapter = {
  kind: "openai_compatible",
  languageModel: (c, fetch) => {
    const baseURL = base(c);
    if (!baseURL) throw new Error("an OpenAI-compatible provider needs an api_base");
    return createOpenAICompatible({
      name: "openai_compatible",
      baseURL,
      apiKey: c.apiKey || undefined,
      headers: c.headers,
      fetch,
      // stream_options.include_usage: servers that support it report usage in a last chunk.
      includeUsage: true,
      // An image URL goes to the server as `image_url` (as OpenAI's own adapter does): the provider fetches it,
      // not this server (the SDK would otherwise download it and send it inline).
      supportedUrls: () => ({ "image/*": [/^https?:\/\/.*$/] }),
    }).chatModel(c.model);
  },
};

export const defaultAdapters: Readonly<Record<ProviderKind, ProviderAdapter>> = {
  openai: openAiAdapter,
  anthropic: anthropicAdapter,
  gemini: geminiAdapter,
  openai_compatible: openAiCompatibleAdapter,
};

/**
 * A fetch that merges `extra` into the JSON body of every request: the passthrough parameters reach the
 * provider exactly as named (`service_tier`, `reasoning_effort`, `min_p`, ...), whatever the SDK knows.
 */
export function bodyMergingFetch(
  extra: Record<string, unknown>,
  inner: FetchFunction = fetch,
): FetchFunction {
  if (Object.keys(extra).length === 0) return inner;
  return (input, init) => {
    if (init && typeof init.body === "string") {
      try {
        const body = JSON.parse(init.body) as unknown;
        if (body && typeof body === "object" && !Array.isArray(body)) {
          return inner(input, { ...init, body: JSON.stringify({ ...body, ...extra }) });
        }
      } catch {
        // not JSON: sent unchanged
      }
    }
    return inner(input, init);
  };
}
