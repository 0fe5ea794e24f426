// The bench harness's own overhead (issue 23 point 9; figures in docs/bench.md): `npm run perf -- bench
// [--pairs N] [--users N]`. The LLM stand-in (test/support/llm-standin.ts, OpenAI streaming protocol) and a
// started HiveGuard server (embedded defaults, or DATABASE_URL / REDIS_URL when set).
//  1. TTFT: a bare streaming client (fetch) straight to the stand-in, and the `ttft_ms` HiveGuard's
//     benchmark reports through `POST /api/benchmark` (a registered user, the stand-in added as an
//     OpenAI-compatible provider), interleaved pair by pair; p50/p95 of the added milliseconds
//     (target ≤ 2 ms at p50).
//  2. 50 users streaming at once (each their own benchmark on a slow model), counting missed heartbeats: a
//     gap between two events of an open stream (from its headers on) longer than twice BENCH_HEARTBEAT_MS
//     (target 0).
import { cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { type LlmStandin, startLlmStandin } from "../test/support/llm-standin.js";
import { userWithStandin } from "../test/bench/helpers.js";
import { startTestServer, type TestServer } from "../test/support/server.js";
import { fmt } from "./support.js";

const HEARTBEAT_MS = 500;
const STANDIN_TTFT_MS = 50;

function argValue(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  const raw = i >= 0 ? args[i + 1] : args.find((a) => a.startsWith(`${name}=`))?.split("=")[1];
  const n = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} takes a whole number ≥ 1, not "${raw}"`);
  return n;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
};

/** A new user with the stand-in as the OpenAI-compatible provider `local` (models `fast` and `slow`). */
const userToken = async (t: TestServer, standin: LlmStandin): Promise<string> =>
  (
    await userWithStandin(
      t,
      standin,
      ["fast", "slow"].map((id) => ({ id, context_window: 32000 })),
    )
  ).token;

/** Reads `data: <json>` events of a stream, with the arrival time of each. */
async function readEvents(res: Response, onEvent: (event: any, at: number) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    const at = performance.now();
    buffer += decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (!line.startsWith("data: ")) continue;
      const data = line.slice(6);
      if (data === "[DONE]") onEvent({ type: "[DONE]" }, at);
      else onEvent(JSON.parse(data), at);
    }
  }
}

/** A bare client's TTFT: from calling fetch to the first chunk carrying content (the engine's own rule). */
async function bareTtft(standin: LlmStandin): Promise<number> {
  const started = performance.now();
  const res = await fetch(`${standin.baseUrl}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer sk-perf" },
    body: JSON.stringify({
      model: "fast",
      stream: true,
      max_tokens: 16,
      temperature: 0.7,
      messages: [{ role: "user", content: "Explain recursion" }],
      stream_options: { include_usage: true },
    }),
  });
  let first: number | null = null;
  await readEvents(res, (event, at) => {
    const delta = event.choices?.[0]?.delta;
    if (first === null && (delta?.content || delta?.reasoning_content)) first = at;
  });
  if (first === null) throw new Error("the stand-in sent no content");
  return first - started;
}

interface Run {
  events: { event: any; at: number }[];
  /** When the request was sent, and when the stream's headers arrived (the stream is open). */
  sent: number;
  opened: number;
}

async function benchmark(t: TestServer, token: string, body: unknown): Promise<Run> {
  const sent = performance.now();
  const res = await fetch(`${t.url}/api/benchmark`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`POST /api/benchmark: ${res.status} ${await res.text()}`);
  const opened = performance.now();
  const events: Run["events"] = [];
  await readEvents(res, (event, at) => events.push({ event, at }));
  return { events, sent, opened };
}

