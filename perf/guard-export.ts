// Label export: 1,000,000 labels as CSV through GET /dashboard/api/item-datasets/{id}/labeled/export, against
// `psql \copy (same query) TO STDOUT WITH CSV` of the same rows in the same run. Reports throughput as a
// ratio (target ≥ 0.5×) and the server process's peak RSS growth during the export (target ≤ 64 MB).
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { get } from "node:http";
import { fmt, mb, startBenchServer } from "./support.js";

const ROWS = Number(process.env.BENCH_EXPORT_ROWS ?? 1_000_000);

/** Bytes of the response body, read as fast as the socket delivers it. */
function download(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { headers, agent: false }, (res) => {
      if (res.statusCode !== 200) reject(new Error(`export answered ${res.statusCode}`));
      let bytes = 0;
      res.on("data", (chunk: Buffer) => (bytes += chunk.length));
      res.on("end", () => resolve(bytes));
      res.on("error", reject);
    }).on("error", reject);
  });
}

/** The kernel's peak RSS of this process (VmHWM), or null where /proc is missing. */
function highWaterMark(): number | null {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    return kb ? Number(kb) * 1024 : null;
  } catch {
    return null;
  }
}

/**
 * Runs `work` and returns its result with the peak RSS growth of this process (which is the server: it runs
 * in-process, and the client only counts bytes) over the RSS just before. On Linux the kernel's high-water
 * mark is reset first (`/proc/self/clear_refs` ← 5) and read after, so no short peak is missed between
 * samples; elsewhere RSS is sampled every 10 ms.
 */
async function peakRssGrowth<T>(work: () => Promise<T>): Promise<{ result: T; growth: number }> {
  global.gc?.();
  const before = process.memoryUsage.rss();
  let kernel = false;
  try {
    writeFileSync("/proc/self/clear_refs", "5");
    kernel = highWaterMark() !== null;
  } catch {
    kernel = false;
  }
  let sampled = before;
  const sampler = setInterval(() => (sampled = Math.max(sampled, process.memoryUsage.rss())), 10);
  try {
    const result = await work();
    sampled = Math.max(sampled, process.memoryUsage.rss());
    const peak = kernel ? Math.max(highWaterMark() ?? 0, sampled) : sampled;
    return { result, growth: peak - before };
  } finally {
    clearInterval(sampler);
  }
}

function psqlCopy(databaseUrl: string, schema: string, sql: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      "psql",
      [databaseUrl, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", `\\copy (${sql}) TO STDOUT WITH CSV HEADER`],
      {
        env: { ...process.env, PGOPTIONS: `-c search_path=${schema}` },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let bytes = 0;
    child.stdout.on("data", (chunk: Buffer) => (bytes += chunk.length));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(bytes) : reject(new Error(`psql exited with ${code}`)),
    );
  });
}

export async function run(): Promise<void> {
  const bench = await startBenchServer();
  try {
    const prisma = bench.server.deps.db.prisma;
    const dataset = await bench.server.deps.services.datasets.create({ name: "Bench", modality: "image" });
    console.log(`seeding ${fmt(ROWS)} labels...`);
    await prisma.$executeRawUnsafe(
      `WITH new_items AS (
         INSERT INTO items (dataset_id, data_ref, modality, state, vote_count)
         SELECT $1::uuid, 'https://cdn.example.com/images/' || g || '.jpg', 'image', 'labeled', 5
         FROM generate_series(1, $2::int) g RETURNING id, dataset_id, seq)
       INSERT INTO labels (item_id, dataset_id, label, confidence, solver_count, vote_count)
       SELECT id, dataset_id, to_jsonb(CASE WHEN seq % 2 = 0 THEN 'yes' ELSE 'no' END), 0.8 + (seq % 20) / 100.0, 5, 5
       FROM new_items ORDER BY seq`,
      dataset.id,
      ROWS,
    );
    await prisma.$executeRawUnsafe("ANALYZE items; ANALYZE labels");

    const sql = `SELECT l.item_id, i.data_ref, i.modality, l.label #>> '{}' AS label, l.confidence, l.solver_count,
      to_char(l.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at
      FROM labels l JOIN items i ON i.id = l.item_id
      WHERE l.dataset_id = '${dataset.id}' AND i.state <> 'needs_review' ORDER BY l.seq`;
    // Warm both paths once (connection, plan cache, page cache), then measure.
    await psqlCopy(bench.databaseUrl, bench.schema, `${sql} LIMIT 1000`);
    const exportUrl = `${bench.url}/dashboard/api/item-datasets/${dataset.id}/labeled/export?fmt=csv`;

    let started = performance.now();
    const psqlBytes = await psqlCopy(bench.databaseUrl, bench.schema, sql);
    const psqlSec = (performance.now() - started) / 1000;

    started = performance.now();
    const csv = await peakRssGrowth(() => download(exportUrl, { authorization: bench.dashboardAuth }));
    const ourSec = (performance.now() - started) / 1000;
    const ourBytes = csv.result;
    const growth = csv.growth;

    // The batch path (JSON Lines; also what CSV uses on PGlite), for the record.
    started = performance.now();
    const jsonl = await peakRssGrowth(() =>
      download(exportUrl.replace("fmt=csv", "fmt=jsonl"), { authorization: bench.dashboardAuth }),
    );
    const jsonlSec = (performance.now() - started) / 1000;

    const ratio = psqlSec / ourSec;
    console.log(`rows:                 ${fmt(ROWS)}`);
    console.log(
      `psql \\copy (CSV):     ${fmt(psqlSec, 2)} s  ${fmt(ROWS / psqlSec)} rows/s  ${mb(psqlBytes)}`,
    );
    console.log(`HiveGuard export CSV: ${fmt(ourSec, 2)} s  ${fmt(ROWS / ourSec)} rows/s  ${mb(ourBytes)}`);
    console.log(
      `throughput ratio:     ${fmt(ratio, 2)}× of psql \\copy (target ≥ 0.5×)  ${ratio >= 0.5 ? "OK" : "BELOW TARGET"}`,
    );
    console.log(
      `peak RSS growth:      ${mb(growth)} (target ≤ 64 MB)  ${growth <= 64 * 1024 * 1024 ? "OK" : "ABOVE TARGET"}`,
    );
    console.log(
      `HiveGuard export JSONL (batch path): ${fmt(jsonlSec, 2)} s  ${fmt(ROWS / jsonlSec)} rows/s  ` +
        `${mb(jsonl.result)}  peak RSS growth ${mb(jsonl.growth)}`,
    );
  } finally {
    await bench.close();
  }
}
