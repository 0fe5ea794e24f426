// A stand-in LLM provider for tests and benchmarks: a real HTTP server speaking the real wire protocols
// (it stands in for a third party the tests cannot reach):
// - OpenAI chat completions, streamed: `data: {chunk}` lines, a role-only first chunk, `delta.content`
//   and `delta.reasoning_content` chunks, the usage chunk (`choices: []`) when the request asks for it with
//   `stream_options.include_usage`, then `data: [DONE]`; non-streamed completions too;
// - Anthropic messages, streamed: `event:`/`data:` pairs message_start, content_block_start/delta/stop
//   (thinking_delta and text_delta), message_delta with the output usage, message_stop;
// - Gemini streamGenerateContent (`?alt=sse`): candidates with text parts (`thought: true` for reasoning)
//   and usageMetadata;
// - GET /v1/models in OpenAI's or Anthropic's shape;
// - OpenAI's POST /v1/images/generations: `n` images as `b64_json` (STANDIN_PNG).
// - scripted tool calls: a `reply` function sees each chat request (prompt, tools offered, tool_choice, the
//   tool results fed back so far) and answers with tool calls, streamed as OpenAI `delta.tool_calls` chunks
//   (id and name first, then the arguments in pieces; finish_reason "tool_calls") or Anthropic `tool_use`
//   blocks (`input_json_delta` pieces; stop_reason "tool_use"), or with a text.
// Behaviour is configurable per server and per model name: time to first token, token rate, number of
// reasoning and content tokens, usage on/off, HTTP errors, a mid-stream abort. It records every request
// and every client that went away before the stream ended (a cancel that really stopped the call).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { countTokens } from "gpt-tokenizer/encoding/cl100k_base";

export interface StandinBehaviour {
  /** Milliseconds from the request to the first token chunk. */
  ttftMs: number;
  /** Tokens per second after the first one (one token per chunk, 1000/rate ms apart). */
  tokensPerSecond: number;
  /** Content tokens (capped by the request's max tokens). */
  outputTokens: number;
  /** Reasoning tokens streamed before the content (`reasoning_content` / thinking / thought parts). */
  reasoningTokens: number;
  /** Report usage (OpenAI: only when the request sets stream_options.include_usage, as OpenAI does). */
  usage: boolean;
  /** Answer with this HTTP error instead of a stream. */
  error: { status: number; message: string } | null;
  /** Destroy the connection after this many tokens (a server dying mid-stream). */
  abortAfterTokens: number | null;
  /** Put the API key the client sent into error messages (as careless servers do). */
  echoKeyInErrors: boolean;
  /** Scripted answers (tool calls or a text) per request; null or a null answer: the usual word stream. */
  reply: ((chat: StandinChat) => StandinReply | null) | null;
}

/** What a scripted `reply` sees of a chat request (OpenAI or Anthropic), normalized. */
export interface StandinChat {
  protocol: "openai" | "anthropic";
  model: string | null;
  /** The first user message's text. */
  prompt: string;
  /** Names of the tools offered. */
  tools: string[];
  /** "auto" | "required" | "none" | the forced tool's name | null when not sent (Anthropic "any" = "required"). */
  toolChoice: string | null;
  /** The tool results sent back so far, in order (tool name when the protocol says it, and the content text). */
  toolResults: { toolCallId: string; content: string }[];
  /** The tool calls the assistant made so far (from the history the client sent). */
  priorCalls: { id: string; name: string; arguments: string }[];
  body: Record<string, unknown>;
}

/** A scripted answer: tool calls (arguments as an object, or a raw string to send as is), or a text. */
export type StandinReply =
  | { toolCalls: { name: string; arguments: Record<string, unknown> | string }[]; text?: string }
  | { text: string };

export const DEFAULT_BEHAVIOUR: StandinBehaviour = {
  ttftMs: 50,
  tokensPerSecond: 200,
  outputTokens: 20,
  reasoningTokens: 0,
  usage: true,
  error: null,
  abortAfterTokens: null,
  echoKeyInErrors: false,
  reply: null,
};

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: Record<string, unknown> | null;
  /** Protocol the request spoke. */
  protocol: "openai" | "anthropic" | "gemini" | "other";
  model: string | null;
}

