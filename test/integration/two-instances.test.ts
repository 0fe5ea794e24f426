import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

// Two servers on one database and one state store (PostgreSQL + Redis when configured, as in production;
// the embedded run shares one in-process store, the closest a single process gets).
let a: TestServer;
let b: TestServer;
beforeAll(async () => {
  a = await startTestServer();
  b = await startTestServer({ sharedWith: a });
});
afterAll(async () => {
  await b?.close();
  await a?.close();
});

const readConfig = async (server: TestServer) => {
  const res = await fetch(`${server.url}/dashboard/api/config`, {
    headers: { authorization: server.dashboardAuth },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
};

describe("two instances on the same backends", () => {
  it("a runtime config change on one is served by the other at once (no stale cache)", async () => {
    expect((await readConfig(b)).risk_threshold).toBe(0.5); // b has cached the defaults now
    const res = await fetch(`${a.url}/dashboard/api/config`, {
      method: "POST",
      headers: { authorization: a.dashboardAuth, "content-type": "application/json" },
      body: JSON.stringify({ risk_threshold: 0.9, fail_mode: "closed" }),
    });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    await expect.poll(async () => (await readConfig(b)).risk_threshold, { timeout: 2000 }).toBe(0.9);
    expect((await readConfig(b)).fail_mode).toBe("closed");
  });

  it("failed dashboard logins counted on one instance block the same IP on the other", async () => {
    const wrong = { authorization: `Basic ${Buffer.from("admin:wrong").toString("base64")}` };
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const server = i % 2 === 0 ? a : b;
      const res = await fetch(`${server.url}/dashboard/api/config`, { headers: wrong });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    expect(statuses.every((status) => status === 401 || status === 429)).toBe(true);
    const blocked = await fetch(`${b.url}/dashboard/api/config`, {
      headers: { authorization: b.dashboardAuth },
    });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(await blocked.json()).toEqual({ detail: "Too many failed login attempts" });
  });

  it("both answer readiness on the shared database", async () => {
    for (const server of [a, b]) {
      const res = await fetch(`${server.url}/api/v1/ready`);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
  });
});
