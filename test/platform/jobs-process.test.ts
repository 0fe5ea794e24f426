// A job's worker process dies (SIGKILL: no shutdown, no more heartbeats) in the middle of two jobs; the next
// process on the same database (a restarted server, or another worker) recovers them: the job whose type
// allows retries runs again and completes, the other is marked failed, and neither stays "running".
// Embedded mode: PGlite on disk, reopened by the next process as a restart would; PostgreSQL: a schema.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DataDirectoryInUseError, type Database, openDatabase } from "../../src/platform/db.js";
import { JobQueue, type JobStatus } from "../../src/platform/jobs.js";
import { createLogger } from "../../src/platform/logger.js";
import { dropSchema, randomSchemaName } from "../support/db.js";
import { type ServerProcess, startServerProcess } from "../support/process.js";
import { slowJobs } from "../support/jobs-types.js";

const log = createLogger(process.env.TEST_LOG_LEVEL ?? "silent");
const databaseUrl = process.env.DATABASE_URL;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
});

async function reopen(target: { schema?: string; dataDir?: string }): Promise<Database> {
  if (databaseUrl) return openDatabase({ databaseUrl, schema: target.schema, logger: log });
  // The killed process's lock on the data directory goes stale after 10 s (platform/db.ts).
  for (let i = 0; ; i++) {
    try {
      return await openDatabase({ dataDir: target.dataDir, logger: log });
    } catch (error) {
      if (!(error instanceof DataDirectoryInUseError) || i > 60) throw error;
      await sleep(500);
    }
  }
}

describe("jobs across processes", { timeout: 180_000 }, () => {
  it("a job running when its process was killed is retried by the next process, or failed without retries", async () => {
    const target = databaseUrl
      ? { schema: randomSchemaName() }
      : { dataDir: mkdtempSync(join(tmpdir(), "hiveguard-jobs-")) };
    if (target.schema) cleanups.push(() => dropSchema(databaseUrl!, target.schema!));
    if (target.dataDir) cleanups.push(async () => rmSync(target.dataDir!, { recursive: true, force: true }));

    const child: ServerProcess = startServerProcess(
      databaseUrl ? { DATABASE_URL: databaseUrl, DB_SCHEMA: target.schema! } : { DATA_DIR: target.dataDir! },
      "test/support/jobs-child.ts",
    );
    cleanups.push(async () => void child.child.kill("SIGKILL"));
    const [, safeId] = await child.waitFor(/queued test\.slow (\S+)\n/);
    const [, unsafeId] = await child.waitFor(/queued test\.slow-unsafe (\S+)\n/);
    await child.waitFor(new RegExp(`running ${safeId}`));
    await child.waitFor(new RegExp(`running ${unsafeId}`));
    await sleep(1000); // a few heartbeats: the progress is in the database
    child.child.kill("SIGKILL");
    await child.exited;

    const db = await reopen(target);
    cleanups.push(() => db.close());
    const queue = new JobQueue({ db, log, workers: 1, staleSeconds: 2, pollSeconds: 0.5, heartbeatMs: 200 });
    cleanups.push(() => queue.stop());
    queue.register(...slowJobs(undefined, true));
    await queue.start();
    const left = await queue.get(safeId!);
    // Left as the dead process wrote it last (unless recovery already ran: PGlite's reopen waits 10 s).
    expect(["running", "retrying", "completed"]).toContain(left?.state);

    const settle = async (id: string): Promise<JobStatus> => {
      for (let i = 0; i < 200; i++) {
        const job = await queue.get(id);
        if (job && ["completed", "failed", "cancelled"].includes(job.state)) return job;
        await sleep(100);
      }
      throw new Error(`job ${id} never finished: ${JSON.stringify(await queue.get(id))}`);
    };
    const safe = await settle(safeId!);
    expect(safe).toMatchObject({ state: "completed", attempt: 2, result: { attempt: 2 } });
    const unsafe = await settle(unsafeId!);
    expect(unsafe).toMatchObject({ state: "failed", attempt: 1 });
    expect(unsafe.error).toMatch(/interrupted: the worker running it stopped/);
    expect(unsafe.progress).toBeGreaterThan(0);
  });
});