export interface StreamRecord {
  model: string | null;
  protocol: RecordedRequest["protocol"];
  tokensSent: number;
  /** `completed`: the stream was sent to the end; `disconnected`: the client went away first. */
  state: "streaming" | "completed" | "disconnected" | "aborted";
  /** performance.now() when the stream started and when it ended (either way). */
  startedAt: number;
  endedAt: number | null;
  /** performance.now() when the first token frame was written. */
  firstTokenAt: number | null;
}

/** What the images endpoint answers (OpenAI's `/v1/images/generations`, `b64_json`): an 8x8 red PNG. */
export const STANDIN_PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEUlEQVR4nGO4IyeHFTEMLQkAid1GAXiz9RcAAAAASUVORK5CYII=",
  "base64",
);

// Each is exactly one cl100k_base token, so counted chunks, usage and a tokenizer agree.
const WORDS = [" the", " of", " and", " to", " in", " is", " that", " for", " it", " as", " with", " on"];

export class LlmStandin {
  readonly requests: RecordedRequest[] = [];
  readonly streams: StreamRecord[] = [];
  behaviour: StandinBehaviour;
  readonly models: Record<string, Partial<StandinBehaviour>>;
  private server: Server;
  private port = 0;
  private callSeq = 0;

  constructor(
    private readonly options: {
      /** Required key (Bearer, x-api-key or x-goog-api-key); any key or none is accepted when unset. */
      apiKey?: string;
      behaviour?: Partial<StandinBehaviour>;
      models?: Record<string, Partial<StandinBehaviour>>;
      /** Model ids listed by GET /v1/models (default: the configured model names, or "standin-model"). */
      listedModels?: string[];
    } = {},
  ) {
    this.behaviour = { ...DEFAULT_BEHAVIOUR, ...options.behaviour };
    this.models = { ...options.models };
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => res.destroy());
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  /** Origin, e.g. http://127.0.0.1:41234 */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The api_base a provider configuration uses (OpenAI and Anthropic style: origin + /v1). */
  get baseUrl(): string {
    return `${this.origin}/v1`;
  }

  /** Gemini's api_base (origin + /v1beta). */
  get geminiBaseUrl(): string {
    return `${this.origin}/v1beta`;
  }

  configure(behaviour: Partial<StandinBehaviour>): void {
    this.behaviour = { ...this.behaviour, ...behaviour };
  }

  behaviourFor(model: string | null): StandinBehaviour {
    return { ...this.behaviour, ...(model ? this.models[model] : undefined) };
  }

  /** Streams the client abandoned before the end. */
  get disconnects(): StreamRecord[] {
    return this.streams.filter((s) => s.state === "disconnected");
  }

  get activeStreams(): StreamRecord[] {
    return this.streams.filter((s) => s.state === "streaming");
  }

