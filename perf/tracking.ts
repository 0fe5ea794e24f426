// Tracking benchmarks (docs/tracking.md): run with `npm run perf -- tracking`, against PostgreSQL when
// DATABASE_URL is set (a throwaway schema, dropped at the end), else embedded PGlite.
//  1. Ingestion: 500,000 points (100 runs × 5 metrics × 1,000 steps, upstream's shape) through the real HTTP
//     API in 10,000-point batches, in rows/s, against PostgreSQL COPY of the same rows in the same run.
//  2. Multi-run metrics read: 10 runs × 100,000 points, LTTB to 1,000, p50/p95 over HTTP, against a bare
//     SQL read of the same rows.
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import pg from "pg";
import copyStreams from "pg-copy-streams";
import { loadConfig } from "../src/config.js";
import { IN_MEMORY, openDatabase } from "../src/platform/db.js";
import { createLogger } from "../src/platform/logger.js";
import { MemoryStateStore } from "../src/platform/state/index.js";
import { createServer } from "../src/server.js";

const log = createLogger("silent");
const databaseUrl = process.env.DATABASE_URL;
const schema = `bench_${randomBytes(6).toString("hex")}`;
const db = await openDatabase(
  databaseUrl ? { databaseUrl, schema, logger: log } : { dataDir: IN_MEMORY, logger: log },
);
const config = loadConfig({
  NODE_ENV: "test",
  SECRET_KEY: randomBytes(32).toString("hex"),
  DASHBOARD_USERNAME: "admin",
  DASHBOARD_PASSWORD: "bench",
  HIVEGUARD_DATA_DIR: mkdtempSync(join(tmpdir(), "hg-bench-")),
  LOG_LEVEL: "silent",
  TRACKING_AUTH: "none",
});
const server = await createServer({
  config,
  log,
  db,
  state: new MemoryStateStore({ prefix: "bench", logger: log }),
});
const url = await server.app.listen({ host: "127.0.0.1", port: 0 });
const post = async (path: string, body: unknown) => {
  const res = await fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
};
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const T0 = Date.now() - 3_600_000;

console.log(`database: ${db.kind}${databaseUrl ? ` (schema ${schema})` : ""}; node ${process.version}\n`);

// ── 1. ingestion ──────────────────────────────────────────────────────────────────────────────────────
const RUNS = 100;
const METRICS = ["loss", "acc", "lr", "grad_norm", "val_loss"];
const STEPS = 1_000;
for (let r = 0; r < RUNS; r++) await post("/tracker/api/v1/projects/ingest/runs", { name: `run-${r}` });
const bodies = Array.from({ length: RUNS }, (_, r) => ({
  run: `run-${r}`,
  records: Array.from({ length: STEPS }, (_, step) => ({
    step,
    timestamp: T0 + step * 100,
    metrics: Object.fromEntries(METRICS.map((m, i) => [m, Math.random() * (i + 1)])),
  })),
}));
const CONCURRENCY = 4;
let next = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: CONCURRENCY }, async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      await post(`/tracker/api/v1/projects/ingest/runs/${body.run}/metrics`, { records: body.records });
    }
  }),
);
const ingestSeconds = (performance.now() - started) / 1000;
const rows = RUNS * METRICS.length * STEPS;
const ours = rows / ingestSeconds;
console.log(
  `ingestion: ${fmt(rows)} points via HTTP (${RUNS} requests of ${fmt(rows / RUNS)} points, ${CONCURRENCY} in flight)`,
);
console.log(`  HiveGuard: ${ingestSeconds.toFixed(2)} s → ${fmt(ours)} rows/s`);
console.log(`  upstream (its machine): 102,000 rows/s JSONL, 378,000 rows/s libSQL`);

