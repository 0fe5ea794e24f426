// Tool-calling evals: one case against one model through the provider's native tool calling (the same adapters
// and call settings as a benchmark), single-turn or multi-turn (the case's mock tool results fed back until the
// model calls the expected tool, stops calling tools, or runs out of rounds), scored by scoring.ts.
import { jsonSchema, streamText, tool, type ModelMessage, type ToolSet } from "ai";
import { callSettings, CallCancelledError, describeCallError, type MeasureDeps } from "./measure.js";
import { bodyMergingFetch, defaultAdapters, type FetchFunction } from "./providers.js";
import {
  scoreMultiTurn,
  scoreSingleTurn,
  scoreToolSelection,
  scoreParams,
  toolMatches,
  type ChainCall,
  type ExpectedTool,
  type Params,
} from "./scoring.js";
import type { BenchTarget, GenerationParams } from "./types.js";

export type ToolChoice = "auto" | "required" | "none";

/** A tool in OpenAI's function format (what suites store). */
export interface FunctionTool {
  type: "function";
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}

export interface EvalCase {
  id: string;
  prompt: string;
  expectedTool: ExpectedTool;
  expectedParams: Params | null;
  multiTurn: {
    max_rounds: number;
    mock_responses: Record<string, unknown>;
    valid_prerequisites: string[];
    optimal_hops: number;
  } | null;
}

export interface EvalSettings {
  tools: readonly FunctionTool[];
  toolChoice: ToolChoice;
  temperature: number;
  maxTokens: number;
  system?: string | null;
  /** The target's params overlaid with the request's provider_params. */
  params?: GenerationParams | null;
}

/** One tool call as the model made it. */
export interface MadeCall {
  id: string;
  name: string;
  /** The arguments parsed; null when they were not a JSON object. */
  params: Params | null;
}

/** One exchange with the provider: the request body as sent and what came back. */
export interface Exchange {
  request: Record<string, unknown> | null;
  response: {
    content: string;
    tool_calls: { id: string; name: string; arguments: unknown }[];
    finish_reason: string | null;
    usage: { input_tokens: number | null; output_tokens: number | null };
  } | null;
}

interface CallOutcome {
  calls: MadeCall[];
  text: string;
  exchange: Exchange;
  latencyMs: number;
}

/** The `result` event of one case for one model (upstream's fields plus `provider`/`provider_key`). */
export interface ToolEvalResult {
  type: "result";
  model_id: string;
  model_name: string;
  provider: string;
  provider_key: string;
  test_case_id: string;
  prompt: string;
  expected_tool: ExpectedTool;
  expected_params: Params | null;
  actual_tool: string | null;
  actual_params: Params | null;
  tool_selection_score: number;
  param_accuracy: number | null;
  overall_score: number;
  success: boolean;
  error: string | null;
  latency_ms: number;
  raw_request: Record<string, unknown> | null;
  raw_response: Exchange["response"];
  multi_turn?: true;
  tool_chain?: ChainCall[];
  rounds_used?: number;
  completion_score?: number;
  efficiency_score?: number;
  redundancy_penalty?: number;
  detour_penalty?: number;
  raw_exchanges?: Exchange[];
}

function toolSet(tools: readonly FunctionTool[]): ToolSet {
  const set: ToolSet = {};
  for (const t of tools)
    set[t.function.name] = tool({
      description: t.function.description,
      // Not validated by the SDK: the score judges the arguments, whatever they are.
      inputSchema: jsonSchema((t.function.parameters ?? { type: "object", properties: {} }) as never),
    });
  return set;
}

const asParams = (value: unknown): Params | null =>
  value && typeof value === "object" && !Array.isArray(value) ? (value as Params) : null;

function parsedInput(input: unknown): unknown {
  if (typeof input !== "string") return input;
  try {
    return JSON.parse(input) as unknown;
  } catch {
    return input;
  }
}

