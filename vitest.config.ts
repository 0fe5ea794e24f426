import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
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
