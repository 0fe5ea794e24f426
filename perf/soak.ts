// Soak: `npm run perf -- soak [seconds]` (or SOAK_SECONDS; default 600 = 10 minutes).
// The real server runs as its own process (`src/main.ts`, as `npm start` does) on PostgreSQL (a throwaway
// schema) and Redis (a throwaway prefix) in front of a small upstream, and gets mixed traffic at a fixed rate
// (open loop: requests are sent on schedule whether or not earlier ones have answered):
//   45 % proxy passthrough with a valid token, 20 % challenge generate, 20 % generate + submit (a vote),
//   15 % dashboard reads (metrics, datasets, config, API keys, proxy rules).
// Reports the error count (target 0), p99 latency per interval (one minute; 10 s when the run is shorter than
// five minutes), and the server's RSS at start and end with a growth trend (least-squares slope after the
// first interval, the warm-up). SOAK_RATE sets requests per second (default 40).
import { randomBytes, randomInt } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "redis";
import { dropSchema, randomSchemaName } from "../test/support/db.js";
import { startServerProcess } from "../test/support/process.js";
import { DEFAULT_DATABASE_URL, fmt, mb } from "./support.js";

type Kind = "proxy" | "generate" | "round-trip" | "dashboard";
const MIX: [Kind, number][] = [
  ["proxy", 45],
  ["generate", 20],
  ["round-trip", 20],
  ["dashboard", 15],
];
const DASHBOARD_READS = [
  "/dashboard/api/metrics",
  "/dashboard/api/item-datasets",
  "/dashboard/api/config",
  "/dashboard/api/apikeys",
  "/dashboard/api/proxy-rules",
];

function pick(): Kind {
  let roll = randomInt(0, 100);
  for (const [kind, weight] of MIX) {
    if (roll < weight) return kind;
    roll -= weight;
  }
  return "proxy";
}

function rssOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").match(/VmRSS:\s+(\d+) kB/);
  return line ? Number(line[1]) * 1024 : NaN;
}

const p99 = (values: number[]) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!;
};

/** Least-squares slope of y over x. */
function slope(points: [number, number][]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? NaN : num / den;
}

