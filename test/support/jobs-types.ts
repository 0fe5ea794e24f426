// Job types shared by a test and the child process it kills (test/support/jobs-child.ts).
import { defineJob } from "../../src/platform/jobs.js";

/** `test.slow` (safe to retry: 2 retries) and `test.slow-unsafe` (no retries): 60 s of steps, or `fast`. */
export function slowJobs(onRunning: (id: string) => void = () => {}, fast = false) {
  const run = async ({
    id,
    signal,
    progress,
    attempt,
  }: Parameters<Parameters<typeof defineJob>[0]["run"]>[0]) => {
    for (let i = 0; i < (fast ? 1 : 600); i++) {
      signal.throwIfAborted();
      progress(i / 6, `step ${i}`);
      if (i === 1) onRunning(id);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { attempt };
  };
  return [
    defineJob<object, { attempt: number }>({
      name: "test.slow",
      retry: { limit: 2, delaySeconds: 1 },
      run,
    }),
    defineJob<object, { attempt: number }>({ name: "test.slow-unsafe", run }),
  ];
}
