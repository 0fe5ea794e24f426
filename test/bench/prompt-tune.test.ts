/**
 * The prompt tuner over real HTTP against the stand-in: a scripted meta model proposes system prompts (JSON in
 * its reply), a scripted target model calls tools well only under some prompts, so every score, the best per
 * generation and the survivors are exact; evolutionary mode feeds the survivors back to the meta model; the
 * estimate matches the calls really made and its cost follows the prices; refusals (above max_api_calls,
 * unknown models, no suite), a meta reply without prompts, history, cancel.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseProposedPrompts } from "../../src/modules/bench/engine/prompt-tune.js";
import { startLlmStandin, type LlmStandin, type StandinChat } from "../support/llm-standin.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { registerUser, request, type SignedInUser } from "./helpers.js";
import { openEventStream } from "./sse.js";

let t: TestServer;
let standin: LlmStandin;
let user: SignedInUser;
let suiteId: string;

const GEN1 = [
  { style: "concise", prompt: "Be brief." },
  { style: "strict", prompt: "ALWAYS call a tool." },
  { style: "detailed", prompt: "Think, then ALWAYS use tools with exact arguments." },
];
const GEN2 = [
  {
    parent_index: 0,
    mutation_type: "conservative",
    prompt: "ALWAYS use tools, exact arguments, no chatter.",
  },
  { parent_index: 1, mutation_type: "bold", prompt: "Use tools." },
];
const metaPrompts: string[] = [];

function script(chat: StandinChat) {
  if (chat.model === "meta") {
    metaPrompts.push(chat.prompt);
    if (chat.prompt.includes("SAY NOTHING")) return { text: "I would rather not." };
    const evolve = chat.prompt.startsWith("You improve system prompts");
    // A code fence and a sentence around the JSON, as models do.
    return { text: `Here you go:\n\`\`\`json\n${JSON.stringify({ prompts: evolve ? GEN2 : GEN1 })}\n\`\`\`` };
  }
  const system = String(((chat.body.messages as any[]).find((m) => m.role === "system") ?? {}).content ?? "");
  if (!system.includes("ALWAYS")) return { text: "Sure." };
  const city = system.includes("exact") ? "Paris" : "London";
  return { toolCalls: [{ name: "get_weather", arguments: { city } }] };
}

beforeAll(async () => {
  standin = await startLlmStandin({
    behaviour: { ttftMs: 2, tokensPerSecond: 5000, reply: script },
    models: { slow: { ttftMs: 400, tokensPerSecond: 10, outputTokens: 50, reply: null } },
  });
  t = await startTestServer({ env: { TRUSTED_PROXIES: "loopback", BENCH_HEARTBEAT_MS: "200" } });
  user = await registerUser(t);
  const post = (path: string, body: unknown) => request(t, "POST", path, { token: user.token, body });
  await post("/api/config/provider", {
    provider_key: "local",
    display_name: "Local",
    kind: "openai_compatible",
    model_id_prefix: "local",
    api_base: standin.baseUrl,
  });
  for (const id of ["meta", "m", "m2", "slow"])
    await post("/api/config/model", {
      provider_key: "local",
      id,
      input_cost_per_mtok: 2,
      output_cost_per_mtok: 8,
    });
  const imported = await post("/api/tool-eval/import", {
    name: "weather",
    tools: [
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "Weather of a city",
          parameters: { type: "object", properties: { city: { type: "string" } } },
        },
      },
    ],
    test_cases: [
      { prompt: "Weather in Paris?", expected_tool: "get_weather", expected_params: { city: "Paris" } },
      { prompt: "Is it raining in Paris?", expected_tool: "get_weather", expected_params: { city: "Paris" } },
    ],
  });
  suiteId = imported.body.suite_id;
}, 60_000);
afterAll(async () => {
  await t?.close();
  await standin?.close();
});

const get = (path: string) => request(t, "GET", path, { token: user.token });

describe("reading the meta model's reply", () => {
  it("takes the prompts from JSON inside text or a fence, or a bare list; skips empty ones", () => {
    expect(parseProposedPrompts('{"prompts":[{"style":"a","prompt":"x"}]}', 5)).toEqual([
      { prompt: "x", style: "a", parent_index: null },
    ]);
    expect(parseProposedPrompts('Sure! [{"prompt":" y "},{"prompt":""},{"style":"b"}] done', 5)).toEqual([
      { prompt: "y", style: "variant", parent_index: null },
    ]);
    expect(
      parseProposedPrompts('{"prompts":[{"parent_index":7,"mutation_type":"bold","prompt":"z"}]}', 5, 2),
    ).toEqual([{ prompt: "z", style: "bold", parent_index: 0 }]);
    expect(parseProposedPrompts("no json here", 5)).toEqual([]);
    expect(parseProposedPrompts(JSON.stringify({ prompts: GEN1 }), 2)).toHaveLength(2);
  });
});

describe("estimate", () => {
  it("counts calls as upstream does, and tokens and cost from the suite and the prices", async () => {
    const quick = await get(`/api/tool-eval/prompt-tune/estimate?suite_id=${suiteId}&population_size=3`);
    expect(quick.status).toBe(200);
    expect(quick.body).toMatchObject({
      total_prompt_generations: 3,
      total_eval_calls: 6,
      total_meta_calls: 1,
      total_api_calls: 7,
      estimated_cost: null, // no models named: no prices
      estimated_duration_s: 5 + 6 * 2,
      max_api_calls: 100,
      warning: null,
    });
    const evo = await get(
      `/api/tool-eval/prompt-tune/estimate?suite_id=${suiteId}&mode=evolutionary&population_size=2&generations=2` +
        `&target_models=local/m,local/m2&meta_model=local/meta`,
    );
    expect(evo.body).toMatchObject({
      total_prompt_generations: 4,
      total_eval_calls: 16,
      total_meta_calls: 2,
      total_api_calls: 18,
      // 60 per eval call, 150 per proposed prompt
      estimated_output_tokens: 16 * 60 + 2 * 2 * 150,
    });
    expect(evo.body.estimated_input_tokens).toBeGreaterThan(16 * 20);
    // Every model priced $2 in / $8 out per million tokens.
    expect(evo.body.estimated_cost).toBeCloseTo(
      (evo.body.estimated_input_tokens * 2 + evo.body.estimated_output_tokens * 8) / 1e6,
      9,
    );
    expect(
      (await get(`/api/tool-eval/prompt-tune/estimate?suite_id=${suiteId}&population_size=0`)).status,
    ).toBe(422);
    expect(
      (await get(`/api/tool-eval/prompt-tune/estimate?suite_id=${suiteId}&meta_model=nope`)).status,
    ).toBe(422);
    expect(
      (await get("/api/tool-eval/prompt-tune/estimate?suite_id=3f1c2a9e-8b7d-4c6e-9a5f-1e2d3c4b5a69")).status,
    ).toBe(404);
    expect((await request(t, "GET", `/api/tool-eval/prompt-tune/estimate?suite_id=${suiteId}`)).status).toBe(
      401,
    );
  });
});

describe("a prompt tune", () => {
  it("quick: scores each proposed prompt on the suite and names the best, with the calls the estimate said", async () => {
    standin.reset();
    metaPrompts.length = 0;
    const estimate = (await get(`/api/tool-eval/prompt-tune/estimate?suite_id=${suiteId}&population_size=3`))
      .body;
    const stream = await openEventStream(t, user.token, "/api/tool-eval/prompt-tune", {
      suite_id: suiteId,
      target_models: ["local/m"],
      meta_model: "local/meta",
      mode: "quick",
      base_prompt: "You answer weather questions.",
      config: { population_size: 3 },
    });
    expect(stream.status).toBe(200);
    await stream.ended;
    // Heartbeats come whenever the stream is quiet for 200 ms (a loaded machine): not part of the order.
    const events = stream.events.filter((e) => e.type !== "heartbeat");
    const types = events.map((e) => e.type);
    expect(types).toEqual([
      "tune_start",
      "generation_start",
      "prompt_generated",
      "prompt_generated",
      "prompt_generated",
      ...Array(3).fill(["prompt_eval_start", "prompt_eval_result"]).flat(),
      "generation_complete",
      "tune_complete",
    ]);
    expect(events[0]).toMatchObject({
      mode: "quick",
      total_prompts: 3,
      total_eval_calls: 6,
      suite_name: "weather",
    });
    expect(events[2]).toMatchObject({
      generation: 1,
      prompt_index: 0,
      prompt_text: "Be brief.",
      style: "concise",
    });
    // No tool call: 0; right tool, wrong city: 0.6 × 1 + 0.4 × 0; right tool and city: 1.
    expect(events.filter((e) => e.type === "prompt_eval_result").map((e) => e.overall_score)).toEqual([
      0, 0.6, 1,
    ]);
    expect(events.find((e) => e.type === "generation_complete")).toEqual({
      type: "generation_complete",
      generation: 1,
      best_score: 1,
      best_prompt_index: 2,
      survivors: [2, 1], // ceil(3 × 0.4) = 2, best first
    });
    const done = events.at(-1);
    expect(done).toMatchObject({ best_prompt: GEN1[2]!.prompt, best_score: 1 });
    expect(metaPrompts[0]).toContain('Prompt to improve on: "You answer weather questions."');
    expect(metaPrompts[0]).toContain("get_weather (Weather of a city)");
    expect(standin.requests.filter((r) => r.protocol === "openai")).toHaveLength(estimate.total_api_calls);

    const stored = await get(`/api/tool-eval/prompt-tune/history/${done.tune_id}`);
    expect(stored.body).toMatchObject({
      status: "completed",
      mode: "quick",
      meta_model: "local/meta",
      target_models_json: '["local/m"]',
      best_prompt: GEN1[2]!.prompt,
      best_score: 1,
      total_prompts: 3,
      completed_prompts: 3,
    });
    expect(stored.body.generations[0].prompts.map((p: any) => p.avg_score)).toEqual([0, 0.6, 1]);
    const list = await get("/api/tool-eval/prompt-tune/history");
    expect(list.body.runs[0]).toMatchObject({ id: done.tune_id, status: "completed", best_score: 1 });
  });

  it("evolutionary: the survivors go back to the meta model, which mutates them; the best over generations wins", async () => {
    metaPrompts.length = 0;
    const stream = await openEventStream(t, user.token, "/api/tool-eval/prompt-tune", {
      suite_id: suiteId,
      target_models: ["local/m", "local/m2"],
      meta_model: "local/meta",
      mode: "evolutionary",
      config: { population_size: 2, generations: 2, selection_ratio: 0.5 },
    });
    await stream.ended;
    expect(metaPrompts).toHaveLength(2);
    // Generation 1 proposes three; only population_size (2) are kept: "Be brief." (0) and "ALWAYS call a tool." (0.6).
    expect(metaPrompts[1]).toContain("[0] ALWAYS call a tool.");
    expect(metaPrompts[1]).not.toContain("Be brief.");
    const completes = stream.events.filter((e) => e.type === "generation_complete");
    expect(completes.map((e) => [e.generation, e.best_score, e.best_prompt_index, e.survivors])).toEqual([
      [1, 0.6, 1, [1]],
      [2, 1, 0, [0]],
    ]);
    const gen2 = stream.events.filter((e) => e.type === "prompt_generated" && e.generation === 2);
    expect(gen2.map((e) => [e.style, e.parent_prompt])).toEqual([
      ["conservative", "ALWAYS call a tool."],
      ["bold", "ALWAYS call a tool."], // parent_index 1 is out of range for one parent: the first
    ]);
    // Two target models: two results per prompt.
    expect(stream.events.filter((e) => e.type === "prompt_eval_result")).toHaveLength(8);
    expect(stream.events.at(-1)).toMatchObject({
      type: "tune_complete",
      best_prompt: GEN2[0]!.prompt,
      best_score: 1,
    });
  });

  it("refuses above max_api_calls, unknown models and suites (before any call); a reply without prompts fails", async () => {
    const base = { suite_id: suiteId, target_models: ["local/m"], meta_model: "local/meta" };
    const put = await request(t, "PUT", "/api/settings/phase10", {
      token: user.token,
      body: { prompt_tuner: { max_api_calls: 5 } },
    });
    expect(put.status).toBe(200);
    standin.reset();
    const over = await request(t, "POST", "/api/tool-eval/prompt-tune", {
      token: user.token,
      body: { ...base, config: { population_size: 3 } },
    });
    expect(over.status).toBe(422);
    expect(over.text).toContain("config");
    expect(over.text).toContain("7 API calls");
    expect(standin.requests).toHaveLength(0);
    await request(t, "PUT", "/api/settings/phase10", {
      token: user.token,
      body: { prompt_tuner: { max_api_calls: 100 } },
    });

    const badMeta = await request(t, "POST", "/api/tool-eval/prompt-tune", {
      token: user.token,
      body: { ...base, meta_model: "local/none" },
    });
    expect(badMeta.status).toBe(422);
    expect(badMeta.text).toContain("meta_model");
    const noSuite = await request(t, "POST", "/api/tool-eval/prompt-tune", {
      token: user.token,
      body: { ...base, suite_id: "3f1c2a9e-8b7d-4c6e-9a5f-1e2d3c4b5a69" },
    });
    expect(noSuite.status).toBe(404);

    const silent = await openEventStream(t, user.token, "/api/tool-eval/prompt-tune", {
      ...base,
      base_prompt: "SAY NOTHING",
      config: { population_size: 2 },
    });
    await silent.ended;
    expect(silent.events.at(-1)).toEqual({
      type: "error",
      message: "Tune failed: the meta model's reply held no prompts (twice)",
    });
    const id = silent.headers.get("x-tune-id");
    expect((await get(`/api/tool-eval/prompt-tune/history/${id}`)).body).toMatchObject({ status: "failed" });
  });

  it("cancel stops the calls in flight and keeps what was scored", async () => {
    standin.reset();
    const stream = await openEventStream(t, user.token, "/api/tool-eval/prompt-tune", {
      suite_id: suiteId,
      target_models: ["local/slow"],
      meta_model: "local/meta",
      config: { population_size: 2 },
    });
    await stream.waitFor((e) => e.type === "prompt_eval_start");
    await standin.waitFor(() => standin.activeStreams.length > 0);
    const busy = await request(t, "POST", "/api/tool-eval/prompt-tune", {
      token: user.token,
      body: { suite_id: suiteId, target_models: ["local/m"], meta_model: "local/meta" },
    });
    expect(busy.status).toBe(409);
    const cancel = await request(t, "POST", "/api/tool-eval/prompt-tune/cancel", { token: user.token });
    expect(cancel.body.status).toBe("ok");
    await stream.ended;
    expect(stream.events.at(-1)).toEqual({ type: "cancelled" });
    await standin.waitFor(() => standin.disconnects.length === 1);
    const id = stream.headers.get("x-tune-id");
    const stored = await get(`/api/tool-eval/prompt-tune/history/${id}`);
    expect(stored.body).toMatchObject({ status: "cancelled", completed_prompts: 0 });
    // The generation under way is kept with the prompts proposed, none scored yet.
    expect(stored.body.generations[0].prompts.map((p: any) => p.avg_score)).toEqual([null, null]);
    expect(
      (await request(t, "DELETE", `/api/tool-eval/prompt-tune/history/${id}`, { token: user.token })).status,
    ).toBe(200);
    expect((await get(`/api/tool-eval/prompt-tune/history/${id}`)).status).toBe(404);
  });
});
