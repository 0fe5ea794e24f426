/**
 * One tool-eval case against the stand-in over real HTTP, through each protocol's native tool calling: the
 * tools and tool_choice reach the provider in its own format, streamed tool calls (OpenAI `tool_calls` deltas,
 * Anthropic `tool_use` blocks) are read back and scored, and a multi-turn case feeds the case's mock results
 * back until the expected tool is called.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  runToolCase,
  type BenchTarget,
  type EvalCase,
  type EvalSettings,
  type ProviderKind,
} from "../../src/modules/bench/engine/index.js";
import { startLlmStandin, type LlmStandin, type StandinChat } from "../support/llm-standin.js";

let standin: LlmStandin;

const tools: EvalSettings["tools"] = [
  {
    type: "function",
    function: {
      name: "get_weather",
      description: "Weather for a city",
      parameters: {
        type: "object",
        properties: { city: { type: "string" }, unit: { type: "string" } },
        required: ["city"],
      },
    },
  },
  {
    type: "function",
    function: {
      name: "search_contacts",
      parameters: { type: "object", properties: { name: { type: "string" } } },
    },
  },
  {
    type: "function",
    function: {
      name: "create_event",
      parameters: { type: "object", properties: { title: { type: "string" }, email: { type: "string" } } },
    },
  },
];

/** The stand-in's script: what each prompt makes the "model" call. */
function script(chat: StandinChat) {
  if (chat.prompt.startsWith("weather"))
    return { toolCalls: [{ name: "get_weather", arguments: { city: "paris", unit: "kelvin" } }] };
  if (chat.prompt.startsWith("joke")) return { text: "Why did the penguin cross the road?" };
  if (chat.prompt.startsWith("broken"))
    return { toolCalls: [{ name: "get_weather", arguments: '{"city": "Par' }] };
  if (chat.prompt.startsWith("book")) {
    // Round 1: look the contact up; round 2 (after the mock result): book with the email it returned.
    const result = chat.toolResults.at(-1);
    if (!result) return { toolCalls: [{ name: "search_contacts", arguments: { name: "Ada" } }] };
    const { email } = JSON.parse(result.content) as { email: string };
    return { toolCalls: [{ name: "create_event", arguments: { title: "Review", email } }] };
  }
  if (chat.prompt.startsWith("loop"))
    return { toolCalls: [{ name: "search_contacts", arguments: { name: "x" } }] };
  return null;
}

beforeAll(async () => {
  standin = await startLlmStandin({ behaviour: { ttftMs: 5, tokensPerSecond: 2000, reply: script } });
});
afterAll(async () => {
  await standin?.close();
});

const target = (kind: ProviderKind): BenchTarget => ({
  providerKey: kind,
  providerName: kind,
  modelId: `${kind}/m`,
  modelName: "m",
  connection: { kind, apiBase: standin.baseUrl, apiKey: "sk-test", model: "m" },
  contextWindow: 32000,
  timeoutMs: 30_000,
});

const settings = (toolChoice: EvalSettings["toolChoice"] = "required"): EvalSettings => ({
  tools,
  toolChoice,
  temperature: 0,
  maxTokens: 256,
});

const single = (
  id: string,
  prompt: string,
  expectedTool: EvalCase["expectedTool"],
  expectedParams: EvalCase["expectedParams"],
): EvalCase => ({
  id,
  prompt,
  expectedTool,
  expectedParams,
  multiTurn: null,
});

