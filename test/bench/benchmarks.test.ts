/**
 * Benchmarks over real HTTP against the LLM stand-in (test/support/llm-standin.ts): the SSE stream in upstream's
 * framing and order, one benchmark per user (409), input bounds (422 naming the field), cancel that closes the
 * stand-in's streams (also from another instance), a client that goes away does not lose its run, the hourly
 * limit, history, and admin usage counting the runs.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LlmStandin, startLlmStandin } from "../support/llm-standin.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { registerUser, request, type SignedInUser, userWithStandin as standinUser } from "./helpers.js";
import { openBenchmark } from "./sse.js";

let t: TestServer;
let standin: LlmStandin;
let admin: SignedInUser;

/** A user of their own with the stand-in configured as provider `local` (models fast, small, slow). */
const userWithStandin = () =>
  standinUser(t, standin, [
    { id: "fast", context_window: 32000 },
    { id: "small", context_window: 4096 },
    { id: "slow", context_window: 32000 },
  ]);

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`condition not met: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  standin = await startLlmStandin({
    behaviour: { ttftMs: 20, tokensPerSecond: 500, outputTokens: 10 },
    // `slow`: a long stream, to be cancelled or left running.
    models: { slow: { ttftMs: 30, tokensPerSecond: 20, outputTokens: 400 } },
  });
  t = await startTestServer({ env: { TRUSTED_PROXIES: "loopback", BENCH_HEARTBEAT_MS: "150" } });
  admin = await registerUser(t);
}, 60_000);
afterAll(async () => {
  await t?.close();
  await standin?.close();
});

describe("POST /api/benchmark", () => {
  it("streams progress before each result, skips tiers that do not fit, and ends with complete; stored in history", async () => {
    const user = await userWithStandin();
    const stream = await openBenchmark(t, user.token, {
      models: ["local/fast", "local/small"],
      runs: 2,
      max_tokens: 64,
      temperature: 0.2,
      prompt: "Explain recursion",
      context_tiers: [0, 5000],
      warmup: false,
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(stream.headers.get("cache-control")).toContain("no-cache");
    await stream.ended;
    // Upstream's framing: nothing but `data: <json>` lines.
    expect(stream.lines.every((line) => line.startsWith("data: "))).toBe(true);
    const kinds = stream.events.map((e) => e.type).filter((k) => k !== "heartbeat");
    // fast: 2 runs at tier 0 and 2 at 5000; small (4K window): 2 at tier 0, 5000 skipped.
    expect(kinds.filter((k) => k === "result")).toHaveLength(6);
    expect(kinds.filter((k) => k === "skipped")).toHaveLength(1);
    expect(kinds.at(-1)).toBe("complete");
    const relevant = stream.events.filter((e) => e.type === "progress" || e.type === "result");
    for (let i = 0; i < relevant.length; i += 2) {
      expect(relevant[i].type).toBe("progress");
      expect(relevant[i + 1].type).toBe("result");
      expect(relevant[i]).toMatchObject({
        current: i / 2 + 1,
        total: 6,
        provider: "Local",
        model_id: relevant[i + 1].model_id,
        context_tokens: relevant[i + 1].context_tokens,
      });
    }
    const skipped = stream.events.find((e) => e.type === "skipped");
    expect(skipped).toMatchObject({
      provider: "Local",
      model_id: "local/small",
      context_tokens: 5000,
      reason: "5K exceeds 4K context window",
    });
    const result = stream.events.find((e) => e.type === "result");
    expect(result).toMatchObject({ provider: "Local", success: true, error: null, output_tokens: 10 });
    expect(result.ttft_ms).toBeGreaterThanOrEqual(20);
    expect(result.tokens_per_second).toBeGreaterThan(0);
    const complete = stream.events.at(-1);
    expect(complete.run_id).toBe(stream.headers.get("x-run-id"));
    expect(complete.saved_to).toBe(`/api/history/${complete.run_id}`);

    const history = await request(t, "GET", "/api/history", { token: user.token });
    expect(history.status).toBe(200);
    expect(history.body.runs).toHaveLength(1);
    const run = history.body.runs[0];
    expect(run).toMatchObject({
      id: complete.run_id,
      prompt: "Explain recursion",
      context_tiers: [0, 5000],
      metadata: null,
      status: "completed",
    });
    expect(run.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(run.results).toEqual(stream.events.filter((e) => e.type === "result"));
    const one = await request(t, "GET", `/api/history/${run.id}`, { token: user.token });
    expect(one.body).toEqual(run);
  });

  it("sends heartbeats while a call is silent", async () => {
    const user = await userWithStandin();
    standin.models.fast = { ttftMs: 600 };
    try {
      const stream = await openBenchmark(t, user.token, { models: ["local/fast"], runs: 1, warmup: false });
      await stream.ended;
      const kinds = stream.events.map((e) => e.type);
      expect(kinds.indexOf("heartbeat")).toBeGreaterThanOrEqual(0);
      expect(kinds.indexOf("heartbeat")).toBeLessThan(kinds.indexOf("result"));
      expect(stream.events.find((e) => e.type === "heartbeat")).toEqual({ type: "heartbeat" });
    } finally {
      delete standin.models.fast;
    }
  });

  it("refuses out-of-bounds input with 422 naming the field, before streaming", async () => {
    const user = await userWithStandin();
    const cases: [Record<string, unknown>, string][] = [
      [{ models: ["local/fast"], runs: 0 }, "runs"],
      [{ models: ["local/fast"], runs: 21 }, "runs"],
      [{ models: ["local/fast"], max_tokens: 0 }, "max_tokens"],
      [{ models: ["local/fast"], max_tokens: 16385 }, "max_tokens"],
      [{ models: ["local/fast"], temperature: 2.5 }, "temperature"],
      [{ models: ["local/fast"], temperature: -0.1 }, "temperature"],
      [{ models: [] }, "models"],
      [{}, "models"],
      [{ models: ["local/nope"] }, "models"],
      [{ models: ["local/fast"], context_tiers: [-1] }, "context_tiers"],
    ];
    for (const [body, field] of cases) {
      const stream = await openBenchmark(t, user.token, body);
      expect({ body, status: stream.status }).toEqual({ body, status: 422 });
      expect(stream.body.detail.map((d: any) => d.loc[1])).toContain(field);
      expect(typeof stream.body.error).toBe("string");
    }
    expect((await request(t, "GET", "/api/history", { token: user.token })).body.runs).toEqual([]);
  });

  it("runs one benchmark per user at a time (409); cancel closes the provider's stream and ends with cancelled", async () => {
    const user = await userWithStandin();
    const other = await userWithStandin();
    standin.reset();
    const first = await openBenchmark(t, user.token, { models: ["local/slow"], runs: 1, warmup: false });
    expect(first.status).toBe(200);
    await standin.waitFor(() => standin.activeStreams.length === 1);

    const second = await openBenchmark(t, user.token, { models: ["local/fast"], runs: 1, warmup: false });
    expect(second.status).toBe(409);
    expect(second.body.error).toBe("Benchmark already running");
    // Another user is not blocked.
    const others = await openBenchmark(t, other.token, { models: ["local/fast"], runs: 1, warmup: false });
    expect(others.status).toBe(200);
    await others.ended;

    const cancel = await request(t, "POST", "/api/benchmark/cancel", { token: user.token });
    expect(cancel.status).toBe(200);
    expect(cancel.body).toEqual({ status: "ok", message: "Cancellation requested" });
    await first.ended;
    expect(first.events.at(-1)).toEqual({ type: "cancelled" });
    expect(first.events.some((e) => e.type === "result" || e.type === "complete")).toBe(false);
    // The stand-in saw its client go away mid-stream.
    await standin.waitFor(() => standin.disconnects.length === 1);
    expect(standin.disconnects[0]!.tokensSent).toBeLessThan(400);

    const run = await request(t, "GET", `/api/history/${first.headers.get("x-run-id")}`, {
      token: user.token,
    });
    expect(run.body.status).toBe("cancelled");
    expect((await request(t, "GET", "/api/history", { token: user.token })).body.runs).toEqual([]);
    // The slot is free again.
    const again = await openBenchmark(t, user.token, { models: ["local/fast"], runs: 1, warmup: false });
    expect(again.status).toBe(200);
    await again.ended;
  });

  it("a client that goes away does not lose its run: it finishes and lands in history", async () => {
    const user = await userWithStandin();
    standin.reset();
    const stream = await openBenchmark(t, user.token, { models: ["local/fast"], runs: 3, warmup: false });
    const runId = stream.headers.get("x-run-id")!;
    await stream.waitFor((e) => e.type === "result");
    stream.abort();
    const run = await until(
      () => request(t, "GET", `/api/history/${runId}`, { token: user.token }),
      (res) => res.body.status !== "running",
    );
    expect(run.body.status).toBe("completed");
    expect(run.body.results).toHaveLength(3);
    expect(standin.disconnects).toHaveLength(0);
    const history = await request(t, "GET", "/api/history", { token: user.token });
    expect(history.body.runs.map((r: any) => r.id)).toEqual([runId]);

    expect((await request(t, "DELETE", `/api/history/${runId}`, { token: user.token })).body).toEqual({
      status: "ok",
    });
    expect((await request(t, "GET", `/api/history/${runId}`, { token: user.token })).status).toBe(404);
    expect((await request(t, "GET", "/api/history", { token: user.token })).body.runs).toEqual([]);
  });

  it("keeps users' runs apart: another user's run is 404", async () => {
    const user = await userWithStandin();
    const other = await userWithStandin();
    const stream = await openBenchmark(t, user.token, { models: ["local/fast"], runs: 1, warmup: false });
    await stream.ended;
    const runId = stream.headers.get("x-run-id")!;
    expect((await request(t, "GET", `/api/history/${runId}`, { token: other.token })).status).toBe(404);
    expect((await request(t, "DELETE", `/api/history/${runId}`, { token: other.token })).status).toBe(404);
    expect((await request(t, "GET", "/api/history/not-a-uuid", { token: user.token })).status).toBe(404);
    expect((await request(t, "GET", `/api/history/${runId}`, { token: user.token })).status).toBe(200);
  });
});

describe("limits and usage", () => {
  it("enforces the admin-set hourly limit (429 with Retry-After) and reports it on GET /api/user/rate-limit", async () => {
    const user = await userWithStandin();
    const set = await request(t, "PUT", `/api/admin/users/${user.id}/rate-limit`, {
      token: admin.token,
      body: { benchmarks_per_hour: 2, max_runs_per_benchmark: 5 },
    });
    expect(set.status).toBe(200);
    expect((await request(t, "GET", "/api/user/rate-limit", { token: user.token })).body).toEqual({
      limit: 2,
      remaining: 2,
      window: "1 hour",
    });
    const tooMany = await openBenchmark(t, user.token, { models: ["local/fast"], runs: 6, warmup: false });
    expect(tooMany.status).toBe(422);
    expect(tooMany.body.detail[0].loc).toEqual(["body", "runs"]);
    for (let i = 0; i < 2; i++) {
      const stream = await openBenchmark(t, user.token, { models: ["local/fast"], runs: 1, warmup: false });
      expect(stream.status).toBe(200);
      await stream.ended;
    }
    expect((await request(t, "GET", "/api/user/rate-limit", { token: user.token })).body.remaining).toBe(0);
    const refused = await openBenchmark(t, user.token, { models: ["local/fast"], runs: 1, warmup: false });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toBe("Rate limit exceeded. Max 2 benchmarks per hour.");
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(3000);
  });

  it("admin statistics count the runs", async () => {
    const stats = await request(t, "GET", "/api/admin/stats", { token: admin.token });
    expect(stats.status).toBe(200);
    expect(stats.body.benchmarks_24h).toBeGreaterThanOrEqual(8);
    expect(stats.body.top_users.length).toBeGreaterThan(0);
    const system = await request(t, "GET", "/api/admin/system", { token: admin.token });
    expect(system.body.results_count).toBeGreaterThan(0);
    expect(system.body.benchmark_active).toBe(0);
  });
});

describe("two instances", () => {
  it("a cancel sent to another instance aborts the run where it runs", async () => {
    const second = await startTestServer({ sharedWith: t, env: { TRUSTED_PROXIES: "loopback" } });
    try {
      const user = await userWithStandin();
      standin.reset();
      const stream = await openBenchmark(t, user.token, { models: ["local/slow"], runs: 1, warmup: false });
      expect(stream.status).toBe(200);
      await standin.waitFor(() => standin.activeStreams.length === 1);
      // The lock is shared: the other instance refuses a second run too.
      const refused = await openBenchmark(second.url, user.token, { models: ["local/fast"], runs: 1 });
      expect(refused.status).toBe(409);
      const cancel = await request(second, "POST", "/api/benchmark/cancel", { token: user.token });
      expect(cancel.status).toBe(200);
      await stream.ended;
      expect(stream.events.at(-1)).toEqual({ type: "cancelled" });
      await standin.waitFor(() => standin.disconnects.length === 1);
    } finally {
      await second.close();
    }
  });
});