if (databaseUrl) {
  const client = new pg.Client({ connectionString: databaseUrl, options: `-c search_path=${schema}` });
  await client.connect();
  await client.query(
    "CREATE TABLE copy_points (LIKE tracking_metric_points INCLUDING DEFAULTS INCLUDING INDEXES)",
  );
  const lines: string[] = [];
  for (let r = 0; r < RUNS; r++)
    for (let m = 0; m < METRICS.length; m++)
      for (let step = 0; step < STEPS; step++)
        lines.push(
          `${r * METRICS.length + m + 1}\t${step}\t${Math.random()}\t${new Date(T0 + step * 100).toISOString()}\n`,
        );
  const copyStarted = performance.now();
  await pipeline(
    Readable.from(lines, { objectMode: false }),
    client.query(copyStreams.from('COPY copy_points (series_id, step, value, "timestamp") FROM STDIN')),
  );
  const copySeconds = (performance.now() - copyStarted) / 1000;
  const copyRate = rows / copySeconds;
  console.log(
    `  PostgreSQL COPY of the same rows (same primary key, no HTTP/JSON): ${copySeconds.toFixed(2)} s → ${fmt(copyRate)} rows/s`,
  );
  console.log(`  ratio HiveGuard / COPY: ${(ours / copyRate).toFixed(2)}`);
  await client.end();
}

// ── 2. multi-run metrics read with LTTB ───────────────────────────────────────────────────────────────
const QUERY_RUNS = 10;
const POINTS = 100_000;
for (let r = 0; r < QUERY_RUNS; r++) {
  await post("/tracker/api/v1/projects/query/runs", { name: `q-${r}` });
  for (let start = 0; start < POINTS; start += 10_000) {
    const records = Array.from({ length: 10_000 }, (_, i) => ({
      step: start + i,
      timestamp: T0 + start + i,
      metrics: { loss: Math.exp(-(start + i) / 30_000) + Math.random() * 0.05 },
    }));
    await post(`/tracker/api/v1/projects/query/runs/q-${r}/metrics`, { records });
  }
}
const runs = Array.from({ length: QUERY_RUNS }, (_, r) => `q-${r}`).join(",");
async function timeIt(label: string, fn: () => Promise<unknown>, times = 15) {
  await fn(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  const p50 = samples[Math.floor(times / 2)]!;
  const p95 = samples[Math.min(times - 1, Math.floor(times * 0.95))]!;
  console.log(`  ${label}: p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms`);
  return p50;
}
console.log(
  `\nmulti-run metrics: ${QUERY_RUNS} runs × ${fmt(POINTS)} points, LTTB to 1,000 (target p50 < 100 ms)`,
);
let kept = 0;
let cold = 0;
const coldP50 = await timeIt(
  "cold: GET /api/projects/query/runs/metrics, cache missed (a new threshold each time)",
  async () => {
    await (
      await fetch(`${url}/api/projects/query/runs/metrics?runs=${runs}&threshold=${1_000 + ++cold}`)
    ).json();
  },
  5,
);
const jsonP50 = await timeIt(
  "warm: GET /api/projects/query/runs/metrics (JSON, runs unchanged since last read)",
  async () => {
    const res = await fetch(`${url}/api/projects/query/runs/metrics?runs=${runs}`);
    const body = (await res.json()) as { metrics: { loss: Record<string, { steps: number[] }> } };
    kept = Object.values(body.metrics.loss).reduce((n, s) => n + s.steps.length, 0);
  },
);
await timeIt("warm: same, format=msgpack", async () => {
  await (await fetch(`${url}/api/projects/query/runs/metrics?runs=${runs}&format=msgpack`)).arrayBuffer();
});
const rawP50 = await timeIt(
  "reference: the bare SQL read of the same 1,000,000 rows (no LTTB, no HTTP)",
  () =>
    db.prisma.$queryRawUnsafe(
      `SELECT p.step, p.value, p."timestamp" FROM tracking_metric_points p JOIN tracking_metric_series s ON s.id = p.series_id
      JOIN tracking_runs r ON r.id = s.run_id JOIN tracking_projects pr ON pr.id = r.project_id WHERE pr.name = 'query'`,
    ),
  5,
);
console.log(
  `  points returned: ${fmt(kept)} (${QUERY_RUNS} × 1,000); ratio cold endpoint / bare read: ${(coldP50 / rawP50).toFixed(2)}, warm: ${(jsonP50 / rawP50).toFixed(4)}`,
);

await server.close();
if (databaseUrl) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  await client.query(`DROP SCHEMA "${schema}" CASCADE`);
  await client.end();
}
await db.close();
