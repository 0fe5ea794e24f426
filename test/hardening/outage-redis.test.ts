/**
 * Redis outage. The test owns a redis-server on a port of its own (the shared Redis is never touched), runs two
 * HiveGuard instances on it in front of a real upstream, and takes Redis away under traffic, twice: frozen
 * (SIGSTOP: open connections, no answers) and killed (connections refused), then brings it back.
 * While it is away: nothing hangs or crashes, what needs the state store answers 503 {"detail"}, readiness
 * names the state store, visitors holding a token still reach the site (the proxy decides from memory).
 * When it returns: both instances recover by themselves (readiness 200, challenges again, pub/sub
 * re-subscribed: a key revoked on one is refused on the other), and every vote that was acknowledged is in
 * the database.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answersFor, configure, type Seeded, seed } from "../guard/challenge-helpers.js";
import { clients, createKey } from "../guard/helpers.js";
import { startUpstream, type Upstream } from "../proxy/helpers.js";
import {
  expectAcknowledgedVotesStored,
  hasBinary,
  type OwnRedis,
  requestWithin,
  startOwnRedis,
} from "../support/outage.js";
import { startTestServer, type TestServer } from "../support/server.js";

const REDIS = hasBinary("redis-server");
/** A request that has not answered after this long counts as hanging (the store's command timeout is 2 s). */
const HANG_MS = 15_000;

let redis: OwnRedis;
let upstream: Upstream;
let a: TestServer;
let b: TestServer;
let seeded: Seeded;

const request = (server: TestServer, path: string, init: RequestInit = {}) =>
  requestWithin(HANG_MS, `${server.url}${path}`, init);

/** Acknowledged votes: data_ref of the unknown item → number of submits answered `passed: true`. */
const acknowledged = new Map<string, number>();

/** One visitor: generate, answer (GT right), remember the vote when the submit is acknowledged. */
async function round(
  genOn: TestServer,
  submitOn: TestServer,
): Promise<{ generate: number; submit?: number; body?: any }> {
  const headers = { "x-hiveguard-key": seeded.key, "user-agent": `voter-${randomBytes(6).toString("hex")}` };
  const generated = await request(genOn, "/api/v1/challenge/generate", { headers });
  if (generated.status !== 200) return { generate: generated.status, body: generated.body };
  const unknown = generated.body.items.find((item: any) => !seeded.gt.has(item.data_ref));
  const submitted = await request(submitOn, "/api/v1/challenge/submit", {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify(answersFor(generated.body, seeded)),
  });
  if (submitted.status === 200 && submitted.body.passed === true && unknown) {
    acknowledged.set(unknown.data_ref, (acknowledged.get(unknown.data_ref) ?? 0) + 1);
  }
  return { generate: 200, submit: submitted.status, body: submitted.body };
}

/** `count` rounds, `concurrency` at a time, spread over both instances. */
async function traffic(count: number, concurrency = 4) {
  const results: Awaited<ReturnType<typeof round>>[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        results.push(await round(i % 2 ? a : b, i % 3 ? b : a));
      }
    }),
  );
  return results;
}

/** A visitor with a token passes the proxy; returns the token's headers. */
async function tokenHolder(): Promise<Record<string, string>> {
  const headers = { "x-hiveguard-key": seeded.key, "user-agent": "token-holder/1.0" };
  const generated = await request(a, "/api/v1/challenge/generate", { headers });
  expect(generated.status).toBe(200);
  const submitted = await request(a, "/api/v1/challenge/submit", {
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify(answersFor(generated.body, seeded)),
  });
  expect(submitted.body.passed).toBe(true);
  if (seeded.gt.size > 0) {
    const unknown = generated.body.items.find((item: any) => !seeded.gt.has(item.data_ref));
    if (unknown) acknowledged.set(unknown.data_ref, (acknowledged.get(unknown.data_ref) ?? 0) + 1);
  }
  return {
    "user-agent": "token-holder/1.0",
    "x-hiveguard-token": submitted.body.token,
    accept: "application/json",
  };
}

