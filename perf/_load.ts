// A tiny closed-loop load generator: `concurrency` workers repeat one operation for `durationMs`.
// With BENCH_CPU_PROFILE=<dir>, each measurement also writes a V8 CPU profile of this process there
// (open it in Chrome DevTools), so the profile covers the measured load and nothing else.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { join } from "node:path";

export interface LoadResult {
  ops: number;
  perSec: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU time this process spent per operation (user + system, every thread), in ms. */
  cpuMsPerOp: number;
  /** The same for the local PostgreSQL and Redis servers' processes (Linux /proc; NaN elsewhere). */
  serverCpuMsPerOp: { postgres: number; redis: number };
}

export async function load(
  op: (worker: number, i: number) => Promise<void>,
  opts: { concurrency: number; durationMs: number },
): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const profiler = process.env.BENCH_CPU_PROFILE ? await startProfile() : null;
  const cpuStart = process.cpuUsage();
  const serversStart = serverCpuMs();
  const start = performance.now();
  const end = start + opts.durationMs;
  await Promise.all(
    Array.from({ length: opts.concurrency }, async (_, worker) => {
      for (let i = 0; performance.now() < end; i++) {
        const t0 = performance.now();
        try {
          await op(worker, i);
          latencies.push(performance.now() - t0);
        } catch (error) {
          errors++;
          if (errors <= 3) console.error(`  error: ${(error as Error).message}`);
        }
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuStart);
  const serversEnd = serverCpuMs();
  await profiler?.stop();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
  return {
    ops: latencies.length,
    perSec: latencies.length / elapsed,
    p50: pct(0.5),
    p99: pct(0.99),
    errors,
    cpuMsPerOp: (cpu.user + cpu.system) / 1000 / Math.max(1, latencies.length),
    serverCpuMsPerOp: {
      postgres: (serversEnd.postgres - serversStart.postgres) / Math.max(1, latencies.length),
      redis: (serversEnd.redis - serversStart.redis) / Math.max(1, latencies.length),
    },
  };
}

export const fmt = (r: LoadResult, unit: string) =>
  `${r.perSec.toFixed(0).padStart(6)} ${unit}/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  CPU ms/op: this process ${r.cpuMsPerOp.toFixed(2)}, PostgreSQL ${r.serverCpuMsPerOp.postgres.toFixed(2)}, Redis ${r.serverCpuMsPerOp.redis.toFixed(2)}  (${r.ops} ops, ${r.errors} errors)`;

let profileCount = 0;

async function startProfile(): Promise<{ stop(): Promise<void> }> {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  return {
    async stop() {
      const { profile } = await session.post("Profiler.stop");
      const dir = process.env.BENCH_CPU_PROFILE!;
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `load-${process.pid}-${++profileCount}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
      console.log(`  CPU profile: ${file}`);
    },
  };
}

/**
 * CPU time (ms) used so far by every running `postgres` and `redis-server` process, from /proc. A backend
 * that exits during a measurement takes its time with it; the pools keep theirs open, so this is close.
 */
function serverCpuMs(): { postgres: number; redis: number } {
  const totals = { postgres: 0, redis: 0 };
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((name) => /^\d+$/.test(name));
  } catch {
    return { postgres: NaN, redis: NaN };
  }
  const tickMs = 10; // USER_HZ is 100 on Linux
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const kind = name === "postgres" ? "postgres" : name.startsWith("redis-server") ? "redis" : null;
      if (!kind) continue;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      totals[kind] += (Number(fields[11]) + Number(fields[12])) * tickMs; // utime, stime
    } catch {
      // the process ended meanwhile
    }
  }
  return totals;
}
