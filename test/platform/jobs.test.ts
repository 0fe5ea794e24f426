// The job queue (src/platform/jobs.ts) on the real database of the run (in-memory PGlite, or a fresh
// PostgreSQL schema with DATABASE_URL): progress, results, failures with retries and backoff, cancel that
// stops the handler, recovery of a job whose worker died, exclusive types, schedules across two queues.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../../src/platform/db.js";
import {
  defineJob,
  JobConflictError,
  JobQueue,
  type JobStatus,
  PermanentJobError,
} from "../../src/platform/jobs.js";
import { createLogger } from "../../src/platform/logger.js";
import { openTestDatabase, type TestDatabase } from "../support/db.js";

const log = createLogger(process.env.TEST_LOG_LEVEL ?? "silent");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let test: TestDatabase;
let db: Database;
const queues: JobQueue[] = [];

beforeAll(async () => {
  test = await openTestDatabase(log);
  db = test.db;
});
afterAll(async () => {
  for (const queue of queues) await queue.stop().catch(() => {});
  await test?.cleanup();
});

/** A queue on the test database; a second one on the same database plays another instance/process. */
async function startQueue(
  types: Parameters<JobQueue["register"]>,
  options: { workers?: number; staleSeconds?: number } = {},
) {
  const queue = new JobQueue({
    db,
    log,
    workers: options.workers ?? 1,
    staleSeconds: options.staleSeconds ?? 30,
    pollSeconds: 0.5,
    heartbeatMs: 200,
  });
  queue.register(...types);
  await queue.start();
  queues.push(queue);
  return queue;
}

async function waitFor(
  queue: JobQueue,
  id: string,
  done: (job: JobStatus) => boolean,
  timeoutMs = 20_000,
): Promise<JobStatus> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const job = await queue.get(id);
    if (job && done(job)) return job;
    if (Date.now() > until) throw new Error(`job ${id} still ${JSON.stringify(job)}`);
    await sleep(100);
  }
}
const finished = (job: JobStatus) => ["completed", "failed", "cancelled"].includes(job.state);

