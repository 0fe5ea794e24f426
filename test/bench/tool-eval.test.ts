/**
 * Tool evals over real HTTP against the stand-in answering with scripted tool calls, through an
 * OpenAI-compatible and an Anthropic provider: the event stream in upstream's order and fields, scores as the
 * notes say (recomputed here by hand), multi-turn cases fed the case's own mock results, per-model summaries,
 * history, refusals before the stream opens (404, 422 naming the field, 409 shared with benchmarks), and
 * cancel closing the provider's stream.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startLlmStandin,
  type LlmStandin,
  type StandinChat,
  type StandinReply,
} from "../support/llm-standin.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { registerUser, request, type SignedInUser } from "./helpers.js";
import { openBenchmark, openEventStream } from "./sse.js";

let t: TestServer;
let standin: LlmStandin;

const example = JSON.parse(readFileSync("docs/bench-tool-suite.example.json", "utf8"));

/**
 * What each model answers to each case of the example suite. `good` (and the Anthropic `claude`) answers every
 * case right; `bad` gets some wrong in known ways; `slow` streams long arguments (to be cancelled).
 */
function script(chat: StandinChat): StandinReply | null {
  const good = chat.model === "good" || chat.model === "claude";
  if (chat.model === "slow")
    return { toolCalls: [{ name: "get_weather", arguments: { city: "x".repeat(400) } }] };
  const p = chat.prompt;
  if (p.startsWith("What's the weather"))
    return {
      toolCalls: [
        { name: "get_weather", arguments: { city: "paris", unit: good ? "Celsius" : "fahrenheit" } },
      ],
    };
  if (p.startsWith("Find Ada"))
    return { toolCalls: [{ name: good ? "search_contacts" : "get_weather", arguments: { name: "Ada" } }] };
  if (p.startsWith("Tell me a joke"))
    return good
      ? { text: "Penguins wear tuxedos." }
      : { toolCalls: [{ name: "get_weather", arguments: { city: "x" } }] };
  if (p.startsWith("Book")) {
    const result = chat.toolResults.at(-1);
    // `bad` looks the contact up twice, then books on the wrong date.
    if (!result || (!good && chat.toolResults.length < 2))
      return { toolCalls: [{ name: "search_contacts", arguments: { name: "Ada Lovelace" } }] };
    const { email } = JSON.parse(result.content) as { email: string };
    return {
      toolCalls: [
        {
          name: "create_event",
          arguments: {
            title: "Design review",
            attendee_email: email,
            date: good ? "2026-12-10" : "2026-12-11",
          },
        },
      ],
    };
  }
  return null;
}

async function userWithModels(): Promise<SignedInUser> {
  const user = await registerUser(t);
  const post = (path: string, body: unknown) => request(t, "POST", path, { token: user.token, body });
  for (const provider of [
    { provider_key: "local", display_name: "Local", kind: "openai_compatible", model_id_prefix: "local" },
    { provider_key: "claude", display_name: "Claude", kind: "anthropic", model_id_prefix: "claude" },
  ])
    expect((await post("/api/config/provider", { ...provider, api_base: standin.baseUrl })).status).toBe(200);
  for (const [provider_key, id] of [
    ["local", "good"],
    ["local", "bad"],
    ["local", "slow"],
    ["claude", "claude"],
  ])
    expect((await post("/api/config/model", { provider_key, id })).status).toBe(200);
  return user;
}

async function importExample(user: SignedInUser): Promise<string> {
  const res = await request(t, "POST", "/api/tool-eval/import", { token: user.token, body: example });
  expect(res.status).toBe(200);
  return res.body.suite_id;
}

beforeAll(async () => {
  standin = await startLlmStandin({
    behaviour: { ttftMs: 5, tokensPerSecond: 1000, reply: script },
    models: { slow: { ttftMs: 5, tokensPerSecond: 4 } },
  });
  t = await startTestServer({ env: { TRUSTED_PROXIES: "loopback", BENCH_HEARTBEAT_MS: "200" } });
}, 60_000);
afterAll(async () => {
  await t?.close();
  await standin?.close();
});