  async waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error("stand-in: condition not met in time");
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  reset(): void {
    this.requests.length = 0;
    this.streams.length = 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---- request handling ----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.origin);
    const raw = await readBody(req);
    let body: Record<string, unknown> | null = null;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        return sendJson(res, 400, { error: { message: "invalid JSON body", type: "invalid_request_error" } });
      }
    }
    const path = url.pathname;
    const gemini = /^\/v1beta\/models\/([^/:]+):(streamGenerateContent|generateContent)$/.exec(path);
    const protocol: RecordedRequest["protocol"] =
      path === "/v1/chat/completions"
        ? "openai"
        : path === "/v1/messages"
          ? "anthropic"
          : gemini
            ? "gemini"
            : "other";
    const model = gemini
      ? decodeURIComponent(gemini[1]!)
      : typeof body?.model === "string"
        ? body.model
        : null;
    this.requests.push({ method: req.method ?? "GET", path, headers: req.headers, body, protocol, model });

    if (req.method === "GET" && (path === "/v1/models" || path === "/v1beta/models")) {
      if (!this.authorized(req, url)) return this.unauthorized(res, "openai", req, url);
      return this.listModels(req, res, path.startsWith("/v1beta"));
    }
    if (req.method === "POST" && path === "/v1/images/generations") {
      if (!this.authorized(req, url)) return this.unauthorized(res, "openai", req, url);
      const behaviour = this.behaviourFor(model);
      if (behaviour.error)
        return this.providerError(res, "openai", behaviour.error.status, behaviour.error.message);
      const n = Math.max(1, Math.min(10, Number(body?.n ?? 1)));
      return sendJson(res, 200, {
        created: Math.floor(Date.now() / 1000),
        data: Array.from({ length: n }, () => ({ b64_json: STANDIN_PNG.toString("base64") })),
      });
    }
    if (req.method !== "POST" || protocol === "other") {
      return sendJson(res, 404, { error: { message: `no route ${req.method} ${path}` } });
    }
    if (!this.authorized(req, url)) return this.unauthorized(res, protocol, req, url);
    const behaviour = this.behaviourFor(model);
    if (behaviour.error)
      return this.providerError(res, protocol, behaviour.error.status, behaviour.error.message);

    if (behaviour.reply && body && (protocol === "openai" || protocol === "anthropic")) {
      const answer = behaviour.reply(chatOf(protocol, model, body));
      if (answer) {
        const scripted = scriptedFrames(
          protocol,
          model,
          answer,
          promptTokens(protocol, body),
          ++this.callSeq,
        );
        const plan = { reasoning: 0, content: scripted.tokens.length, prompt: promptTokens(protocol, body) };
        return this.stream(res, model, protocol, plan, behaviour, scripted);
      }
    }
    const maxTokens = Number(body?.max_tokens ?? body?.max_completion_tokens ?? Infinity);
    const content = Math.max(0, Math.min(behaviour.outputTokens, maxTokens));
    const plan = { reasoning: behaviour.reasoningTokens, content, prompt: promptTokens(protocol, body) };
    if (protocol === "openai") {
      if (body?.stream !== true) return this.openAiCompletion(res, model, plan, behaviour);
      const includeUsage =
        (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage === true;
      return this.stream(
        res,
        model,
        protocol,
        plan,
        behaviour,
        openAiFrames(model, plan, behaviour.usage && includeUsage),
      );
    }
    if (protocol === "anthropic") {
      return this.stream(
        res,
        model,
        protocol,
        plan,
        behaviour,
        anthropicFrames(model, plan, behaviour.usage),
      );
    }
    return this.stream(res, model, protocol, plan, behaviour, geminiFrames(model, plan, behaviour.usage));
  }

  private authorized(req: IncomingMessage, url: URL): boolean {
    const required = this.options.apiKey;
    if (!required) return true;
    return receivedKey(req, url) === required;
  }

  private unauthorized(
    res: ServerResponse,
    protocol: RecordedRequest["protocol"],
    req: IncomingMessage,
    url: URL,
  ): void {
    const key = receivedKey(req, url) ?? "";
    const shown = this.behaviour.echoKeyInErrors ? key : `${key.slice(0, 3)}****${key.slice(-4)}`;
    this.providerError(res, protocol, 401, `Incorrect API key provided: ${shown}`);
  }

  private providerError(
    res: ServerResponse,
    protocol: RecordedRequest["protocol"],
    status: number,
    message: string,
  ): void {
    if (protocol === "anthropic") {
      const type =
        status === 401 ? "authentication_error" : status === 429 ? "rate_limit_error" : "api_error";
      return sendJson(res, status, { type: "error", error: { type, message } });
    }
    if (protocol === "gemini") {
      return sendJson(res, status, {
        error: { code: status, message, status: status === 429 ? "RESOURCE_EXHAUSTED" : "INVALID_ARGUMENT" },
      });
    }
    const type = status === 429 ? "rate_limit_exceeded" : status === 401 ? "invalid_api_key" : "server_error";
    sendJson(res, status, { error: { message, type: "invalid_request_error", code: type, param: null } });
  }

  private listModels(req: IncomingMessage, res: ServerResponse, gemini: boolean): void {
    const ids =
      this.options.listedModels ??
      (Object.keys(this.models).length ? Object.keys(this.models) : ["standin-model"]);
    if (gemini) {
      return sendJson(res, 200, {
        models: ids.map((id) => ({
          name: `models/${id}`,
          displayName: id,
          supportedGenerationMethods: ["generateContent"],
        })),
      });
    }
    if (req.headers["anthropic-version"]) {
      return sendJson(res, 200, {
        data: ids.map((id) => ({ id, type: "model", display_name: id, created_at: "2026-01-01T00:00:00Z" })),
        has_more: false,
        first_id: ids[0] ?? null,
        last_id: ids.at(-1) ?? null,
      });
    }
    sendJson(res, 200, {
      object: "list",
      data: ids.map((id) => ({ id, object: "model", created: 1767225600, owned_by: "standin" })),
    });
  }

  private openAiCompletion(
    res: ServerResponse,
    model: string | null,
    plan: TokenPlan,
    behaviour: StandinBehaviour,
  ): void {
    setTimeout(() => {
      sendJson(res, 200, {
        id: "chatcmpl-standin",
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model,
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: words(0, plan.content).join("") },
            finish_reason: "stop",
          },
        ],
        usage: behaviour.usage ? openAiUsage(plan) : undefined,
      });
    }, behaviour.ttftMs);
  }

  /**
   * Sends the frames on the stand-in's clock: `head` frames at once, token frames at ttft + i/rate, `tail`
   * frames right after the last token.
   */
  private stream(
    res: ServerResponse,
    model: string | null,
    protocol: RecordedRequest["protocol"],
    plan: TokenPlan,
    behaviour: StandinBehaviour,
    frames: Frames,
  ): void {
    const record: StreamRecord = {
      model,
      protocol,
      tokensSent: 0,
      state: "streaming",
      startedAt: performance.now(),
      endedAt: null,
      firstTokenAt: null,
    };
    this.streams.push(record);
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
    });
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    res.on("close", () => {
      if (timer) clearTimeout(timer);
      record.endedAt ??= performance.now();
      if (record.state === "streaming") record.state = "disconnected";
    });
    for (const frame of frames.head) res.write(frame);
    const interval = 1000 / behaviour.tokensPerSecond;
    const total = frames.tokens.length;
    let i = 0;
    const next = () => {
      if (record.state !== "streaming") return;
      if (behaviour.abortAfterTokens !== null && i >= behaviour.abortAfterTokens) {
        record.state = "aborted";
        res.destroy();
        return;
      }
      if (i >= total) {
        for (const frame of frames.tail) res.write(frame);
        record.state = "completed";
        res.end();
        return;
      }
      res.write(frames.tokens[i]!);
      record.firstTokenAt ??= performance.now();
      i += 1;
      record.tokensSent = i;
      const due = started + behaviour.ttftMs + i * interval;
      timer = setTimeout(next, i >= total ? 0 : Math.max(0, due - performance.now()));
    };
    timer = setTimeout(next, Math.max(0, behaviour.ttftMs));
  }
}

