// A cron schedule (pg-boss's clock) on two instances of the queue fires once per firing, not once per
// instance. Up to a minute of waiting for the next minute boundary: a file of its own so it runs beside others.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { defineJob, JobQueue } from "../../src/platform/jobs.js";
import { createLogger } from "../../src/platform/logger.js";
import { openTestDatabase, type TestDatabase } from "../support/db.js";

const log = createLogger(process.env.TEST_LOG_LEVEL ?? "silent");
let test: TestDatabase;
const queues: JobQueue[] = [];
beforeAll(async () => {
  test = await openTestDatabase(log);
});
afterAll(async () => {
  for (const queue of queues) await queue.stop().catch(() => {});
  await test?.cleanup();
});

describe("cron schedules", () => {
  it("a job scheduled every minute on two instances runs once per minute", async () => {
    const minuteOf = (time: number) => Math.floor(time / 60_000);
    const testStarted = Date.now();
    const runs: { id: string; queue: number }[] = [];
    const make = (queue: number) =>
      defineJob<object, void>({
        name: "test.cron",
        schedule: { cron: "* * * * *", data: { from: "schedule" } },
        run: async ({ id, data }) => {
          expect(data).toEqual({ from: "schedule" });
          runs.push({ id, queue });
        },
      });
    for (const n of [1, 2]) {
      const queue = new JobQueue({ db: test.db, log, workers: 1, pollSeconds: 0.5, cronCheckSeconds: 1 });
      queue.register(make(n));
      await queue.start();
      queues.push(queue);
    }
    await expect.poll(() => runs.length, { timeout: 75_000, interval: 500 }).toBeGreaterThan(0);
    // Both clocks keep checking every second until that minute is over: still one job for it.
    const first = (await queues[0]!.get(runs[0]!.id))!;
    expect(first.state).toBe("completed");
    const minuteEnds = (minuteOf(first.createdAt.getTime()) + 1) * 60_000;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, minuteEnds - Date.now() - 1500)));
    // At most one job per firing, whichever instance sent it: a firing is a minute's start, so no more jobs
    // than minutes begun since the test started. (Counted by firings rather than by each job's creation
    // minute: on a loaded machine pg-boss may create a minute's job a few seconds into the next minute.)
    const firings = minuteOf(Date.now()) - minuteOf(testStarted) + 1;
    expect(runs.length).toBeLessThanOrEqual(firings);
    expect(new Set(runs.map((run) => run.id)).size).toBe(runs.length);
  }, 160_000);
});
