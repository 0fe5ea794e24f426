/**
 * Analytics and exports over runs made against the LLM stand-in: leaderboard figures (per model, per tier,
 * periods, failed calls never shown as 0 tok/s), trends, compare, CSV exports with formula cells neutralized,
 * JSON exports.
 */
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LlmStandin, startLlmStandin } from "../support/llm-standin.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { registerUser, request, type SignedInUser, userWithStandin } from "./helpers.js";
import { openBenchmark } from "./sse.js";

let t: TestServer;
let standin: LlmStandin;
let user: SignedInUser;
const runIds: string[] = [];
const FORMULA_MODEL = '=HYPERLINK("http://evil","x")';
const FORMULA_PROMPT = "@SUM(A1:A9) -- or +1+1";

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

async function run(body: Record<string, unknown>): Promise<string> {
  const stream = await openBenchmark(t, user.token, { runs: 2, warmup: false, max_tokens: 64, ...body });
  expect(stream.status).toBe(200);
  await stream.ended;
  expect(stream.events.at(-1)?.type).toBe("complete");
  return stream.headers.get("x-run-id")!;
}

beforeAll(async () => {
  standin = await startLlmStandin({
    behaviour: { ttftMs: 15, tokensPerSecond: 800, outputTokens: 12 },
    models: {
      quick: { ttftMs: 10, tokensPerSecond: 1500 },
      broken: { error: { status: 500, message: "boom" } },
    },
  });
  t = await startTestServer({ env: { TRUSTED_PROXIES: "loopback" } });
  await registerUser(t); // the admin
  user = await userWithStandin(t, standin, [
    { id: "quick", display_name: "Quick", context_window: 32000 },
    { id: "steady", display_name: FORMULA_MODEL, context_window: 32000 },
    { id: "broken", display_name: "Broken", context_window: 32000 },
  ]);
  runIds.push(
    await run({ models: ["local/quick", "local/steady"], context_tiers: [0, 1000], prompt: "first" }),
  );
  runIds.push(await run({ models: ["local/quick", "local/broken"], prompt: FORMULA_PROMPT }));
  runIds.push(await run({ models: ["local/quick"], prompt: "old one" }));
  // The third run happened 40 days ago.
  const old = new Date(Date.now() - 40 * 86_400_000);
  await t.server.deps.db.prisma.benchRun.update({ where: { id: runIds[2]! }, data: { createdAt: old } });
  await t.server.deps.db.prisma.benchResult.updateMany({
    where: { runId: runIds[2]! },
    data: { createdAt: old },
  });
}, 90_000);
afterAll(async () => {
  await t?.close();
  await standin?.close();
});

async function allResults(): Promise<any[]> {
  const res = await request(t, "GET", "/api/history", { token: user.token });
  return res.body.runs.flatMap((r: any) => r.results.map((x: any) => ({ ...x, run_id: r.id })));
}