interface TokenPlan {
  reasoning: number;
  content: number;
  prompt: number;
}

interface Frames {
  head: string[];
  tokens: string[];
  tail: string[];
}

const words = (from: number, count: number) =>
  Array.from({ length: count }, (_, k) => WORDS[(from + k) % WORDS.length]!);

const data = (payload: unknown) => `data: ${JSON.stringify(payload)}\n\n`;
const event = (name: string, payload: unknown) => `event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`;

function openAiUsage(plan: TokenPlan) {
  const completion = plan.reasoning + plan.content;
  return {
    prompt_tokens: plan.prompt,
    completion_tokens: completion,
    total_tokens: plan.prompt + completion,
    completion_tokens_details: { reasoning_tokens: plan.reasoning },
  };
}

function openAiFrames(model: string | null, plan: TokenPlan, usage: boolean): Frames {
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
    id: "chatcmpl-standin",
    object: "chat.completion.chunk",
    created,
    model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  });
  const tokens = [
    ...words(0, plan.reasoning).map((w) => data(chunk({ reasoning_content: w }))),
    ...words(plan.reasoning, plan.content).map((w) => data(chunk({ content: w }))),
  ];
  const tail = [data(chunk({}, "stop"))];
  if (usage)
    tail.push(
      data({
        id: "chatcmpl-standin",
        object: "chat.completion.chunk",
        created,
        model,
        choices: [],
        usage: openAiUsage(plan),
      }),
    );
  tail.push("data: [DONE]\n\n");
  // Like vLLM, the role-only chunk goes out at once, before any token.
  return { head: [data(chunk({ role: "assistant", content: "" }))], tokens, tail };
}