/** One streamed request with the suite's tools; rejects with CallCancelledError or the provider's error. */
async function callOnce(
  target: BenchTarget,
  settings: EvalSettings,
  messages: ModelMessage[],
  signal: AbortSignal,
  deps: MeasureDeps,
): Promise<CallOutcome> {
  const now = deps.now ?? (() => performance.now());
  const { settings: sdkSettings, passthrough } = callSettings(target, {
    prompt: "",
    maxTokens: settings.maxTokens,
    temperature: settings.temperature,
    params: settings.params,
  });
  let requestBody: Record<string, unknown> | null = null;
  let started: number | undefined;
  const inner = deps.fetch ?? fetch;
  const recordingFetch: FetchFunction = (input, init) => {
    started ??= now();
    if (init && typeof init.body === "string") {
      try {
        requestBody = JSON.parse(init.body) as Record<string, unknown>;
      } catch {
        requestBody = null;
      }
    }
    return inner(input, init);
  };
  const adapter = (deps.adapters ?? defaultAdapters)[target.connection.kind];
  if (!adapter) throw new Error(`unsupported provider kind ${String(target.connection.kind)}`);
  // The passthrough parameters are merged before the body is recorded: the body recorded is the one sent.
  const model = adapter.languageModel(target.connection, bodyMergingFetch(passthrough, recordingFetch));
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new Error("timeout")), target.timeoutMs);
  const onCancel = () => timeout.abort(new CallCancelledError());
  signal.addEventListener("abort", onCancel, { once: true });
  const calls: MadeCall[] = [];
  const rawCalls: { id: string; name: string; arguments: unknown }[] = [];
  let text = "";
  let finishReason: string | null = null;
  let usage: { inputTokens?: number; outputTokens?: number } | undefined;
  const callStart = now();
  try {
    const stream = streamText({
      model,
      system: settings.system || undefined,
      messages,
      tools: toolSet(settings.tools),
      toolChoice: settings.toolChoice,
      ...sdkSettings,
      maxRetries: 0,
      abortSignal: timeout.signal,
      onError: () => {},
    });
    for await (const part of stream.fullStream) {
      switch (part.type) {
        case "text-delta":
          text += part.text;
          break;
        case "tool-call": {
          const input = parsedInput(part.input);
          calls.push({ id: part.toolCallId, name: part.toolName, params: asParams(input) });
          rawCalls.push({ id: part.toolCallId, name: part.toolName, arguments: input });
          break;
        }
        case "finish":
          finishReason = part.finishReason;
          usage = part.totalUsage;
          break;
        case "error":
          throw part.error;
        case "abort":
          throw timeout.signal.reason ?? new CallCancelledError();
      }
    }
  } catch (error) {
    if (signal.aborted) throw new CallCancelledError();
    if (timeout.signal.aborted)
      throw new Error(`[timeout] no complete answer within ${Math.round(target.timeoutMs / 1000)} s`);
    throw error;
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", onCancel);
  }
  if (signal.aborted) throw new CallCancelledError();
  return {
    calls,
    text,
    latencyMs: now() - (started ?? callStart),
    exchange: {
      request: requestBody,
      response: {
        content: text,
        tool_calls: rawCalls,
        finish_reason: finishReason,
        usage: { input_tokens: usage?.inputTokens ?? null, output_tokens: usage?.outputTokens ?? null },
      },
    },
  };
}

function baseResult(target: BenchTarget, c: EvalCase): ToolEvalResult {
  return {
    type: "result",
    model_id: target.modelId,
    model_name: target.modelName,
    provider: target.providerName,
    provider_key: target.providerKey,
    test_case_id: c.id,
    prompt: c.prompt,
    expected_tool: c.expectedTool,
    expected_params: c.expectedParams,
    actual_tool: null,
    actual_params: null,
    tool_selection_score: 0,
    param_accuracy: null,
    overall_score: 0,
    success: true,
    error: null,
    latency_ms: 0,
    raw_request: null,
    raw_response: null,
  };
}

const secretsOf = (target: BenchTarget) => [
  target.connection.apiKey,
  ...Object.values(target.connection.headers ?? {}),
];

function errorMessage(error: unknown, target: BenchTarget): string {
  if (error instanceof Error && error.message.startsWith("[timeout]")) return error.message;
  return describeCallError(error, secretsOf(target));
}

/**
 * Runs one case against one model and scores it. A provider error is a result with `success: false` (scores 0);
 * a cancel rejects with CallCancelledError (the call in flight is aborted).
 */
export async function runToolCase(
  target: BenchTarget,
  c: EvalCase,
  settings: EvalSettings,
  signal: AbortSignal,
  deps: MeasureDeps = {},
): Promise<ToolEvalResult> {
  if (signal.aborted) throw new CallCancelledError();
  return c.multiTurn
    ? runMultiTurn(target, c, settings, signal, deps)
    : runSingleTurn(target, c, settings, signal, deps);
}

