import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Every file starts its own server on a fresh database and state prefix, so files run in parallel.
    pool: "forks",
    // Vitest's default is cores − 1 (one worker on a 2-core CI box), but most test time is waiting on
    // servers, databases and browsers, not CPU: three files at a time halves the suite's wall time there.
    maxWorkers: Math.max(3, availableParallelism() - 1),
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ["default"],
  },
});