describe.skipIf(!REDIS)("Redis outage (a redis-server of the test's own)", { timeout: 120_000 }, () => {
  beforeAll(async () => {
    redis = await startOwnRedis();
    upstream = await startUpstream();
    a = await startTestServer({ redisUrl: redis.url, env: { TARGET_URL: upstream.url } });
    b = await startTestServer({ sharedWith: a, env: { TARGET_URL: upstream.url } });
    // Votes never finalize an item here, so every acknowledged vote must show up as a row.
    await configure(a, { consensus_min_votes: 1000 });
    seeded = await seed(a, { gt: 10, unknown: 200 });
  }, 120_000);

  afterAll(async () => {
    redis?.thaw();
    await b?.close();
    await a?.close();
    await upstream?.close();
    await redis?.stop();
  });

  it("works normally before the outage", async () => {
    const results = await traffic(12);
    expect(results.map((r) => [r.generate, r.submit])).toEqual(results.map(() => [200, 200]));
  });

  it("a frozen Redis: requests answer 503 {detail} within the command timeout instead of hanging", async () => {
    const holder = await tokenHolder();
    redis.freeze();
    try {
      const outcomes = await traffic(6, 3);
      for (const outcome of outcomes) {
        expect([outcome.generate, outcome.submit ?? 503]).toContain(503);
        if (outcome.generate === 503 || outcome.submit === 503) {
          expect(typeof outcome.body.detail).toBe("string");
          expect(outcome.body.detail).toMatch(/unavailable/i);
        }
      }
      const ready = await request(a, "/api/v1/ready", { headers: { authorization: a.dashboardAuth } });
      expect(ready.status).toBe(503);
      expect(ready.body.detail).toMatch(/state store/);
      // Anyone else learns the status, not which backend failed.
      expect((await request(a, "/api/v1/ready")).body).toEqual({ detail: "Not ready" });
      // The proxy decides from memory: a visitor holding a token still reaches the site.
      const proxied = await request(a, "/some/page", { headers: holder });
      expect(proxied.status).toBe(200);
      expect(proxied.headers.get("x-upstream")).toBe("yes");
    } finally {
      redis.thaw();
    }
    await expect.poll(async () => (await request(a, "/api/v1/ready")).status, { timeout: 20_000 }).toBe(200);
  });

  it("Redis killed under traffic and restarted empty: 503s while down, recovery by itself, no acknowledged vote lost", async () => {
    const holder = await tokenHolder();
    // A key both instances have cached, revoked on a while Redis is down (the message cannot be published).
    const doomed = await createKey(a, { label: "revoked-during-outage", datasets: [seeded.datasetId] });
    const useDoomed = (server: TestServer) =>
      request(server, "/api/v1/data/items?limit=1", { headers: { "x-hiveguard-key": doomed.raw_key } });
    for (const server of [a, b]) expect((await useDoomed(server)).status).toBe(200);
    const before = traffic(40, 4);
    await new Promise((resolve) => setTimeout(resolve, 150));
    await redis.kill();
    const during = await traffic(10, 2);
    const statuses = [...(await before), ...during].flatMap((r) => [r.generate, r.submit ?? r.generate]);
    // Only the documented answers: success, or 503 with a detail. Never a 500, never a hang.
    expect(statuses.every((status) => status === 200 || status === 503)).toBe(true);
    expect(during.every((r) => r.generate === 503 || r.submit === 503)).toBe(true);
    for (const server of [a, b]) {
      const ready = await request(server, "/api/v1/ready", {
        headers: { authorization: server.dashboardAuth },
      });
      expect(ready.status).toBe(503);
      expect(ready.body).toEqual({ detail: "Not ready: state store not answering" });
      const proxied = await request(server, "/still/served", { headers: holder });
      expect(proxied.status).toBe(200);
      // The dashboard stays usable for reads (login throttling falls back to memory; config is cached).
      const config = await request(server, "/dashboard/api/config", {
        headers: { authorization: a.dashboardAuth },
      });
      expect(config.status).toBe(200);
      const datasets = await request(server, "/dashboard/api/item-datasets", {
        headers: { authorization: a.dashboardAuth },
      });
      expect(datasets.status).toBe(200);
    }

    // Revoking still works (the database is the truth) and holds at once on the instance that did it.
    const revoked = await request(a, `/dashboard/api/apikeys/${doomed.id}`, {
      method: "DELETE",
      headers: { authorization: a.dashboardAuth },
    });
    expect(revoked.status).toBe(204);
    expect((await useDoomed(a)).status).toBe(401);

    await redis.start();
    for (const server of [a, b]) {
      await expect
        .poll(async () => (await request(server, "/api/v1/ready")).status, { timeout: 30_000 })
        .toBe(200);
    }
    // b missed the revocation message; its pub/sub connection came back, so it dropped its cached keys
    // (well before the 60 s cache lifetime).
    await expect.poll(async () => (await useDoomed(b)).status, { timeout: 15_000 }).toBe(401);
    // The restarted Redis is empty: rate limits back to their defaults; raise them again as an operator would.
    await configure(a, { consensus_min_votes: 1000 });
    const after = await traffic(12);
    expect(after.map((r) => [r.generate, r.submit])).toEqual(after.map(() => [200, 200]));
    expect(
      await expectAcknowledgedVotesStored(a.server.deps.db.prisma, seeded.datasetId, acknowledged),
    ).toBeGreaterThan(20);
  });

  it("after the restart, pub/sub works again: a key revoked on one instance is refused on the other at once", async () => {
    const key = await createKey(a, { label: "after-outage", datasets: [seeded.datasetId] });
    const use = (server: TestServer) =>
      request(server, "/api/v1/data/items?limit=1", { headers: { "x-hiveguard-key": key.raw_key } });
    expect((await use(b)).status).toBe(200); // cached on b now
    const revoked = await clients(a).dash.del(`/dashboard/api/apikeys/${key.id}`);
    expect(revoked.status).toBe(204);
    await expect.poll(async () => (await use(b)).status, { timeout: 2000 }).toBe(401);
  });
});
