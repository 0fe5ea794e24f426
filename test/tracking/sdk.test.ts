// The SDK against the real server: batching, the on-disk offline queue (server down, then up: no point
// lost, none duplicated), the context-manager style helper, artifacts, and the in-process transport.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drainQueue, init, withRun } from "../../clients/ts/tracking/index.js";
import { inProcessTransport } from "../support/in-process-transport.js";
import { startTestServer, type TestServer } from "../support/server.js";

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
}, 60_000);
afterAll(async () => {
  await t?.close();
});

const credentials = () => ({ username: "admin", password: t.shared.dashboardPassword });
const read = async (path: string) => {
  const res = await fetch(`${t.url}${path}`, { headers: { authorization: t.dashboardAuth } });
  return { status: res.status, body: (await res.json()) as any };
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A port nothing listens on yet; `up()` starts forwarding it to the server, `down()` stops. */
async function flakyPort(target: string) {
  const port = await new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const targetPort = Number(new URL(target).port);
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    up: () =>
      new Promise<void>((resolve) => {
        server = net.createServer((inbound) => {
          const outbound = net.connect(targetPort, "127.0.0.1");
          for (const s of [inbound, outbound]) {
            sockets.add(s);
            s.on("error", () => {});
            s.on("close", () => (inbound.destroy(), outbound.destroy(), sockets.delete(s)));
          }
          inbound.pipe(outbound).pipe(inbound);
        });
        server.listen(port, "127.0.0.1", () => resolve());
      }),
    down: async () => {
      for (const s of sockets) s.destroy();
      if (server?.listening) await new Promise<void>((resolve) => server!.close(() => resolve()));
    },
  };
}

describe("offline queue", () => {
  it("server down, then up: every point arrives once, and log never blocked", async () => {
    const port = await flakyPort(t.url);
    const queueDir = mkdtempSync(join(tmpdir(), "hg-queue-"));
    const warnings: string[] = [];
    const run = init({
      project: "offline",
      name: "down-then-up",
      config: { lr: 0.1 },
      url: port.url,
      ...credentials(),
      queueDir,
      flushIntervalMs: 20,
      retryInitialMs: 50,
      retryMaxMs: 200,
      finishTimeoutMs: 10_000,
      onWarning: (message) => warnings.push(message),
    });

    // log is synchronous (nothing to await) and never throws while the server is down.
    for (let step = 0; step < 3_000; step++) {
      expect(run.log({ loss: 1 / (step + 1), acc: step / 3_000 })).toBeUndefined();
    }
    expect(run.pending).toBeGreaterThanOrEqual(3_000);

    await sleep(400); // the background flushes fail and go to disk
    expect(readdirSync(queueDir).filter((f) => f.endsWith(".jsonl"))).toHaveLength(1);
    expect(warnings.some((w) => w.startsWith("server unreachable"))).toBe(true);
    expect(run.pending).toBeGreaterThan(0);

    await port.up();
    await run.finish(0);
    expect(run.pending).toBe(0);
    expect(readdirSync(queueDir).filter((f) => f.endsWith(".jsonl"))).toEqual([]);

    const metrics = await read("/api/projects/offline/runs/down-then-up/metrics?threshold=100000");
    expect(metrics.body.metrics.loss.steps).toEqual(Array.from({ length: 3_000 }, (_, i) => i));
    expect(metrics.body.metrics.acc.values[1_500]).toBe(0.5);
    const runs = await read("/api/projects/offline/runs");
    expect(runs.body[0]).toMatchObject({ name: "down-then-up", status: "completed", params: { lr: 0.1 } });
    await port.down();
  });

  it("finish while the server stays down returns in time without throwing; drainQueue sends it later", async () => {
    const port = await flakyPort(t.url);
    const queueDir = mkdtempSync(join(tmpdir(), "hg-queue-"));
    const run = init({
      project: "offline",
      name: "down-at-finish",
      url: port.url,
      ...credentials(),
      queueDir,
      retryInitialMs: 50,
      finishTimeoutMs: 300,
      onWarning: () => {},
    });
    for (let step = 0; step < 250; step++) run.log({ loss: step });
    const started = performance.now();
    await run.finish(2);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(run.pending).toBeGreaterThan(0);

    await port.up();
    // The same batch sent twice (as after a response lost on the way back) must not duplicate anything.
    const file = join(queueDir, readdirSync(queueDir)[0]!);
    writeFileSync(file, readFileSync(file, "utf8") + readFileSync(file, "utf8"));
    const drained = await drainQueue({ url: port.url, ...credentials(), queueDir });
    expect(drained).toMatchObject({ remaining: 0 });
    expect(existsSync(file)).toBe(false);

    const metrics = await read("/api/projects/offline/runs/down-at-finish/metrics?threshold=100000");
    expect(metrics.body.metrics.loss.steps).toEqual(Array.from({ length: 250 }, (_, i) => i));
    const runs = await read("/api/projects/offline/runs");
    expect(runs.body.find((r: any) => r.name === "down-at-finish")).toMatchObject({
      status: "failed",
      exit_code: 2,
    });
    await port.down();
  });
});