function anthropicFrames(model: string | null, plan: TokenPlan, usage: boolean): Frames {
  const head = [
    event("message_start", {
      type: "message_start",
      message: {
        id: "msg_standin",
        type: "message",
        role: "assistant",
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: usage ? plan.prompt : 0, output_tokens: 1 },
      },
    }),
    event("ping", { type: "ping" }),
  ];
  const tokens: string[] = [];
  let index = 0;
  if (plan.reasoning > 0) {
    const thinking = words(0, plan.reasoning);
    tokens.push(
      event("content_block_start", {
        type: "content_block_start",
        index,
        content_block: { type: "thinking", thinking: "", signature: "" },
      }) +
        event("content_block_delta", {
          type: "content_block_delta",
          index,
          delta: { type: "thinking_delta", thinking: thinking[0] },
        }),
    );
    for (const w of thinking.slice(1)) {
      tokens.push(
        event("content_block_delta", {
          type: "content_block_delta",
          index,
          delta: { type: "thinking_delta", thinking: w },
        }),
      );
    }
    const close =
      event("content_block_delta", {
        type: "content_block_delta",
        index,
        delta: { type: "signature_delta", signature: "c3RhbmRpbg==" },
      }) + event("content_block_stop", { type: "content_block_stop", index });
    tokens[tokens.length - 1] += close;
    index += 1;
  }
  const text = words(plan.reasoning, plan.content);
  text.forEach((w, k) => {
    const start =
      k === 0
        ? event("content_block_start", {
            type: "content_block_start",
            index,
            content_block: { type: "text", text: "" },
          })
        : "";
    tokens.push(
      start +
        event("content_block_delta", {
          type: "content_block_delta",
          index,
          delta: { type: "text_delta", text: w },
        }),
    );
  });
  const tail = [
    ...(text.length ? [event("content_block_stop", { type: "content_block_stop", index })] : []),
    event("message_delta", {
      type: "message_delta",
      delta: { stop_reason: "end_turn", stop_sequence: null },
      usage: { output_tokens: usage ? plan.reasoning + plan.content : 0 },
    }),
    event("message_stop", { type: "message_stop" }),
  ];
  return { head, tokens, tail };
}

function geminiFrames(_model: string | null, plan: TokenPlan, usage: boolean): Frames {
  const part = (text: string, thought: boolean) =>
    data({
      candidates: [
        { content: { role: "model", parts: [thought ? { text, thought: true } : { text }] }, index: 0 },
      ],
    });
  const tokens = [
    ...words(0, plan.reasoning).map((w) => part(w, true)),
    ...words(plan.reasoning, plan.content).map((w) => part(w, false)),
  ];
  const tail = [
    data({
      candidates: [{ content: { role: "model", parts: [{ text: "" }] }, finishReason: "STOP", index: 0 }],
      ...(usage
        ? {
            usageMetadata: {
              promptTokenCount: plan.prompt,
              candidatesTokenCount: plan.content,
              thoughtsTokenCount: plan.reasoning,
              totalTokenCount: plan.prompt + plan.content + plan.reasoning,
            },
          }
        : {}),
    }),
  ];
  return { head: [], tokens, tail };
}

