import { createServer as createHttpServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { dropSchema, randomSchemaName } from "../support/db.js";
import { type ServerProcess, startServerProcess } from "../support/process.js";

const running: ServerProcess[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) {
    if (server.child.exitCode === null) {
      server.child.kill("SIGKILL");
      await server.exited;
    }
  }
});

function start(env: Record<string, string>): ServerProcess {
  const server = startServerProcess({ HOST: "127.0.0.1", PORT: "0", LOG_LEVEL: "warn", ...env });
  running.push(server);
  return server;
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

// Each test starts real processes (tsx compiling the sources, PGlite on disk): generous bounds for a loaded CI box.
describe("the server process (npm start)", { timeout: 180_000 }, () => {
  it("starts on embedded defaults, prints first-run credentials once, and stops cleanly on SIGTERM", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "hiveguard-process-"));
    const first = start({ HIVEGUARD_DATA_DIR: dataDir });
    const [, url] = await first.waitFor(/HiveGuard \S+ at (http:\/\/\S+)/);
    const [, password] = first.output().match(/dashboard password: (\S+)/)!;
    // The banner says where the dashboard and tracking are (issue 17, point 2).
    const [, dashboard, tracking] = await first.waitFor(/Dashboard: (\S+)\s+·\s+tracking: (\S+)/);
    expect([dashboard, tracking]).toEqual([`${url}/dashboard`, `${url}/`]);

    const health = await fetch(`${url}/api/v1/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: "ok" });
    const anonymousReady = await fetch(`${url}/api/v1/ready`);
    expect(await anonymousReady.json()).toEqual({ status: "ready" });
    const ready = await fetch(`${url}/api/v1/ready`, {
      headers: { authorization: basic("admin", password!) },
    });
    expect(await ready.json()).toMatchObject({
      database: { backend: "pglite", ok: true },
      state: { backend: "memory" },
    });
    const config = await fetch(`${url}/dashboard/api/config`, {
      headers: { authorization: basic("admin", password!) },
    });
    expect(config.status).toBe(200);
    await config.arrayBuffer();

    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    expect(first.output()).not.toMatch(/\n\s+at /);

    // Second start on the same data directory: same credentials, not printed again.
    const second = start({ HIVEGUARD_DATA_DIR: dataDir });
    const [, secondUrl] = await second.waitFor(/HiveGuard \S+ at (http:\/\/\S+)/);
    expect(second.output()).not.toContain(password);
    const again = await fetch(`${secondUrl}/dashboard/api/config`, {
      headers: { authorization: basic("admin", password!) },
    });
    expect(again.status).toBe(200);
    await again.arrayBuffer();
    second.child.kill("SIGINT");
    expect(await second.exited).toBe(0);
  });

  it("finishes a request that is in flight when SIGTERM arrives", async () => {
    const server = start({
      HIVEGUARD_DATA_DIR: mkdtempSync(join(tmpdir(), "hiveguard-process-")),
      DASHBOARD_USERNAME: "ops",
      DASHBOARD_PASSWORD: "drain-test-password",
    });
    const [, url] = await server.waitFor(/HiveGuard \S+ at (http:\/\/\S+)/);
    const body = JSON.stringify({ risk_threshold: 0.42 });

    const response = new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = request(`${url}/dashboard/api/config`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          authorization: basic("ops", "drain-test-password"),
        },
      });
      req.on("response", (res) => {
        let text = "";
        res.on("data", (chunk) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode!, text }));
      });
      req.on("error", reject);
      // Half the body now, SIGTERM, then the rest: the request is in flight during shutdown.
      req.write(body.slice(0, 10));
      setTimeout(() => {
        server.child.kill("SIGTERM");
        setTimeout(() => req.end(body.slice(10)), 300);
      }, 200);
    });

    const answer = await response;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text).risk_threshold).toBe(0.42);
    expect(await server.exited).toBe(0);
  });

  it("lets a slow proxied request finish while SIGTERM is processed, and refuses new connections meanwhile", async () => {
    // The protected site answers after 1.5 s; the visitor is let through (empty pool, fail-open).
    const upstream = createHttpServer((req, res) => {
      setTimeout(() => {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end(`slow answer for ${req.url}`);
      }, 1500);
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", () => resolve()));
    try {
      const server = start({
        HIVEGUARD_DATA_DIR: mkdtempSync(join(tmpdir(), "hiveguard-process-")),
        TARGET_URL: `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      });
      const [, url] = await server.waitFor(/HiveGuard \S+ at (http:\/\/\S+)/);
      const slow = fetch(`${url}/slow/page`, { headers: { accept: "application/json" } }).then(
        async (res) => ({
          status: res.status,
          text: await res.text(),
        }),
      );
      await new Promise((resolve) => setTimeout(resolve, 400));
      server.child.kill("SIGTERM");
      await new Promise((resolve) => setTimeout(resolve, 300));
      // A new connection during the drain is not served.
      const late = await fetch(`${url}/api/v1/health`).then(
        (res) => res.status,
        () => "refused",
      );
      expect(late === "refused" || late === 503).toBe(true);
      expect(await slow).toEqual({ status: 200, text: "slow answer for /slow/page" });
      expect({ code: await server.exited, output: server.output() }).toEqual({
        code: 0,
        output: expect.any(String),
      });
    } finally {
      upstream.closeAllConnections();
      await new Promise<void>((resolve) => upstream.close(() => resolve()));
    }
  });

  it("refuses to start in production without a strong SECRET_KEY, with a clear message and no stack", async () => {
    const server = start({
      NODE_ENV: "production",
      SECRET_KEY: "too-short",
      HIVEGUARD_DATA_DIR: mkdtempSync(join(tmpdir(), "hiveguard-process-")),
    });
    expect(await server.exited).toBe(2);
    expect(server.output()).toMatch(/SECRET_KEY must be at least 32 characters/);
    expect(server.output()).toMatch(/DASHBOARD_USERNAME is not set/);
    expect(server.output()).not.toMatch(/\n\s+at /);
  });

  it("stops at once when its port is taken, before generating secrets or opening the database", async () => {
    const squatter = createHttpServer((_req, res) => res.end("someone else"));
    await new Promise<void>((resolve) => squatter.listen(0, "127.0.0.1", resolve));
    const port = (squatter.address() as AddressInfo).port;
    const dataDir = mkdtempSync(join(tmpdir(), "hiveguard-process-"));
    try {
      const server = start({ PORT: String(port), HIVEGUARD_DATA_DIR: dataDir });
      expect(await server.exited).toBe(2);
      expect(server.output()).toMatch(new RegExp(`PORT ${port} on 127.0.0.1 is already in use`));
      expect(server.output()).not.toMatch(/dashboard password|\n\s+at /);
      expect(existsSync(join(dataDir, "dev-secrets.json"))).toBe(false);
    } finally {
      squatter.close();
    }
  });

  it("refuses WORKERS > 1 on the embedded database", async () => {
    const server = start({
      WORKERS: "2",
      HIVEGUARD_DATA_DIR: mkdtempSync(join(tmpdir(), "hiveguard-process-")),
    });
    expect(await server.exited).toBe(2);
    expect(server.output()).toMatch(/WORKERS > 1 needs DATABASE_URL/);
  });

  it.runIf(process.env.DATABASE_URL && process.env.REDIS_URL)(
    "runs WORKERS=2 processes on PostgreSQL + Redis and stops them all on SIGTERM",
    async () => {
      const schema = randomSchemaName();
      const server = start({
        WORKERS: "2",
        LOG_LEVEL: "info",
        PORT: String(20000 + Math.floor(Math.random() * 20000)),
        DATABASE_URL: `${process.env.DATABASE_URL!}?schema=${schema}`,
        REDIS_URL: process.env.REDIS_URL!,
        REDIS_PREFIX: `cluster-test-${process.pid}`,
        HIVEGUARD_DATA_DIR: mkdtempSync(join(tmpdir(), "hiveguard-process-")),
      });
      const [, url] = await server.waitFor(/"address":"(http:\/\/[^"]+)"/, 60_000);
      await server.waitFor(/HiveGuard listening[\s\S]*HiveGuard listening/, 60_000);
      for (let i = 0; i < 20; i++) {
        const res = await fetch(`${url}/api/v1/health`, { headers: { connection: "close" } });
        expect(res.status).toBe(200);
        await res.arrayBuffer();
      }
      const workerPids = [...server.output().matchAll(/"pid":(\d+)[^\n]*HiveGuard listening/g)].map(
        (m) => m[1],
      );
      expect(new Set(workerPids).size).toBe(2);
      expect(workerPids).not.toContain(String(server.child.pid));
      server.child.kill("SIGTERM");
      expect(await server.exited).toBe(0);
      await dropSchema(process.env.DATABASE_URL!, schema);
    },
    90_000,
  );
});