export default async function main(args: string[]): Promise<void> {
  const pairs = argValue(args, "--pairs", 40);
  const users = argValue(args, "--users", 50);
  const standin = await startLlmStandin({
    behaviour: { ttftMs: STANDIN_TTFT_MS, tokensPerSecond: 500, outputTokens: 16 },
    // `slow`: silent for 3 heartbeat intervals, then a 2 s stream.
    models: { slow: { ttftMs: 3 * HEARTBEAT_MS, tokensPerSecond: 20, outputTokens: 40 } },
  });
  const t = await startTestServer({
    env: { TRUSTED_PROXIES: "loopback", BENCH_HEARTBEAT_MS: String(HEARTBEAT_MS) },
  });
  try {
    console.log(
      `bench harness overhead: node ${process.version}, database ${t.server.deps.db.kind}, state ${process.env.REDIS_URL ? "redis" : "memory"}, stand-in TTFT ${STANDIN_TTFT_MS} ms; ${cpus().length} cores, load average ${fmt(loadavg()[0]!, 1)} before the run (other work on the machine)`,
    );

    // ── 1. TTFT: bare client vs HiveGuard's benchmark, interleaved ──────────────────────────────────
    const token = await userToken(t, standin);
    await bareTtft(standin); // warm-up both paths (connection pools, JIT)
    await benchmark(t, token, { models: ["local/fast"], runs: 1, warmup: false, context_tiers: [0] });
    const bare: number[] = [];
    const ours: number[] = [];
    const added: number[] = [];
    for (let i = 0; i < pairs; i++) {
      const b = await bareTtft(standin);
      const run = await benchmark(t, token, {
        models: ["local/fast"],
        runs: 1,
        warmup: false,
        max_tokens: 16,
        context_tiers: [0],
        prompt: "Explain recursion",
      });
      const result = run.events.find((e) => e.event.type === "result")?.event;
      if (!result?.success) throw new Error(`the benchmark failed: ${JSON.stringify(result)}`);
      bare.push(b);
      ours.push(result.ttft_ms);
      added.push(result.ttft_ms - b);
    }
    const p50 = percentile(added, 0.5);
    console.log(
      `\nTTFT, ${pairs} interleaved pairs (bare fetch to the stand-in, then POST /api/benchmark runs: 1):`,
    );
    console.log(
      `  bare client: p50 ${fmt(percentile(bare, 0.5), 2)} ms, p95 ${fmt(percentile(bare, 0.95), 2)} ms`,
    );
    console.log(
      `  HiveGuard ttft_ms: p50 ${fmt(percentile(ours, 0.5), 2)} ms, p95 ${fmt(percentile(ours, 0.95), 2)} ms`,
    );
    console.log(
      `  added (HiveGuard − bare, per pair): p50 ${fmt(p50, 2)} ms, p95 ${fmt(percentile(added, 0.95), 2)} ms ${p50 <= 2 ? "(≤ 2 ms at p50: met)" : "(target ≤ 2 ms at p50: NOT met)"}`,
    );

    // ── 2. concurrent users, heartbeats ─────────────────────────────────────────────────────────────
    const tokens: string[] = [];
    for (let i = 0; i < users; i++) tokens.push(await userToken(t, standin));
    const started = performance.now();
    const runs = await Promise.all(
      tokens.map((userToken) =>
        benchmark(t, userToken, { models: ["local/slow"], runs: 2, warmup: false, context_tiers: [0] }),
      ),
    );
    const wallS = (performance.now() - started) / 1000;
    let missed = 0;
    let heartbeats = 0;
    let worstGap = 0;
    let failed = 0;
    let completed = 0;
    const opening = runs.map((run) => run.opened - run.sent);
    for (const run of runs) {
      // Silences are counted from the moment the stream is open (its headers arrived): before that the
      // request is still being admitted (auth, the run's row), which heartbeats do not cover.
      let last = run.opened;
      for (const { event, at } of run.events) {
        const gap = at - last;
        worstGap = Math.max(worstGap, gap);
        if (gap > 2 * HEARTBEAT_MS) missed += Math.floor(gap / HEARTBEAT_MS) - 1;
        last = at;
        if (event.type === "heartbeat") heartbeats++;
        if (event.type === "result" && !event.success) failed++;
        if (event.type === "complete") completed++;
      }
    }
    console.log(
      `\n${users} users streaming at once (each a benchmark of 2 calls, silent ${fmt(3 * HEARTBEAT_MS)} ms before the first token; BENCH_HEARTBEAT_MS=${HEARTBEAT_MS}):`,
    );
    console.log(
      `  ${completed}/${users} streams completed in ${fmt(wallS, 1)} s, ${failed} failed calls, ${fmt(heartbeats)} heartbeats received`,
    );
    console.log(
      `  stream opened (request sent → headers): p50 ${fmt(percentile(opening, 0.5), 0)} ms, max ${fmt(Math.max(...opening), 0)} ms`,
    );
    console.log(
      `  longest silence on a stream: ${fmt(worstGap, 0)} ms; missed heartbeats (a gap over ${fmt(2 * HEARTBEAT_MS)} ms counts each interval beyond the first): ${missed} ${missed === 0 ? "(target 0: met)" : "(target 0: NOT met)"}`,
    );
  } finally {
    await t.close();
    await standin.close();
  }
}