function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content))
    return content
      .map((part: { type?: string; text?: unknown }) => (typeof part.text === "string" ? part.text : ""))
      .join("");
  return "";
}

/** A chat request as a scripted `reply` sees it. */
function chatOf(
  protocol: "openai" | "anthropic",
  model: string | null,
  body: Record<string, unknown>,
): StandinChat {
  const messages = (body.messages as Record<string, unknown>[] | undefined) ?? [];
  const firstUser = messages.find((m) => m.role === "user");
  const toolResults: StandinChat["toolResults"] = [];
  const priorCalls: StandinChat["priorCalls"] = [];
  let tools: string[];
  let toolChoice: string | null = null;
  if (protocol === "openai") {
    tools = ((body.tools as { function?: { name?: string } }[] | undefined) ?? []).map(
      (t) => t.function?.name ?? "",
    );
    const choice = body.tool_choice as string | { function?: { name?: string } } | undefined;
    toolChoice = typeof choice === "string" ? choice : (choice?.function?.name ?? null);
    for (const m of messages) {
      if (m.role === "tool")
        toolResults.push({ toolCallId: String(m.tool_call_id), content: textOf(m.content) });
      for (const c of (m.tool_calls as
        { id: string; function: { name: string; arguments: string } }[] | undefined) ?? [])
        priorCalls.push({ id: c.id, name: c.function.name, arguments: c.function.arguments });
    }
  } else {
    tools = ((body.tools as { name?: string }[] | undefined) ?? []).map((t) => t.name ?? "");
    const choice = body.tool_choice as { type?: string; name?: string } | undefined;
    toolChoice = !choice
      ? null
      : choice.type === "any"
        ? "required"
        : choice.type === "tool"
          ? (choice.name ?? null)
          : (choice.type ?? null);
    for (const m of messages) {
      if (!Array.isArray(m.content)) continue;
      for (const part of m.content as Record<string, unknown>[]) {
        if (part.type === "tool_result")
          toolResults.push({ toolCallId: String(part.tool_use_id), content: textOf(part.content) });
        if (part.type === "tool_use")
          priorCalls.push({
            id: String(part.id),
            name: String(part.name),
            arguments: JSON.stringify(part.input),
          });
      }
    }
  }
  return {
    protocol,
    model,
    prompt: textOf(firstUser?.content),
    tools,
    toolChoice,
    toolResults,
    priorCalls,
    body,
  };
}

/** Splits a string into pieces of at most `size` characters (arguments arrive in pieces, as providers send them). */
const pieces = (text: string, size = 8) =>
  text.length === 0
    ? [""]
    : Array.from({ length: Math.ceil(text.length / size) }, (_, k) => text.slice(k * size, (k + 1) * size));