describe.each(["openai", "openai_compatible", "anthropic"] as const)("tool calls over %s", (kind) => {
  it("sends the tools and tool_choice natively, reads the streamed call and scores it", async () => {
    standin.reset();
    const result = await runToolCase(
      target(kind),
      single("c1", "weather in Paris", "get_weather", { city: "Paris", unit: "celsius" }),
      settings("required"),
      new AbortController().signal,
    );
    expect(result).toMatchObject({
      success: true,
      error: null,
      actual_tool: "get_weather",
      actual_params: { city: "paris", unit: "kelvin" },
      tool_selection_score: 1,
      param_accuracy: 0.5,
      overall_score: 0.8,
    });
    const body = standin.requests.at(-1)!.body!;
    if (kind === "anthropic") {
      expect((body.tools as any[]).map((t) => t.name)).toEqual([
        "get_weather",
        "search_contacts",
        "create_event",
      ]);
      expect((body.tools as any[])[0].input_schema.properties.city).toEqual({ type: "string" });
      expect(body.tool_choice).toEqual({ type: "any" });
    } else {
      expect((body.tools as any[]).map((t) => t.function.name)).toEqual([
        "get_weather",
        "search_contacts",
        "create_event",
      ]);
      expect(body.tool_choice).toBe("required");
    }
    expect(result.raw_request).toEqual(body);
    expect(result.raw_response?.tool_calls).toEqual([
      { id: expect.any(String), name: "get_weather", arguments: { city: "paris", unit: "kelvin" } },
    ]);
  });

  it("honours tool_choice auto and scores a text answer where no call was expected", async () => {
    standin.reset();
    const result = await runToolCase(
      target(kind),
      single("c2", "joke please", null, null),
      settings("auto"),
      new AbortController().signal,
    );
    expect(result).toMatchObject({
      success: true,
      actual_tool: null,
      tool_selection_score: 1,
      param_accuracy: null,
      overall_score: 1,
    });
    expect(result.raw_response?.content).toBe("Why did the penguin cross the road?");
    const body = standin.requests.at(-1)!.body!;
    expect(body.tool_choice).toEqual(kind === "anthropic" ? { type: "auto" } : "auto");
  });

  it("keeps a call whose arguments are not JSON, with no parameters to score", async () => {
    const result = await runToolCase(
      target(kind),
      single("c3", "broken args", "get_weather", { city: "Paris" }),
      settings(),
      new AbortController().signal,
    );
    expect(result).toMatchObject({
      success: true,
      actual_tool: "get_weather",
      actual_params: null,
      tool_selection_score: 1,
      param_accuracy: 0,
      overall_score: 0.6,
    });
  });

  it("multi-turn: feeds the case's mock result back and stops at the expected tool", async () => {
    standin.reset();
    const result = await runToolCase(
      target(kind),
      {
        id: "c4",
        prompt: "book a review with Ada",
        expectedTool: "create_event",
        expectedParams: { title: "Review", email: "ada@example.com" },
        multiTurn: {
          max_rounds: 5,
          optimal_hops: 2,
          valid_prerequisites: ["search_contacts"],
          mock_responses: { search_contacts: { email: "ada@example.com" } },
        },
      },
      settings(),
      new AbortController().signal,
    );
    expect(result).toMatchObject({
      success: true,
      multi_turn: true,
      rounds_used: 2,
      tool_chain: [
        { tool_name: "search_contacts", params: { name: "Ada" }, round: 1 },
        { tool_name: "create_event", params: { title: "Review", email: "ada@example.com" }, round: 2 },
      ],
      actual_tool: "create_event",
      completion_score: 1,
      efficiency_score: 1,
      redundancy_penalty: 0,
      detour_penalty: 0,
      overall_score: 1,
    });
    expect(result.raw_exchanges).toHaveLength(2);
    expect(standin.requests.filter((r) => r.protocol !== "other")).toHaveLength(2);
  });

  it("multi-turn: a model that never reaches the expected tool uses every round and is penalised", async () => {
    const result = await runToolCase(
      target(kind),
      {
        id: "c5",
        prompt: "loop forever",
        expectedTool: "create_event",
        expectedParams: null,
        multiTurn: { max_rounds: 3, optimal_hops: 2, valid_prerequisites: [], mock_responses: {} },
      },
      settings(),
      new AbortController().signal,
    );
    expect(result).toMatchObject({
      rounds_used: 3,
      completion_score: 0,
      efficiency_score: 0.6667,
      redundancy_penalty: 0.2,
      detour_penalty: 0.2,
      overall_score: 0,
      actual_tool: "search_contacts",
    });
    expect(result.tool_chain).toHaveLength(3);
  });
});

it("a provider error is a failed result with the key scrubbed, not a throw", async () => {
  const failing = await startLlmStandin({
    apiKey: "sk-right-key-123456",
    behaviour: { echoKeyInErrors: true },
  });
  try {
    const t = {
      ...target("openai"),
      connection: { ...target("openai").connection, apiBase: failing.baseUrl, apiKey: "sk-wrong-key-987654" },
    };
    const result = await runToolCase(
      t,
      single("c6", "weather", "get_weather", null),
      settings(),
      new AbortController().signal,
    );
    expect(result.success).toBe(false);
    expect(result.error).toMatch(/^\[auth_failed\]/);
    expect(result.error).not.toContain("sk-wrong-key-987654");
    expect(result.overall_score).toBe(0);
  } finally {
    await failing.close();
  }
});