describe("credentials", () => {
  it("wrong credentials are reported as rejected (not as an unreachable server) and the records wait on disk", async () => {
    const warnings: string[] = [];
    const options = {
      project: "auth",
      name: "wrong-password",
      url: t.url,
      queueDir: mkdtempSync(join(tmpdir(), "hg-queue-")),
      flushIntervalMs: 20,
      retryInitialMs: 50,
      finishTimeoutMs: 300,
      onWarning: (message: string) => warnings.push(message),
    };
    const run = init({ ...options, username: "admin", password: "not-the-password" });
    run.log({ loss: 1 });
    await run.finish(0);
    expect(run.pending).toBeGreaterThan(0);
    expect(warnings.find((w) => w.startsWith("credentials rejected"))).toContain(
      `${t.url} rejected the dashboard credentials (401): check HIVEGUARD_USERNAME / HIVEGUARD_PASSWORD`,
    );
    expect(warnings.join("\n")).not.toContain("not-the-password");
    expect(warnings.some((w) => w.startsWith("server unreachable"))).toBe(false);

    // With the right credentials the queued run arrives.
    await drainQueue({ url: t.url, ...credentials(), queueDir: options.queueDir });
    const runs = await read("/api/projects/auth/runs");
    expect(runs.body.map((run: { name: string }) => run.name)).toEqual(["wrong-password"]);
  });
});

describe("SDK usage", () => {
  it("withRun finishes completed, or failed when the training throws; artifacts and config arrive", async () => {
    const queueDir = mkdtempSync(join(tmpdir(), "hg-queue-"));
    const artifact = join(queueDir, "model.txt");
    writeFileSync(artifact, "weights");
    const options = { project: "sdk", url: t.url, ...credentials(), queueDir };
    await withRun({ ...options, name: "ok", tags: ["t1"] }, (run) => {
      run.log({ loss: 1 }, { step: 10 });
      run.log({ loss: 0.5 });
      run.setConfig({ epochs: 2 });
      run.addTags(["t2"]);
      run.logArtifact(artifact);
    });
    await expect(
      withRun({ ...options, name: "boom" }, (run) => {
        run.log({ loss: 1 });
        throw new Error("diverged");
      }),
    ).rejects.toThrow("diverged");

    const runs = (await read("/api/projects/sdk/runs")).body;
    const ok = runs.find((r: any) => r.name === "ok");
    expect(ok).toMatchObject({
      status: "completed",
      params: { epochs: 2 },
      tags: ["t1", "t2"],
      artifact_count: 1,
      last_step: 11,
    });
    expect(runs.find((r: any) => r.name === "boom")).toMatchObject({ status: "failed", exit_code: 1 });
    expect((await read("/api/projects/sdk/runs/ok/metrics")).body.metrics.loss.steps).toEqual([10, 11]);
  });

  it("batches many log calls into few requests of at most 10,000 points", async () => {
    let requests = 0;
    const counting = {
      async send(op: any) {
        requests++;
        if (op.kind === "metrics") expect(op.records.length * 5).toBeLessThanOrEqual(10_000);
        await inProcessTransport(t.server.deps.services.tracking).send(op);
      },
    };
    const run = init({
      project: "sdk",
      name: "batched",
      transport: counting,
      queueDir: mkdtempSync(join(tmpdir(), "q-")),
    });
    for (let step = 0; step < 5_000; step++) run.log({ a: 1, b: 2, c: 3, d: 4, e: step });
    await run.finish();
    // create + 3 metric batches (25,000 points) + finish
    expect(requests).toBe(5);
    expect((await read("/api/projects/sdk/runs")).body.find((r: any) => r.name === "batched").last_step).toBe(
      4_999,
    );
  });

  it("the server can log to itself in-process (the risk model's training runs)", async () => {
    const run = init({
      project: "hiveguard-risk-model",
      name: "training-1",
      config: { model: "logistic" },
      transport: inProcessTransport(t.server.deps.services.tracking),
      queueDir: mkdtempSync(join(tmpdir(), "q-")),
    });
    run.log({ auc: 0.91, logloss: 0.3 });
    await run.finish(0);
    const runs = (await read("/api/projects/hiveguard-risk-model/runs")).body;
    expect(runs[0]).toMatchObject({
      name: "training-1",
      status: "completed",
      metric_names: ["auc", "logloss"],
    });
  });
});
