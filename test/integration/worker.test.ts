// `hiveguard worker` (src/worker.ts): a process started apart, on the servers' PostgreSQL and Redis, runs
// the jobs a server queued. The server here runs no job workers (JOB_WORKERS=0), so the risk-model training
// it queues can only have run in the worker process.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { TRAINING_JOB } from "../../src/modules/guard/risk/service.js";
import { type ServerProcess, startServerProcess } from "../support/process.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { runTraffic, setUpTrafficSite, visitorProfiles } from "../support/traffic.js";
import { clients } from "../guard/helpers.js";

const running: ServerProcess[] = [];
let server: TestServer | undefined;
afterAll(async () => {
  for (const child of running) if (child.child.exitCode === null) child.child.kill("SIGKILL");
  await server?.close();
});

function startWorker(env: Record<string, string>): ServerProcess {
  const child = startServerProcess(
    { LOG_LEVEL: "info", HIVEGUARD_DATA_DIR: mkdtempSync(join(tmpdir(), "hiveguard-worker-")), ...env },
    "src/worker.ts",
  );
  running.push(child);
  return child;
}

describe("hiveguard worker", { timeout: 240_000 }, () => {
  it("refuses to start on the embedded database, with a clear message and no stack", async () => {
    const worker = startWorker({});
    expect(await worker.exited).toBe(2);
    expect(worker.output()).toMatch(/the worker needs DATABASE_URL/);
    expect(worker.output()).not.toMatch(/\n\s+at /);
  });

  it.runIf(process.env.DATABASE_URL)(
    "runs the risk-model training a server with JOB_WORKERS=0 queued; the server then serves the model",
    async () => {
      server = await startTestServer({ env: { JOB_WORKERS: "0" } });
      const site = await setUpTrafficSite(server, { gt: 200, unknown: 300 });
      await runTraffic(server, site, visitorProfiles({ humans: 60, bots: 18, seed: 3 }), { concurrency: 40 });
      const dash = clients(server).dash;
      const started = await dash.post("/dashboard/api/ml/train", undefined);
      expect(started.status).toBe(200);
      expect(started.body).toEqual({ status: "training_started" });

      // Nobody runs it yet: queued, shown as a run that has not progressed.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      expect(await server.server.deps.jobs.latest(TRAINING_JOB)).toMatchObject({ state: "queued" });
      expect((await dash.get("/dashboard/api/ml/status")).body.training).toMatchObject({
        state: "running",
        progress: 0,
        finished_at: null,
      });

      const { shared } = server;
      const worker = startWorker({
        DATABASE_URL: `${shared.databaseUrl!}?schema=${shared.dbSchema!}`,
        ...(shared.redisUrl ? { REDIS_URL: shared.redisUrl, REDIS_PREFIX: shared.statePrefix } : {}),
        SECRET_KEY: shared.secretKey,
        DASHBOARD_USERNAME: "admin",
        DASHBOARD_PASSWORD: shared.dashboardPassword,
      });
      const [, workerId] = await worker.waitFor(/"worker":"([^"]+)"[^\n]*HiveGuard worker running/, 90_000);
      expect(worker.output()).not.toMatch(/listening/i);

      let status = (await dash.get("/dashboard/api/ml/status")).body;
      for (let i = 0; i < 600 && status.training.state === "running"; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        status = (await dash.get("/dashboard/api/ml/status")).body;
      }
      expect(status.training).toMatchObject({ state: "completed", progress: 1, error: null });
      const job = await server.server.deps.jobs.latest(TRAINING_JOB);
      expect(job).toMatchObject({ state: "completed", result: { version: 1 }, attempt: 1 });
      expect(worker.output()).toMatch(/risk model trained/);
      expect(workerId).not.toBe(server.server.deps.jobs.worker);

      // The server loads the model the worker stored (pub/sub over Redis; else its 30 s refresh).
      await expect
        .poll(async () => (await dash.get("/dashboard/api/ml/status")).body.model?.version, {
          timeout: 40_000,
          interval: 250,
        })
        .toBe(1);

      worker.child.kill("SIGTERM");
      expect(await worker.exited).toBe(0);
    },
  );
});