export default async function main(args: string[]): Promise<void> {
  const seconds = Number(args[0] ?? process.env.SOAK_SECONDS ?? 600);
  const rate = Number(process.env.SOAK_RATE ?? 40);
  const intervalSec = seconds < 300 ? 10 : 60;
  const databaseUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const schema = randomSchemaName().replace("test_", "soak_");
  const prefix = `soak-${randomBytes(6).toString("hex")}`;
  const password = randomBytes(12).toString("hex");
  const dashboard = { authorization: `Basic ${Buffer.from(`admin:${password}`).toString("base64")}` };
  const dataDir = mkdtempSync(join(tmpdir(), "hiveguard-soak-"));
  console.log(
    `soak: ${seconds} s at ${rate} req/s (${MIX.map(([k, w]) => `${w}% ${k}`).join(", ")}), ` +
      `PostgreSQL + Redis, server in its own process`,
  );

  // The protected site: a small page.
  const page = Buffer.from(`<!doctype html><p>${"content ".repeat(200)}</p>`);
  const upstream = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html", "content-length": page.length });
    res.end(page);
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", () => resolve()));

  const server = startServerProcess({
    HOST: "127.0.0.1",
    PORT: "0",
    LOG_LEVEL: "warn",
    NODE_ENV: "production",
    SECRET_KEY: randomBytes(32).toString("hex"),
    DASHBOARD_USERNAME: "admin",
    DASHBOARD_PASSWORD: password,
    DATABASE_URL: `${databaseUrl}?schema=${schema}`,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: prefix,
    HIVEGUARD_DATA_DIR: dataDir,
    TARGET_URL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
  });
  try {
    const [, url] = await server.waitFor(/HiveGuard \S+ at (http:\/\/\S+)/, 120_000);
    const pid = server.child.pid!;
    const json = async (path: string, init: RequestInit = {}) => {
      const res = await fetch(`${url}${path}`, init);
      const body = await res.json().catch(() => null);
      if (res.status >= 300)
        throw new Error(`${init.method ?? "GET"} ${path}: ${res.status} ${JSON.stringify(body)}`);
      return body as any;
    };
    const post = (path: string, body: unknown) =>
      json(path, {
        method: "POST",
        headers: { ...dashboard, "content-type": "application/json" },
        body: JSON.stringify(body),
      });

    // Setup: limits out of the way, a long token lifetime, a dataset of 200 GT + 20,000 unknown items.
    await post("/dashboard/api/config", {
      challenge_rate_limit_ip: 1_000_000,
      challenge_rate_limit_key: 10_000_000,
      challenge_token_ttl: 7 * 24 * 3600,
    });
    const dataset = await post("/dashboard/api/item-datasets", {
      name: "soak",
      modality: "image",
      prompt: "A cat?",
    });
    const { raw_key: key } = await post("/dashboard/api/apikeys", { label: "soak", datasets: [dataset.id] });
    const gt = new Map<string, string>();
    const items: Record<string, unknown>[] = [];
    for (let i = 0; i < 200; i++) {
      const ref = `https://example.com/gt/${i}.jpg`;
      gt.set(ref, i % 2 ? "yes" : "no");
      items.push({ dataset_id: dataset.id, data_ref: ref, modality: "image", ground_truth: gt.get(ref) });
    }
    for (let i = 0; i < 20_000; i++) {
      items.push({ dataset_id: dataset.id, data_ref: `https://example.com/u/${i}.jpg`, modality: "image" });
    }
    for (let i = 0; i < items.length; i += 1000) {
      await json("/api/v1/data/items", {
        method: "POST",
        headers: { "x-hiveguard-key": key, "content-type": "application/json" },
        body: JSON.stringify({ items: items.slice(i, i + 1000) }),
      });
    }

    const roundTrip = async (userAgent: string, submit: boolean): Promise<string | null> => {
      const headers = { "x-hiveguard-key": key, "user-agent": userAgent };
      const challenge = await json("/api/v1/challenge/generate", { headers });
      if (!submit) return null;
      const result = await json("/api/v1/challenge/submit", {
        method: "POST",
        headers: { ...headers, "content-type": "application/json" },
        body: JSON.stringify({
          challenge_id: challenge.challenge_id,
          responses: challenge.items.map((item: any) => ({
            item_id: item.id,
            answer: gt.get(item.data_ref) ?? (randomInt(0, 10) < 8 ? "yes" : "no"),
          })),
        }),
      });
      if (!result.passed) throw new Error("a right answer did not pass");
      return result.token;
    };
    const visitorUa = "soak-visitor/1.0 (token holder)";
    const token = (await roundTrip(visitorUa, true))!;

    let seq = 0;
    const op = async (kind: Kind) => {
      if (kind === "proxy") {
        const res = await fetch(`${url}/shop/page-${randomInt(0, 1000)}`, {
          headers: { "user-agent": visitorUa, cookie: `hiveguard_token=${token}`, accept: "text/html" },
        });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`proxy ${res.status}`);
      } else if (kind === "generate") {
        await roundTrip(`soak-gen-${++seq}`, false);
      } else if (kind === "round-trip") {
        await roundTrip(`soak-voter-${++seq}`, true);
      } else {
        await json(DASHBOARD_READS[randomInt(0, DASHBOARD_READS.length)]!, { headers: dashboard });
      }
    };

    // Warm-up (not counted): JIT, pools, caches.
    for (let i = 0; i < 40; i++) await op(MIX[i % MIX.length]![0]);

    const intervals: { latencies: number[]; errors: number; sent: number }[] = [];
    const errorsByKind = new Map<string, number>();
    const rss: [number, number][] = [];
    const started = performance.now();
    const sample = () => rss.push([(performance.now() - started) / 1000, rssOf(pid)]);
    sample();
    const sampler = setInterval(sample, 5000);
    const inFlight = new Set<Promise<void>>();
    const total = Math.floor(seconds * rate);
    let lastPrinted = -1;
    for (let i = 0; i < total; i++) {
      const due = started + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const bucket = Math.floor((performance.now() - started) / 1000 / intervalSec);
      intervals[bucket] ??= { latencies: [], errors: 0, sent: 0 };
      const slot = intervals[bucket]!;
      slot.sent++;
      const kind = pick();
      const t0 = performance.now();
      const running = op(kind).then(
        () => void slot.latencies.push(performance.now() - t0),
        (error: Error) => {
          slot.errors++;
          errorsByKind.set(kind, (errorsByKind.get(kind) ?? 0) + 1);
          if ((errorsByKind.get(kind) ?? 0) <= 3) console.error(`  error (${kind}): ${error.message}`);
        },
      );
      inFlight.add(running);
      void running.finally(() => inFlight.delete(running));
      if (bucket - 1 > lastPrinted && intervals[bucket - 1]) {
        const done = intervals[bucket - 1]!;
        console.log(
          `  ${String(bucket * intervalSec).padStart(5)} s: ${fmt(done.sent)} sent, p99 so far ${fmt(p99(done.latencies), 1)} ms, ` +
            `${done.errors} errors, RSS ${mb(rss.at(-1)![1])}`,
        );
        lastPrinted = bucket - 1;
      }
    }
    await Promise.all(inFlight);
    clearInterval(sampler);
    sample();

    const elapsed = (performance.now() - started) / 1000;
    const errors = intervals.reduce((sum, slot) => sum + slot.errors, 0);
    const sent = intervals.reduce((sum, slot) => sum + slot.sent, 0);
    console.log(
      `\n  ${fmt(sent)} requests in ${fmt(elapsed, 1)} s (${fmt(sent / elapsed, 1)} req/s achieved)`,
    );
    console.log(
      `  errors: ${errors}${errors ? ` (${[...errorsByKind].map(([k, n]) => `${k} ${n}`).join(", ")})` : ""}  (target 0)`,
    );
    console.log(`  p99 latency per ${intervalSec} s interval (ms):`);
    intervals.forEach((slot, index) =>
      console.log(
        `    ${String(index * intervalSec).padStart(5)}–${String((index + 1) * intervalSec).padEnd(5)} s  p99 ${fmt(p99(slot.latencies), 1).padStart(7)}  ` +
          `(${slot.latencies.length} ok, ${slot.errors} errors)`,
      ),
    );
    const firstP99 = p99(intervals[1]?.latencies ?? intervals[0]!.latencies);
    const lastP99 = p99(intervals.at(-1)!.latencies);
    console.log(`  p99 last interval / second interval: ${fmt(lastP99 / firstP99, 2)}×`);
    const afterWarmup = rss.filter(([t]) => t >= intervalSec);
    const trend = slope(afterWarmup.length >= 2 ? afterWarmup : rss);
    const startRss = (afterWarmup[0] ?? rss[0]!)[1];
    const endRss = rss.at(-1)![1];
    console.log(
      `  server RSS: start ${mb(rss[0]![1])} (after the first ${intervalSec} s: ${mb(startRss)}), end ${mb(endRss)}; ` +
        `trend ${fmt((trend * 60) / 1024 / 1024, 2)} MB/min after warm-up ` +
        `(${fmt(((trend * 60) / startRss) * 100, 2)} % of the start per minute)`,
    );
  } finally {
    server.child.kill("SIGTERM");
    await server.exited;
    await new Promise<void>((resolve) => upstream.close(() => resolve()));
    await dropSchema(databaseUrl, schema).catch(() => {});
    const redis = createClient({ url: redisUrl });
    await redis.connect().then(
      async () => {
        for await (const keys of redis.scanIterator({ MATCH: `${prefix}:*`, COUNT: 500 })) {
          if (keys.length > 0) await redis.del(keys);
        }
        await redis.close();
      },
      () => {},
    );
    rmSync(dataDir, { recursive: true, force: true });
  }
}
