/**
 * The param tuner over real HTTP against the stand-in, whose scripted model answers well only at a low
 * temperature: every combination of the grid reaches the provider with its parameters, results are scored and
 * ranked, a large grid is sampled at random, refusals are 422/404, cancel stops it; and the combinations
 * themselves (grid order, ranges, random sampling) as exact lists.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { searchCombinations } from "../../src/modules/bench/engine/index.js";
import { startLlmStandin, type LlmStandin, type StandinChat } from "../support/llm-standin.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { registerUser, request, type SignedInUser } from "./helpers.js";
import { openEventStream } from "./sse.js";

let t: TestServer;
let standin: LlmStandin;
let admin: SignedInUser;

/** Right arguments at temperature ≤ 0.5, the wrong unit above. */
function script(chat: StandinChat) {
  const temperature = Number(chat.body.temperature ?? 1);
  if (chat.model === "slow")
    return { toolCalls: [{ name: "get_weather", arguments: { city: "x".repeat(400) } }] };
  return {
    toolCalls: [
      { name: "get_weather", arguments: { city: "Paris", unit: temperature <= 0.5 ? "celsius" : "kelvin" } },
    ],
  };
}

const suite = {
  name: "tune me",
  tools: [
    {
      type: "function",
      function: {
        name: "get_weather",
        parameters: { type: "object", properties: { city: { type: "string" }, unit: { type: "string" } } },
      },
    },
  ],
  test_cases: [
    {
      prompt: "Weather in Paris in celsius",
      expected_tool: "get_weather",
      expected_params: { city: "Paris", unit: "celsius" },
    },
    { prompt: "Paris weather, metric", expected_tool: "get_weather", expected_params: { unit: "celsius" } },
  ],
};

async function setUp(): Promise<{ user: SignedInUser; suiteId: string }> {
  const user = await registerUser(t);
  const post = (path: string, body: unknown) => request(t, "POST", path, { token: user.token, body });
  await post("/api/config/provider", {
    provider_key: "local",
    display_name: "Local",
    kind: "openai_compatible",
    model_id_prefix: "local",
    api_base: standin.baseUrl,
  });
  for (const id of ["m", "slow"]) await post("/api/config/model", { provider_key: "local", id });
  return { user, suiteId: (await post("/api/tool-eval/import", suite)).body.suite_id };
}

beforeAll(async () => {
  standin = await startLlmStandin({
    behaviour: { ttftMs: 5, tokensPerSecond: 1000, reply: script },
    models: { slow: { tokensPerSecond: 4 } },
  });
  t = await startTestServer({ env: { TRUSTED_PROXIES: "loopback", BENCH_HEARTBEAT_MS: "200" } });
  admin = await registerUser(t); // the first user: admin
}, 60_000);
afterAll(async () => {
  await t?.close();
  await standin?.close();
});

describe("search combinations", () => {
  it("expands lists and ranges into the grid, the last dimension fastest", () => {
    expect(searchCombinations({ temperature: { min: 0, max: 1, step: 0.5 }, top_p: [0.9, 1] }, 50)).toEqual({
      strategy: "grid",
      gridSize: 6,
      combos: [
        { temperature: 0, top_p: 0.9 },
        { temperature: 0, top_p: 1 },
        { temperature: 0.5, top_p: 0.9 },
        { temperature: 0.5, top_p: 1 },
        { temperature: 1, top_p: 0.9 },
        { temperature: 1, top_p: 1 },
      ],
    });
    // 0.1 steps land on exact decimals; duplicates in a list count once.
    expect(searchCombinations({ t: { min: 0.1, max: 0.3, step: 0.1 }, k: [1, 1] }, 50).combos).toEqual([
      { t: 0.1, k: 1 },
      { t: 0.2, k: 1 },
      { t: 0.3, k: 1 },
    ]);
  });
  it("samples distinct combinations at random above the limit", () => {
    const draws = [0.99, 0.0, 0.5, 0.0, 0.34];
    let i = 0;
    const sample = searchCombinations({ a: [1, 2, 3], b: ["x", "y"] }, 3, () => draws[i++]!);
    expect(sample).toEqual({
      strategy: "random",
      gridSize: 6,
      // grid indices 5, 0 and 3, listed in grid order
      combos: [
        { a: 1, b: "x" },
        { a: 2, b: "y" },
        { a: 3, b: "y" },
      ],
    });
  });
});