describe("job queue", () => {
  it("runs a job, reports its progress and message while it runs, and keeps its result", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const square = defineJob<{ n: number }, { square: number }>({
      name: "test.square",
      run: async ({ data, progress }) => {
        progress(40, "halfway there");
        await gate;
        return { square: data.n * data.n };
      },
    });
    const queue = await startQueue([square]);
    const id = await queue.enqueue(square, { n: 7 });
    const running = await waitFor(queue, id, (job) => job.progress === 40);
    expect(running).toMatchObject({ state: "running", message: "halfway there", attempt: 1, error: null });
    expect(running.startedAt).toBeInstanceOf(Date);
    release();
    const done = await waitFor(queue, id, finished);
    expect(done).toMatchObject({
      state: "completed",
      progress: 100,
      message: "halfway there",
      result: { square: 49 },
      error: null,
      data: { n: 7 },
    });
    expect(done.finishedAt!.getTime()).toBeGreaterThanOrEqual(done.startedAt!.getTime());
    expect(await queue.latest(square)).toMatchObject({ id, state: "completed" });
    const second = await queue.enqueue(square, { n: 3 });
    await waitFor(queue, second, finished);
    expect((await queue.list({ types: [square.name] })).map((job) => job.id)).toEqual([second, id]);
    expect(await queue.list({ types: [square.name], states: ["failed", "running"] })).toEqual([]);
    expect(await queue.list({ types: ["test.other"] })).toEqual([]);
    expect(await queue.get("00000000-0000-0000-0000-000000000000")).toBeNull();
    expect(await queue.get("not-an-id")).toBeNull();
    await queue.stop();
  });

  it("retries a failing job with growing delays, then succeeds; a type without retries fails at once", async () => {
    const attempts: { attempt: number; at: number }[] = [];
    const flaky = defineJob<void, string>({
      name: "test.flaky",
      retry: { limit: 3, delaySeconds: 1, backoff: true },
      run: async ({ attempt }) => {
        attempts.push({ attempt, at: Date.now() });
        if (attempt < 3) throw new Error(`attempt ${attempt} failed`);
        return "ok";
      },
    });
    const once = defineJob<void, void>({
      name: "test.once",
      run: async ({ progress }) => {
        progress(10, "reading");
        throw new Error("the input is broken");
      },
    });
    const permanent = defineJob<void, void>({
      name: "test.permanent",
      retry: { limit: 5, delaySeconds: 1 },
      run: async () => {
        throw new PermanentJobError("no point in trying again");
      },
    });
    const queue = await startQueue([flaky, once, permanent]);
    const id = await queue.enqueue(flaky, undefined);
    const retrying = await waitFor(queue, id, (job) => job.state === "retrying");
    expect(retrying).toMatchObject({ error: "attempt 1 failed", attempt: 1, maxAttempts: 4 });
    expect(retrying.runAfter!.getTime()).toBeGreaterThan(Date.now() - 1000);
    const done = await waitFor(queue, id, finished, 30_000);
    expect(done).toMatchObject({ state: "completed", result: "ok", attempt: 3 });
    expect(attempts.map((a) => a.attempt)).toEqual([1, 2, 3]);
    // Backoff: delay n is 2^n/2 .. 2^n seconds (with jitter), so the second wait is at least 2 s.
    expect(attempts[2]!.at - attempts[1]!.at).toBeGreaterThanOrEqual(1900);

    const failed = await waitFor(queue, await queue.enqueue(once, undefined), finished);
    expect(failed).toMatchObject({
      state: "failed",
      error: "the input is broken",
      progress: 10,
      message: "reading",
      attempt: 1,
      maxAttempts: 1,
    });
    const refused = await waitFor(queue, await queue.enqueue(permanent, undefined), finished);
    expect(refused).toMatchObject({ state: "failed", error: "no point in trying again", attempt: 1 });
    await queue.stop();
  }, 45_000);

  it("cancel aborts the handler's signal: the work stops, on this queue and from another instance", async () => {
    let steps = 0;
    let stoppedBecause: unknown = null;
    const long = defineJob<void, void>({
      name: "test.long",
      run: async ({ signal, progress }) => {
        try {
          for (let i = 0; i < 600; i++) {
            signal.throwIfAborted();
            steps++;
            progress(i / 6, `step ${i}`);
            await sleep(50);
          }
        } catch (error) {
          stoppedBecause = error;
          throw error;
        }
      },
    });
    const worker = await startQueue([long]);
    const other = await startQueue([long], { workers: 0 });

    for (const canceller of [worker, other]) {
      steps = 0;
      stoppedBecause = null;
      const id = await other.enqueue(long, undefined);
      await waitFor(worker, id, (job) => job.state === "running" && job.progress > 0);
      const cancelled = await canceller.cancel(id);
      expect(cancelled).toMatchObject({ state: "cancelled", error: "cancelled" });
      await expect.poll(() => stoppedBecause, { timeout: 5000 }).not.toBeNull();
      const at = steps;
      await sleep(500);
      expect(steps).toBe(at);
      expect(String(stoppedBecause)).toMatch(/cancelled/);
      expect(await worker.get(id)).toMatchObject({ state: "cancelled" });
    }
    // A queued job that is cancelled never starts.
    const blocker = await other.enqueue(long, undefined);
    await waitFor(worker, blocker, (job) => job.state === "running");
    const queued = await other.enqueue(long, undefined);
    expect(await other.cancel(queued)).toMatchObject({ state: "cancelled" });
    await other.cancel(blocker);
    await sleep(1500);
    expect(await worker.get(queued)).toMatchObject({ state: "cancelled", startedAt: null });
    await worker.stop();
    await other.stop();
  }, 30_000);

  it("a job whose worker died is retried by another (or failed when its type has no retries), never left active", async () => {
    let runs = 0;
    const safe = defineJob<void, string>({
      name: "test.safe",
      retry: { limit: 2, delaySeconds: 1 },
      run: async ({ attempt }) => {
        runs++;
        return `done on attempt ${attempt}`;
      },
    });
    const unsafe = defineJob<void, string>({ name: "test.unsafe", run: async () => "never" });
    // Play the dead worker: mark jobs active with an old heartbeat, as a killed process leaves them.
    const producer = await startQueue([safe, unsafe], { workers: 0, staleSeconds: 2 });
    const safeId = await producer.enqueue(safe, undefined);
    const unsafeId = await producer.enqueue(unsafe, undefined);
    await db.execute(
      `UPDATE ${producer.schema}.job SET state = 'active', started_on = now() - interval '1 minute',
         output = jsonb_build_object('progress', 30, 'message', 'reading', 'worker', 'dead:1',
           'heartbeat_at', floor(extract(epoch from now() - interval '10 seconds') * 1000))
       WHERE id IN ($1::uuid, $2::uuid)`,
      [safeId, unsafeId],
    );
    expect(await producer.get(safeId)).toMatchObject({ state: "running", progress: 30 });
    const rescuer = await startQueue([safe, unsafe], { staleSeconds: 2 });
    const retried = await waitFor(rescuer, safeId, finished);
    expect(retried).toMatchObject({ state: "completed", result: "done on attempt 2", attempt: 2 });
    expect(runs).toBe(1);
    const failed = await waitFor(rescuer, unsafeId, finished);
    expect(failed).toMatchObject({ state: "failed" });
    expect(failed.error).toMatch(/interrupted: the worker running it stopped/);
    await producer.stop();
    await rescuer.stop();
  }, 30_000);

  it("a graceful stop aborts the running job; the next instance retries it (or it fails without retries)", async () => {
    const make = (name: string, retries: number) =>
      defineJob<void, number>({
        name,
        ...(retries ? { retry: { limit: retries, delaySeconds: 1 } } : {}),
        run: async ({ signal, attempt, progress }) => {
          for (let i = 0; attempt === 1 && i < 600; i++) {
            signal.throwIfAborted();
            progress(i, "working");
            await sleep(50);
          }
          return attempt;
        },
      });
    const types = [make("test.restart", 1), make("test.restart-once", 0)];
    const first = await startQueue(types);
    const [safe, unsafe] = [
      await first.enqueue(types[0]!, undefined),
      await first.enqueue(types[1]!, undefined),
    ];
    await waitFor(first, safe!, (job) => job.progress > 0);
    await waitFor(first, unsafe!, (job) => job.progress > 0);
    await first.stop();
    expect(await first.get(unsafe!)).toMatchObject({
      state: "failed",
      error: "the process running it is shutting down",
    });
    expect(await first.get(safe!)).toMatchObject({ state: "retrying" });
    const second = await startQueue(types);
    expect(await waitFor(second, safe!, finished)).toMatchObject({ state: "completed", result: 2 });
    await second.stop();
  });

  it("an exclusive type takes one job at a time, also when two instances enqueue at once", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const only = defineJob<void, void>({ name: "test.exclusive", exclusive: true, run: () => gate });
    const a = await startQueue([only]);
    const b = await startQueue([only], { workers: 0 });
    const results = await Promise.allSettled([a.enqueue(only, undefined), b.enqueue(only, undefined)]);
    const accepted = results.filter((r) => r.status === "fulfilled");
    const refused = results.filter((r) => r.status === "rejected");
    expect(accepted).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect((refused[0] as PromiseRejectedResult).reason).toBeInstanceOf(JobConflictError);
    const id = (accepted[0] as PromiseFulfilledResult<string>).value;
    await waitFor(a, id, (job) => job.state === "running");
    await expect(b.enqueue(only, undefined)).rejects.toThrow(/already running/);
    release();
    await waitFor(a, id, finished);
    const next = await b.enqueue(only, undefined);
    expect(await waitFor(a, next, finished)).toMatchObject({ state: "completed" });
    await a.stop();
    await b.stop();
  });

  it("an interval schedule fires once per slot across two instances", async () => {
    const fired: string[] = [];
    const tick = defineJob<void, void>({
      name: "test.tick",
      schedule: { everySeconds: 2 },
      run: async ({ id }) => void fired.push(id),
    });
    const a = await startQueue([tick]);
    const b = await startQueue([tick]);
    const started = Date.now();
    await sleep(7000);
    await a.stop();
    await b.stop();
    const elapsedSlots = (Date.now() - started) / 2000;
    const { rows } = await db.execute(
      `SELECT count(*)::int AS n, count(DISTINCT singleton_on)::int AS slots FROM ${a.schema}.job WHERE name = 'test.tick'`,
    );
    const { n, slots } = rows[0] as { n: number; slots: number };
    expect(n).toBe(slots);
    expect(n).toBeGreaterThanOrEqual(Math.floor(elapsedSlots) - 1);
    expect(n).toBeLessThanOrEqual(Math.ceil(elapsedSlots) + 1);
    expect(new Set(fired).size).toBe(fired.length);
  }, 20_000);
});