async function runSingleTurn(
  target: BenchTarget,
  c: EvalCase,
  settings: EvalSettings,
  signal: AbortSignal,
  deps: MeasureDeps,
): Promise<ToolEvalResult> {
  const result = baseResult(target, c);
  let outcome: CallOutcome;
  try {
    outcome = await callOnce(target, settings, [{ role: "user", content: c.prompt }], signal, deps);
  } catch (error) {
    if (error instanceof CallCancelledError) throw error;
    return { ...result, success: false, error: errorMessage(error, target) };
  }
  // The first call is the answer (upstream); any others are in raw_response.
  const first = outcome.calls[0];
  const scores = scoreSingleTurn(
    { tool: c.expectedTool, params: c.expectedParams },
    { tool: first?.name ?? null, params: first?.params ?? null },
  );
  return {
    ...result,
    actual_tool: first?.name ?? null,
    actual_params: first?.params ?? null,
    ...scores,
    latency_ms: Math.round(outcome.latencyMs),
    raw_request: outcome.exchange.request,
    raw_response: outcome.exchange.response,
  };
}

async function runMultiTurn(
  target: BenchTarget,
  c: EvalCase,
  settings: EvalSettings,
  signal: AbortSignal,
  deps: MeasureDeps,
): Promise<ToolEvalResult> {
  const mt = c.multiTurn!;
  const messages: ModelMessage[] = [{ role: "user", content: c.prompt }];
  const chain: ChainCall[] = [];
  const exchanges: Exchange[] = [];
  let latency = 0;
  let rounds = 0;
  let failure: string | null = null;
  rounds: for (let round = 1; round <= mt.max_rounds; round++) {
    rounds = round;
    let outcome: CallOutcome;
    try {
      outcome = await callOnce(target, settings, messages, signal, deps);
    } catch (error) {
      if (error instanceof CallCancelledError) throw error;
      failure = errorMessage(error, target);
      break;
    }
    latency += outcome.latencyMs;
    exchanges.push(outcome.exchange);
    if (outcome.calls.length === 0) break; // the model stopped calling tools
    // Every call of the round is a hop, in order, until one is the expected tool.
    const answered: MadeCall[] = [];
    for (const call of outcome.calls) {
      chain.push({ tool_name: call.name, params: call.params, round });
      answered.push(call);
      if (toolMatches(call.name, c.expectedTool)) break rounds;
    }
    // Feed back the case's mock result for each call (the protocol wants every call answered).
    messages.push({
      role: "assistant",
      content: [
        ...(outcome.text ? [{ type: "text" as const, text: outcome.text }] : []),
        ...outcome.calls.map((call) => ({
          type: "tool-call" as const,
          toolCallId: call.id,
          toolName: call.name,
          input: call.params ?? {},
        })),
      ],
    });
    messages.push({
      role: "tool",
      content: outcome.calls.map((call) => {
        const mock = mt.mock_responses[call.name] ?? { status: "ok" };
        return {
          type: "tool-result" as const,
          toolCallId: call.id,
          toolName: call.name,
          output:
            typeof mock === "string"
              ? { type: "text" as const, value: mock }
              : { type: "json" as const, value: mock as never },
        };
      }),
    });
  }
  const last = chain.at(-1);
  const scores = scoreMultiTurn(chain, {
    tool: c.expectedTool,
    params: c.expectedParams,
    validPrerequisites: mt.valid_prerequisites,
    optimalHops: mt.optimal_hops,
  });
  const base = baseResult(target, c);
  return {
    ...base,
    success: failure === null,
    error: failure,
    actual_tool: last?.tool_name ?? null,
    actual_params: last?.params ?? null,
    tool_selection_score: failure === null ? scoreToolSelection(c.expectedTool, last?.tool_name ?? null) : 0,
    param_accuracy: failure === null ? scoreParams(c.expectedParams, last?.params ?? null) : null,
    overall_score: failure === null ? scores.overall_score : 0,
    latency_ms: Math.round(latency),
    raw_request: exchanges[0]?.request ?? null,
    raw_response: exchanges.at(-1)?.response ?? null,
    multi_turn: true,
    tool_chain: chain,
    rounds_used: rounds,
    completion_score: failure === null ? scores.completion : 0,
    efficiency_score: failure === null ? scores.efficiency : 0,
    redundancy_penalty: failure === null ? scores.redundancy_penalty : 0,
    detour_penalty: failure === null ? scores.detour_penalty : 0,
    raw_exchanges: exchanges,
  };
}
