import { availableParallelism } from "node:os";
import { configDefaults, defineConfig } from "vitest/config";

/**
 * Files whose outcome does not depend on DATABASE_URL / REDIS_URL: they use no storage, or choose it
 * themselves (child processes with an explicit environment, PGlite and PostgreSQL side by side). CI runs the
 * suite twice (PostgreSQL + Redis, then embedded); with HIVEGUARD_STORAGE_PASS=1 the second pass leaves these
 * out, because the first pass already ran them exactly as the second would.
 */
const STORAGE_INDEPENDENT = [
  "test/unit/**",
  "test/integration/process.test.ts",
  "test/platform/db.test.ts",
  "test/cli/package.test.ts",
  "test/lab/engine-models.test.ts",
  "test/lab/onnx-export.test.ts",
  "test/bench/engine.test.ts",
  "test/bench/engine-stats.test.ts",
  "test/tracking/lttb.test.ts",
];

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: process.env.HIVEGUARD_STORAGE_PASS
      ? [...configDefaults.exclude, ...STORAGE_INDEPENDENT]
      : configDefaults.exclude,
    // Every file starts its own server on a fresh database and state prefix, so files run in parallel.
    pool: "forks",
    // Files share a worker's module cache: every file starts its own servers on fresh databases and state
    // prefixes (nothing of ours is kept in module state between them), and not importing the whole server
    // again for each of 58 files halves the suite's wall time (import 248 s → 14 s on two cores).
    isolate: false,
    // Vitest's default is cores − 1 (one worker on a 2-core CI box), but most test time is waiting on
    // servers, databases and browsers, not CPU: three files at a time halves the suite's wall time there.
    maxWorkers: Math.max(3, availableParallelism() - 1),
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ["default"],
  },
});