describe("POST /api/tool-eval/param-tune", () => {
  it("runs the suite once per combination, sends each combination's parameters, and ranks the results", async () => {
    const { user, suiteId } = await setUp();
    standin.reset();
    const stream = await openEventStream(t, user.token, "/api/tool-eval/param-tune", {
      suite_id: suiteId,
      models: ["local/m"],
      search_space: { temperature: { min: 0, max: 1, step: 0.5 }, top_p: [0.9, 1] },
    });
    expect(stream.status).toBe(200);
    await stream.ended;
    const events = stream.events.filter((e) => e.type !== "heartbeat");
    expect(events.map((e) => e.type)).toEqual([
      "tune_start",
      ...Array.from({ length: 6 }, () => ["combo_result", "tune_progress"]).flat(),
      "tune_complete",
    ]);
    expect(events[0]).toMatchObject({
      total_combos: 6,
      strategy: "grid",
      suite_name: "tune me",
      models: ["local/m"],
    });
    const combos = events.filter((e) => e.type === "combo_result");
    // Right at temperature 0 and 0.5; at 1 the unit is wrong: case 1 0.6 + 0.4 × 1/2 = 0.8, case 2 0.6 → 0.7.
    expect(
      combos.map((c) => [c.config.temperature, c.config.top_p, c.overall_score, c.cases_passed]),
    ).toEqual([
      [0, 0.9, 1, 2],
      [0, 1, 1, 2],
      [0.5, 0.9, 1, 2],
      [0.5, 1, 1, 2],
      [1, 0.9, 0.7, 0],
      [1, 1, 0.7, 0],
    ]);
    expect(combos[4]).toMatchObject({
      tool_accuracy: 100,
      param_accuracy: 25,
      cases_total: 2,
      model_id: "local/m",
    });
    expect(events.filter((e) => e.type === "tune_progress").map((e) => [e.completed, e.total])).toEqual(
      [1, 2, 3, 4, 5, 6].map((n) => [n, 6]),
    );
    const complete = events.at(-1);
    expect(complete).toMatchObject({
      best_config: { temperature: 0, top_p: 0.9 },
      best_model_id: "local/m",
      best_score: 1,
    });
    // Each combination reached the provider as it was (2 cases each).
    const sent = standin.requests
      .filter((r) => r.protocol === "openai")
      .map((r) => [r.body!.temperature, r.body!.top_p]);
    expect(sent).toEqual([
      [0, 0.9],
      [0, 0.9],
      [0, 1],
      [0, 1],
      [0.5, 0.9],
      [0.5, 0.9],
      [0.5, 1],
      [0.5, 1],
      [1, 0.9],
      [1, 0.9],
      [1, 1],
      [1, 1],
    ]);

    const history = await request(t, "GET", "/api/tool-eval/param-tune/history", { token: user.token });
    expect(history.body.runs[0]).toMatchObject({
      id: complete.tune_id,
      suite_id: suiteId,
      suite_name: "tune me",
      models_json: '["local/m"]',
      total_combos: 6,
      completed_combos: 6,
      best_score: 1,
      status: "completed",
    });
    const detail = await request(t, "GET", `/api/tool-eval/param-tune/history/${complete.tune_id}`, {
      token: user.token,
    });
    expect(detail.body).toMatchObject({ strategy: "grid", best_config: { temperature: 0, top_p: 0.9 } });
    expect(detail.body.results.map((r: any) => r.overall_score)).toEqual([1, 1, 1, 1, 0.7, 0.7]);
    const other = await registerUser(t);
    expect(
      (
        await request(t, "GET", `/api/tool-eval/param-tune/history/${complete.tune_id}`, {
          token: other.token,
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await request(t, "DELETE", `/api/tool-eval/param-tune/history/${complete.tune_id}`, {
          token: user.token,
        })
      ).body,
    ).toEqual({ status: "ok" });
  });

  it("samples a grid larger than max_combinations at random", async () => {
    const { user, suiteId } = await setUp();
    const stream = await openEventStream(t, user.token, "/api/tool-eval/param-tune", {
      suite_id: suiteId,
      models: ["local/m"],
      search_space: { temperature: { min: 0, max: 2, step: 0.1 }, top_p: [0.5, 0.8, 1] },
      max_combinations: 3,
    });
    await stream.ended;
    expect(stream.events[0]).toMatchObject({ type: "tune_start", total_combos: 3, strategy: "random" });
    const configs = stream.events
      .filter((e) => e.type === "combo_result")
      .map((e) => JSON.stringify(e.config));
    expect(new Set(configs).size).toBe(3);
    expect(stream.events.at(-1).type).toBe("tune_complete");
  });

  it("refuses bad requests before streaming, and cancel stops a tune", async () => {
    const { user, suiteId } = await setUp();
    const run = (body: unknown) =>
      request(t, "POST", "/api/tool-eval/param-tune", { token: user.token, body });
    for (const [body, loc] of [
      [{ suite_id: suiteId, models: ["local/m"], search_space: {} }, ["body", "search_space"]],
      [
        {
          suite_id: suiteId,
          models: ["local/m"],
          search_space: { temperature: { min: 1, max: 0, step: 0.1 } },
        },
        ["body", "search_space", "temperature"],
      ],
      [{ suite_id: suiteId, models: ["local/nope"], search_space: { temperature: [0] } }, ["body", "models"]],
    ] as const) {
      const res = await run(body);
      expect({ status: res.status, loc: res.body.detail?.[0]?.loc }).toEqual({ status: 422, loc });
    }
    expect(
      (
        await run({
          suite_id: "00000000-0000-4000-8000-000000000000",
          models: ["local/m"],
          search_space: { temperature: [0] },
        })
      ).status,
    ).toBe(404);

    standin.reset();
    const stream = await openEventStream(t, user.token, "/api/tool-eval/param-tune", {
      suite_id: suiteId,
      models: ["local/slow"],
      search_space: { temperature: [0, 1] },
    });
    await standin.waitFor(() => standin.activeStreams.length > 0, 10_000);
    expect((await request(t, "POST", "/api/tool-eval/param-tune/cancel", { token: user.token })).status).toBe(
      200,
    );
    await stream.ended;
    expect(stream.events.filter((e) => e.type !== "heartbeat").map((e) => e.type)).toEqual([
      "tune_start",
      "cancelled",
    ]);
    await standin.waitFor(() => standin.disconnects.length === 1);
    const id = stream.headers.get("x-tune-id");
    expect(
      (await request(t, "GET", `/api/tool-eval/param-tune/history/${id}`, { token: user.token })).body,
    ).toMatchObject({
      status: "cancelled",
      completed_combos: 0,
    });
  });
  it("counts evals and tunes in the hourly limit shared with benchmarks", async () => {
    const { user, suiteId } = await setUp();
    const limit = await request(t, "PUT", `/api/admin/users/${user.id}/rate-limit`, {
      token: admin.token,
      body: { benchmarks_per_hour: 2 },
    });
    expect(limit.status).toBe(200);
    const evalStream = await openEventStream(t, user.token, "/api/tool-eval", {
      suite_id: suiteId,
      models: ["local/m"],
    });
    await evalStream.ended;
    const tune = { suite_id: suiteId, models: ["local/m"], search_space: { temperature: [0] } };
    const first = await openEventStream(t, user.token, "/api/tool-eval/param-tune", tune);
    await first.ended;
    expect(first.events.at(-1).type).toBe("tune_complete");
    const refused = await request(t, "POST", "/api/tool-eval/param-tune", { token: user.token, body: tune });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toBe("Rate limit exceeded. Max 2 benchmarks per hour.");
    const evalRefused = await request(t, "POST", "/api/tool-eval", {
      token: user.token,
      body: { suite_id: suiteId, models: ["local/m"] },
    });
    expect(evalRefused.status).toBe(429);
  });
});