describe("leaderboard", () => {
  it("ranks models by mean tokens/s over successful results, per period; a failing model is not shown at 0 tok/s", async () => {
    const results = await allResults();
    const all = await request(t, "GET", "/api/analytics/leaderboard?period=all", { token: user.token });
    expect(all.status).toBe(200);
    expect(all.body.type).toBe("benchmark");
    expect(all.body.models.map((m: any) => m.model_id).sort()).toEqual(["local/quick", "local/steady"]);
    for (const row of all.body.models) {
      const mine = results.filter((r) => r.model_id === row.model_id && r.success);
      expect(row).toMatchObject({ provider: "Local", total_runs: mine.length });
      // Rounded to 0.01 after a sum in the server's order: a different order may land on the other side
      // of a rounding boundary, so one unit of the last digit is allowed.
      expect(Math.abs(row.avg_tps - mean(mine.map((r) => r.tokens_per_second)))).toBeLessThanOrEqual(0.0051);
      expect(Math.abs(row.avg_ttft_ms - mean(mine.map((r) => r.ttft_ms)))).toBeLessThanOrEqual(0.0051);
      expect(row.avg_tps).toBeGreaterThan(0);
    }
    // Fastest first.
    const tps = all.body.models.map((m: any) => m.avg_tps);
    expect(tps).toEqual([...tps].sort((a: number, b: number) => b - a));
    expect(all.body.models.find((m: any) => m.model_id === "local/quick").total_runs).toBe(8);

    const week = await request(t, "GET", "/api/analytics/leaderboard?period=7d", { token: user.token });
    expect(week.body.models.find((m: any) => m.model_id === "local/quick").total_runs).toBe(6);
    for (const period of ["30d", "90d"]) {
      const res = await request(t, "GET", `/api/analytics/leaderboard?period=${period}`, {
        token: user.token,
      });
      expect(res.body.models.find((m: any) => m.model_id === "local/quick").total_runs).toBe(
        period === "30d" ? 6 : 8,
      );
    }
    const bad = await request(t, "GET", "/api/analytics/leaderboard?period=1y", { token: user.token });
    expect(bad.status).toBe(422);
    expect(bad.body.detail[0].loc).toEqual(["query", "period"]);
  });

  it("aggregates per (model, provider, tier) with the engine's statistics and confidence", async () => {
    const results = await allResults();
    const res = await request(t, "GET", "/api/analytics/leaderboard?period=all", { token: user.token });
    const steady1000 = res.body.aggregates.find(
      (a: any) => a.model_id === "local/steady" && a.context_tokens === 1000,
    );
    const mine = results.filter((r) => r.model_id === "local/steady" && r.context_tokens === 1000);
    expect(steady1000).toMatchObject({ model: FORMULA_MODEL, provider: "Local", runs: 2, failures: 0 });
    expect(Math.abs(steady1000.avg_tps - mean(mine.map((r) => r.tokens_per_second)))).toBeLessThanOrEqual(
      0.0051,
    );
    expect(steady1000.min_tps).toBe(Math.min(...mine.map((r) => r.tokens_per_second)));
    expect(steady1000.max_tps).toBe(Math.max(...mine.map((r) => r.tokens_per_second)));
    expect(["high", "medium", "low"]).toContain(steady1000.confidence);
    const broken = res.body.aggregates.find((a: any) => a.model_id === "local/broken");
    expect(broken).toMatchObject({ runs: 2, failures: 2, confidence: "low" });
    const quick0 = res.body.aggregates.find(
      (a: any) => a.model_id === "local/quick" && a.context_tokens === 0,
    );
    expect(quick0.runs).toBe(6);
    expect(quick0.p99_ttft).toBeGreaterThanOrEqual(quick0.p95_ttft);
  });
});

describe("trends and compare", () => {
  it("trends: one point per run, oldest first, named (never undefined)", async () => {
    const res = await request(t, "GET", "/api/analytics/trends?models=Quick&metric=tps&period=all", {
      token: user.token,
    });
    expect(res.status).toBe(200);
    expect(res.body.series).toHaveLength(1);
    const [series] = res.body.series;
    expect(series).toMatchObject({ model: "Quick", model_id: "local/quick", provider: "Local" });
    expect(series.points.map((p: any) => p.run_id)).toEqual([runIds[2], runIds[0], runIds[1]]);
    expect(series.points.every((p: any) => p.value > 0)).toBe(true);
    const week = await request(
      t,
      "GET",
      "/api/analytics/trends?models=Quick,local/steady&metric=ttft&period=7d",
      {
        token: user.token,
      },
    );
    expect(week.body.series.map((s: any) => s.model_id).sort()).toEqual(["local/quick", "local/steady"]);
    expect((await request(t, "GET", "/api/analytics/trends", { token: user.token })).status).toBe(422);
  });

  it("compare: 2–4 runs side by side; other counts are 422, unknown runs 404", async () => {
    const res = await request(t, "GET", `/api/analytics/compare?runs=${runIds[0]},${runIds[1]}`, {
      token: user.token,
    });
    expect(res.status).toBe(200);
    expect(res.body.runs.map((r: any) => r.id)).toEqual([runIds[0], runIds[1]]);
    expect(res.body.runs[0].models).toHaveLength(4); // 2 models × 2 tiers
    const quick = res.body.runs[1].models.find((m: any) => m.model_id === "local/quick");
    expect(quick.avg_tokens_per_second).toBe(quick.avg_tps);
    expect(res.body.runs[1].models.find((m: any) => m.model_id === "local/broken")).toMatchObject({
      failures: 2,
    });
    expect(
      (await request(t, "GET", `/api/analytics/compare?runs=${runIds[0]}`, { token: user.token })).status,
    ).toBe(422);
    const unknown = await request(
      t,
      "GET",
      `/api/analytics/compare?runs=${runIds[0]},00000000-0000-4000-8000-000000000000`,
      {
        token: user.token,
      },
    );
    expect(unknown.status).toBe(404);
  });
});