/** The frames of a scripted answer; each tool-call piece or text word is one timed "token" frame. */
function scriptedFrames(
  protocol: "openai" | "anthropic",
  model: string | null,
  answer: StandinReply,
  prompt: number,
  seq: number,
): Frames {
  const calls = "toolCalls" in answer ? answer.toolCalls : [];
  const text = answer.text ?? "";
  const args = calls.map((c) =>
    typeof c.arguments === "string" ? c.arguments : JSON.stringify(c.arguments),
  );
  const id = (k: number) => (protocol === "openai" ? `call_${seq}_${k}` : `toolu_${seq}_${k}`);
  const textPieces = text ? text.split(/(?=\s)/) : [];
  const output = textPieces.length + args.reduce((n, a) => n + pieces(a).length, 0);
  if (protocol === "openai") {
    const created = Math.floor(Date.now() / 1000);
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
      data({
        id: "chatcmpl-standin",
        object: "chat.completion.chunk",
        created,
        model,
        choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      });
    const tokens = textPieces.map((w) => chunk({ content: w }));
    calls.forEach((c, k) => {
      pieces(args[k]!).forEach((piece, p) =>
        tokens.push(
          chunk({
            tool_calls: [
              p === 0
                ? { index: k, id: id(k), type: "function", function: { name: c.name, arguments: piece } }
                : { index: k, function: { arguments: piece } },
            ],
          }),
        ),
      );
    });
    const usage = { prompt_tokens: prompt, completion_tokens: output, total_tokens: prompt + output };
    return {
      head: [chunk({ role: "assistant", content: null })],
      tokens,
      tail: [
        chunk({}, calls.length ? "tool_calls" : "stop"),
        data({ id: "chatcmpl-standin", object: "chat.completion.chunk", created, model, choices: [], usage }),
        "data: [DONE]\n\n",
      ],
    };
  }
  const head = [
    event("message_start", {
      type: "message_start",
      message: {
        id: `msg_standin_${seq}`,
        type: "message",
        role: "assistant",
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: prompt, output_tokens: 1 },
      },
    }),
  ];
  const tokens: string[] = [];
  let index = 0;
  if (textPieces.length) {
    textPieces.forEach((w, k) =>
      tokens.push(
        (k === 0
          ? event("content_block_start", {
              type: "content_block_start",
              index,
              content_block: { type: "text", text: "" },
            })
          : "") +
          event("content_block_delta", {
            type: "content_block_delta",
            index,
            delta: { type: "text_delta", text: w },
          }),
      ),
    );
    tokens[tokens.length - 1] += event("content_block_stop", { type: "content_block_stop", index });
    index++;
  }
  calls.forEach((c, k) => {
    const block = index++;
    pieces(args[k]!).forEach((piece, p) =>
      tokens.push(
        (p === 0
          ? event("content_block_start", {
              type: "content_block_start",
              index: block,
              content_block: { type: "tool_use", id: id(k), name: c.name, input: {} },
            })
          : "") +
          event("content_block_delta", {
            type: "content_block_delta",
            index: block,
            delta: { type: "input_json_delta", partial_json: piece },
          }),
      ),
    );
    tokens[tokens.length - 1] += event("content_block_stop", { type: "content_block_stop", index: block });
  });
  const tail = [
    event("message_delta", {
      type: "message_delta",
      delta: { stop_reason: calls.length ? "tool_use" : "end_turn", stop_sequence: null },
      usage: { output_tokens: output },
    }),
    event("message_stop", { type: "message_stop" }),
  ];
  return { head, tokens, tail };
}

/** Prompt tokens as the provider would count them (cl100k_base over every text the request carries). */
function promptTokens(protocol: RecordedRequest["protocol"], body: Record<string, unknown> | null): number {
  if (!body) return 0;
  const texts: string[] = [];
  const collect = (content: unknown) => {
    if (typeof content === "string") texts.push(content);
    else if (Array.isArray(content))
      for (const part of content)
        collect((part as { text?: unknown }).text ?? (part as { content?: unknown }).content);
  };
  if (protocol === "gemini") {
    collect((body.systemInstruction as { parts?: unknown } | undefined)?.parts);
    for (const c of (body.contents as { parts?: unknown }[] | undefined) ?? []) collect(c.parts);
  } else {
    collect(body.system);
    for (const m of (body.messages as { content?: unknown }[] | undefined) ?? []) collect(m.content);
  }
  return texts.reduce((sum, t) => sum + countTokens(t), 0);
}

function receivedKey(req: IncomingMessage, url: URL): string | null {
  const auth = req.headers.authorization;
  if (auth?.startsWith("Bearer ")) return auth.slice(7);
  const header = req.headers["x-api-key"] ?? req.headers["x-goog-api-key"];
  if (typeof header === "string") return header;
  return url.searchParams.get("key");
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

export async function startLlmStandin(
  options: ConstructorParameters<typeof LlmStandin>[0] = {},
): Promise<LlmStandin> {
  return new LlmStandin(options).start();
}