describe("POST /api/tool-eval", () => {
  it("streams progress before each result, scores every case, summarises each model and stores the eval", async () => {
    const user = await userWithModels();
    const suiteId = await importExample(user);
    const cases = (await request(t, "GET", `/api/tool-suites/${suiteId}/cases`, { token: user.token })).body
      .cases;
    standin.reset();
    const stream = await openEventStream(t, user.token, "/api/tool-eval", {
      suite_id: suiteId,
      models: ["local/good", "local/bad", "claude/claude"],
      temperature: 0,
      tool_choice: "required",
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toMatch(/^text\/event-stream/);
    await stream.ended;
    expect(stream.lines.every((line) => line.startsWith("data: "))).toBe(true);
    const events = stream.events.filter((e) => e.type !== "heartbeat");
    const types = events.map((e) => e.type);
    // 3 models × 4 cases: progress then result each time, then the summaries, then complete.
    expect(types).toEqual([
      ...Array.from({ length: 12 }, () => ["progress", "result"]).flat(),
      "model_summary",
      "model_summary",
      "model_summary",
      "complete",
    ]);
    events
      .filter((e) => e.type === "progress")
      .forEach((p, i) => {
        expect(p).toMatchObject({ current: i + 1, total: 12 });
        expect(events[events.indexOf(p) + 1]).toMatchObject({
          model_id: p.model_id,
          test_case_id: p.test_case,
        });
      });
    const results = events.filter((e) => e.type === "result");
    const of = (model: string) => results.filter((r) => r.model_id === model);
    // Cases of one model in the suite's order; models of one provider in sequence.
    expect(of("local/bad").map((r) => r.test_case_id)).toEqual(cases.map((c: any) => c.id));
    expect(results.findIndex((r) => r.model_id === "local/bad")).toBeGreaterThan(
      results.findLastIndex((r) => r.model_id === "local/good"),
    );

    for (const model of ["local/good", "claude/claude"]) {
      expect(of(model).map((r) => [r.tool_selection_score, r.param_accuracy, r.overall_score])).toEqual([
        [1, 1, 1], // strings compare case-insensitively
        [1, null, 1], // one of the acceptable tools, no parameters expected
        [1, null, 1], // no call expected, none made
        [1, 1, 1], // multi-turn: lookup then booking, optimal
      ]);
      expect(of(model)[3]).toMatchObject({ multi_turn: true, rounds_used: 2, efficiency_score: 1 });
    }
    const bad = of("local/bad");
    expect(bad[0]).toMatchObject({
      actual_tool: "get_weather",
      actual_params: { city: "paris", unit: "fahrenheit" },
      tool_selection_score: 1,
      param_accuracy: 0.5,
      overall_score: 0.8, // 0.6 × 1 + 0.4 × 0.5
      success: true,
      error: null,
    });
    expect(bad[1]).toMatchObject({ actual_tool: "get_weather", tool_selection_score: 0, overall_score: 0 });
    expect(bad[2]).toMatchObject({ expected_tool: null, actual_tool: "get_weather", overall_score: 0 });
    // search, search again (a repeat), book with 2 of 3 parameters: (0.6 + 0.4 × 2/3) × 2/3 − 0.1 = 0.4778
    expect(bad[3]).toMatchObject({
      multi_turn: true,
      rounds_used: 3,
      tool_chain: [
        { tool_name: "search_contacts", round: 1 },
        { tool_name: "search_contacts", round: 2 },
        { tool_name: "create_event", round: 3 },
      ],
      completion_score: 0.8667,
      efficiency_score: 0.6667,
      redundancy_penalty: 0.1,
      detour_penalty: 0,
      overall_score: 0.4778,
      tool_selection_score: 1,
      param_accuracy: 0.6667,
    });
    expect(bad[3].raw_exchanges).toHaveLength(3);

    const summaries = events.filter((e) => e.type === "model_summary");
    expect(summaries.find((s) => s.model_id === "local/bad")).toEqual({
      type: "model_summary",
      model_id: "local/bad",
      model_name: "local/bad", // the display name (the id, when none was given)
      provider: "Local",
      provider_key: "local",
      tool_accuracy_pct: 50, // 1, 0, 0, 1
      param_accuracy_pct: 58.3, // (0.5 + 0.6667) / 2
      overall_pct: 31.9, // (0.8 + 0 + 0 + 0.4778) / 4
      cases_run: 4,
      cases_passed: 0,
    });
    expect(summaries.find((s) => s.model_id === "claude/claude")).toMatchObject({
      provider: "Claude",
      tool_accuracy_pct: 100,
      param_accuracy_pct: 100,
      overall_pct: 100,
      cases_passed: 4,
    });

    // The provider got the suite's tools and tool_choice in its own format, and the case's mock result back.
    const anthropic = standin.requests.filter((r) => r.protocol === "anthropic");
    expect(anthropic.length).toBe(5); // 3 single-turn + 2 rounds
    expect(anthropic[0]!.body!.tool_choice).toEqual({ type: "any" });
    expect((anthropic[0]!.body!.tools as any[]).map((tool) => tool.name)).toEqual([
      "get_weather",
      "search_contacts",
      "create_event",
    ]);
    const openai = standin.requests.filter((r) => r.protocol === "openai");
    expect(openai.every((r) => r.body!.tool_choice === "required")).toBe(true);
    const fedBack = openai
      .flatMap((r) => (r.body!.messages as any[]).filter((m) => m.role === "tool"))
      .map((m) => JSON.parse(m.content));
    expect(fedBack).toContainEqual({ name: "Ada Lovelace", email: "ada@example.com" });

    // History: listed with the summaries; the detail has every result as streamed.
    const complete = events.at(-1);
    const history = await request(t, "GET", "/api/tool-eval/history", { token: user.token });
    expect(history.body.runs[0]).toMatchObject({
      id: complete.eval_id,
      suite_id: suiteId,
      suite_name: example.name,
      models: ["local/good", "local/bad", "claude/claude"],
      temperature: 0,
      tool_choice: "required",
      status: "completed",
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/),
    });
    expect(history.body.runs[0].summary).toEqual(summaries.map(({ type: _t, ...s }) => s));
    const detail = await request(t, "GET", `/api/tool-eval/history/${complete.eval_id}`, {
      token: user.token,
    });
    expect(detail.body).toMatchObject({ user_id: user.id, error: null });
    expect(detail.body.results).toEqual(results);
    // The tool-eval leaderboard and exports read the stored summaries.
    const board = await request(t, "GET", "/api/analytics/leaderboard?type=tool_eval&period=7d", {
      token: user.token,
    });
    expect(board.body.models.map((m: any) => [m.model_id, m.avg_overall_pct, m.total_evals])).toEqual([
      ["claude/claude", 100, 1],
      ["local/good", 100, 1],
      ["local/bad", 31.9, 1],
    ]);
    expect(board.body.models[2]).toMatchObject({
      provider: "Local",
      avg_tool_pct: 50,
      avg_param_pct: 58.3,
      last_eval: history.body.runs[0].timestamp,
    });
    const csv = await request(t, "GET", "/api/export/tool-eval", { token: user.token });
    expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
    const lines = csv.text.trim().split("\n");
    expect(lines[0]).toBe(
      "timestamp,suite_name,model,provider,tool_accuracy_pct,param_accuracy_pct,overall_pct,cases_run,cases_passed,eval_id,model_id",
    );
    expect(lines).toContain(
      `${history.body.runs[0].timestamp},${example.name},local/bad,Local,50,58.3,31.9,4,0,${complete.eval_id},local/bad`,
    );
    const boardCsv = await request(t, "GET", "/api/export/leaderboard?type=tool_eval", { token: user.token });
    expect(boardCsv.text.split("\n")[0]).toBe(
      "rank,model,provider,avg_tool_pct,avg_param_pct,avg_overall_pct,total_evals,last_eval",
    );
    const exported = await request(t, "GET", `/api/export/eval/${complete.eval_id}`, { token: user.token });
    expect(exported.headers.get("content-disposition")).toBe(
      `attachment; filename="tool_eval_${complete.eval_id}.json"`,
    );
    expect(exported.body).toMatchObject({
      eval_id: complete.eval_id,
      suite_name: example.name,
      models: ["local/good", "local/bad", "claude/claude"],
      temperature: 0,
    });
    expect(exported.body.results).toEqual(results);
    expect(exported.body.summary).toEqual(history.body.runs[0].summary);

    const other = await registerUser(t);
    expect(
      (await request(t, "GET", `/api/tool-eval/history/${complete.eval_id}`, { token: other.token })).status,
    ).toBe(404);
    expect((await request(t, "GET", "/api/tool-eval/history", { token: other.token })).body.runs).toEqual([]);
    expect(
      (await request(t, "GET", `/api/export/eval/${complete.eval_id}`, { token: other.token })).status,
    ).toBe(404);
    expect(
      (await request(t, "GET", "/api/analytics/leaderboard?type=tool_eval", { token: other.token })).body
        .models,
    ).toEqual([]);
    expect(
      (await request(t, "DELETE", `/api/tool-eval/history/${complete.eval_id}`, { token: user.token })).body,
    ).toEqual({ status: "ok" });
    expect(
      (await request(t, "GET", `/api/tool-eval/history/${complete.eval_id}`, { token: user.token })).status,
    ).toBe(404);
  });

  it("honours tool_choice none and auto", async () => {
    const user = await userWithModels();
    const suiteId = await importExample(user);
    for (const choice of ["none", "auto"]) {
      standin.reset();
      const stream = await openEventStream(t, user.token, "/api/tool-eval", {
        suite_id: suiteId,
        models: ["local/good"],
        tool_choice: choice,
      });
      await stream.ended;
      expect(stream.events.at(-1).type).toBe("complete");
      expect(
        standin.requests.filter((r) => r.protocol === "openai").map((r) => r.body!.tool_choice),
      ).toContain(choice);
    }
  });

  it("refuses before the stream opens: 404 suite, 422 naming the field, 409 while a benchmark runs", async () => {
    const user = await userWithModels();
    const suiteId = await importExample(user);
    const run = (body: unknown) => request(t, "POST", "/api/tool-eval", { token: user.token, body });
    const missing = await run({ suite_id: "00000000-0000-4000-8000-000000000000", models: ["local/good"] });
    expect(missing.status).toBe(404);
    expect(missing.body.error).toBe("Suite not found");
    const otherSuite = await importExample(await userWithModels());
    expect((await run({ suite_id: otherSuite, models: ["local/good"] })).status).toBe(404);

    const checks: [unknown, (string | number)[]][] = [
      [{ suite_id: suiteId, models: [] }, ["body", "models"]],
      [{ suite_id: suiteId, models: ["local/nope"] }, ["body", "models"]],
      [{ suite_id: suiteId, models: ["local/good"], tool_choice: "sometimes" }, ["body", "tool_choice"]],
      [{ suite_id: suiteId, models: ["local/good"], temperature: 2.5 }, ["body", "temperature"]],
      [
        { suite_id: suiteId, models: ["local/good"], judge: { enabled: true } },
        ["body", "judge", "judge_model"],
      ],
      [
        { suite_id: suiteId, models: ["local/good"], judge: { enabled: true, judge_model: "local/nope" } },
        ["body", "judge", "judge_model"],
      ],
    ];
    for (const [body, loc] of checks) {
      const res = await run(body);
      expect({ body, status: res.status, loc: res.body.detail?.[0]?.loc }).toEqual({
        body,
        status: 422,
        loc,
      });
    }
    const empty = await request(t, "POST", "/api/tool-suites", {
      token: user.token,
      body: { name: "empty", tools: example.tools },
    });
    const noCases = await run({ suite_id: empty.body.suite_id, models: ["local/good"] });
    expect(noCases.status).toBe(422);
    expect(noCases.body.error).toMatch(/Suite has no test cases/);

    // One run at a time per user, benchmarks and evals together.
    const benchmark = await openBenchmark(t, user.token, {
      models: ["local/slow"],
      runs: 1,
      max_tokens: 64,
      prompt: "x",
      warmup: false,
    });
    expect(benchmark.status).toBe(200);
    const refused = await run({ suite_id: suiteId, models: ["local/good"] });
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe("A benchmark or eval is already running");
    // The eval's cancel stops the benchmark too (one cancel per user, as upstream).
    expect((await request(t, "POST", "/api/tool-eval/cancel", { token: user.token })).body).toEqual({
      status: "ok",
      message: "Cancellation requested",
    });
    await benchmark.waitFor((e) => e.type === "cancelled");
  });

  it("cancel aborts the call in flight, ends the stream with cancelled, and keeps the eval as cancelled", async () => {
    const user = await userWithModels();
    const suiteId = await importExample(user);
    standin.reset();
    const stream = await openEventStream(t, user.token, "/api/tool-eval", {
      suite_id: suiteId,
      models: ["local/slow"],
    });
    expect(stream.status).toBe(200);
    const evalId = stream.headers.get("x-eval-id");
    await standin.waitFor(() => standin.activeStreams.length > 0, 10_000);
    const cancel = await request(t, "POST", "/api/tool-eval/cancel", { token: user.token });
    expect(cancel.status).toBe(200);
    await stream.ended;
    expect(stream.events.filter((e) => e.type !== "heartbeat").map((e) => e.type)).toEqual(["cancelled"]);
    await standin.waitFor(() => standin.disconnects.length === 1);
    expect(standin.streams.filter((s) => s.state === "completed")).toEqual([]);
    const detail = await request(t, "GET", `/api/tool-eval/history/${evalId}`, { token: user.token });
    expect(detail.body).toMatchObject({ status: "cancelled", results: [] });
    expect((await request(t, "GET", "/api/tool-eval/history", { token: user.token })).body.runs).toEqual([]);
    // The slot is free again.
    const again = await openEventStream(t, user.token, "/api/tool-eval", {
      suite_id: suiteId,
      models: ["local/good"],
    });
    expect(again.status).toBe(200);
    await again.ended;
    expect(again.events.at(-1).type).toBe("complete");
  });
});