describe("exports", () => {
  it("history CSV: every result, text cells that could be formulas neutralized", async () => {
    const res = await fetch(`${t.url}/api/export/history?format=csv`, {
      headers: { authorization: `Bearer ${user.token}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="benchmark_history.csv"');
    const rows = parse(await res.text(), { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength((await allResults()).length);
    expect(rows.some((r) => r.model === `'${FORMULA_MODEL}`)).toBe(true);
    expect(rows.some((r) => r.prompt === `'${FORMULA_PROMPT}`)).toBe(true);
    // No cell starts a formula.
    for (const row of rows) for (const value of Object.values(row)) expect(value).not.toMatch(/^[=+@]/);
    // Numbers stay numbers.
    expect(Number(rows[0]!.tokens_per_second)).toBeGreaterThan(0);
    expect(rows[0]).toHaveProperty("ttft_ms");
  });

  it("history as JSON, leaderboard as CSV and JSON, one run as JSON and CSV", async () => {
    const auth = { headers: { authorization: `Bearer ${user.token}` } };
    const json = await (await fetch(`${t.url}/api/export/history?format=json`, auth)).json();
    expect(json).toHaveLength((await allResults()).length);
    expect(json.find((r: any) => r.model === FORMULA_MODEL)).toBeDefined(); // JSON is not neutralized

    const csv = await fetch(`${t.url}/api/export/leaderboard?period=all`, auth);
    const board = parse(await csv.text(), { columns: true }) as Record<string, string>[];
    expect(board.map((r) => r.rank)).toEqual(["1", "2"]);
    expect(board.find((r) => r.model?.includes("HYPERLINK"))!.model).toBe(`'${FORMULA_MODEL}`);

    const run = await fetch(`${t.url}/api/export/run/${runIds[0]}`, auth);
    expect(run.headers.get("content-disposition")).toBe(
      `attachment; filename="benchmark_run_${runIds[0]}.json"`,
    );
    const body = await run.json();
    expect(body).toMatchObject({
      run_id: runIds[0],
      prompt: "first",
      context_tiers: [0, 1000],
      status: "completed",
    });
    expect(body.results).toHaveLength(8);
    expect(body.aggregates).toHaveLength(4);
    const runCsv = await fetch(`${t.url}/api/export/run/${runIds[0]}?format=csv`, auth);
    expect(parse(await runCsv.text(), { columns: true })).toHaveLength(8);
    expect((await fetch(`${t.url}/api/export/run/nope`, auth)).status).toBe(404);
  });

  it("another user sees none of it", async () => {
    const other = await registerUser(t);
    const board = await request(t, "GET", "/api/analytics/leaderboard", { token: other.token });
    expect(board.body.models).toEqual([]);
    const csv = await fetch(`${t.url}/api/export/history`, {
      headers: { authorization: `Bearer ${other.token}` },
    });
    expect((await csv.text()).trim()).toBe(
      "timestamp,run_id,prompt,model,provider,model_id,context_tokens,run,success,tokens_per_second,ttft_ms,output_speed_tps,itl_ms,cost,output_tokens,input_tokens,reasoning_tokens,error",
    );
    expect(
      (
        await fetch(`${t.url}/api/export/run/${runIds[0]}`, {
          headers: { authorization: `Bearer ${other.token}` },
        })
      ).status,
    ).toBe(404);
  });
});
