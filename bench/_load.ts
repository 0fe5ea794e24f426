// A tiny closed-loop load generator: `concurrency` workers repeat one operation for `durationMs`.
// With BENCH_CPU_PROFILE=<dir>, each measurement also writes a V8 CPU profile of this process there
// (open it in Chrome DevTools), so the profile covers the measured load and nothing else.
import { mkdirSync, writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { join } from "node:path";

export interface LoadResult {
  ops: number;
  perSec: number;
  p50: number;
  p99: number;
  errors: number;
}

export async function load(
  op: (worker: number, i: number) => Promise<void>,
  opts: { concurrency: number; durationMs: number },
): Promise<LoadResult> {
  const latencies: number[] = [];
  let errors = 0;
  const profiler = process.env.BENCH_CPU_PROFILE ? await startProfile() : null;
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
  await profiler?.stop();
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
  return { ops: latencies.length, perSec: latencies.length / elapsed, p50: pct(0.5), p99: pct(0.99), errors };
}

export const fmt = (r: LoadResult, unit: string) =>
  `${r.perSec.toFixed(0).padStart(6)} ${unit}/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  (${r.ops} ops, ${r.errors} errors)`;

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
