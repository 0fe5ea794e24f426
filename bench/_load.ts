// A tiny closed-loop load generator: `concurrency` workers repeat one operation for `durationMs`.

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
  latencies.sort((a, b) => a - b);
  const pct = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
  return { ops: latencies.length, perSec: latencies.length / elapsed, p50: pct(0.5), p99: pct(0.99), errors };
}

export const fmt = (r: LoadResult, unit: string) =>
  `${r.perSec.toFixed(0).padStart(6)} ${unit}/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  (${r.ops} ops, ${r.errors} errors)`;
