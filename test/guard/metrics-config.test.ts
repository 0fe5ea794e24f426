import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MetricsService } from "../../src/modules/guard/metrics/service.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { call, clients, createDataset, createKey, seedLabels } from "./helpers.js";

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

describe("GET /dashboard/api/metrics", () => {
  it("starts at zero in the documented shape", async () => {
    const res = await clients(a).dash.get("/dashboard/api/metrics");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      total_challenges: 0,
      total_items: 0,
      solve_rate_pct: 0,
      recent_sessions: 0,
      challenges_passed: 0,
      challenges_failed: 0,
      invalid_submits: 0,
    });
    expect((await call(a, "/dashboard/api/metrics")).status).toBe(401);
  });

  it("counts what the challenge engine records, on every instance", async () => {
    const metrics = a.server.deps.services.metrics;
    for (let i = 0; i < 8; i++) await metrics.recordChallengeServed();
    await b.server.deps.services.metrics.recordChallengeServed(2);
    for (let i = 0; i < 7; i++) await metrics.recordChallengeResult(true);
    await metrics.recordChallengeResult(false);
    await b.server.deps.services.metrics.recordChallengeResult(false);
    for (const t of [a, b]) {
      const res = await clients(t).dash.get("/dashboard/api/metrics");
      expect(res.body).toMatchObject({
        total_challenges: 10,
        solve_rate_pct: 77.8, // 7 of 9
        recent_sessions: 10,
        challenges_passed: 7,
        challenges_failed: 2,
      });
    }
  });

  it("counts items exactly, through uploads, direct inserts and deletes, on every instance", async () => {
    const first = await createDataset(a);
    const second = await createDataset(a, { name: "Two", modality: "text" });
    const key = await createKey(a);
    const items = (datasetId: string, modality: string, n: number) =>
      Array.from({ length: n }, (_, i) => ({ dataset_id: datasetId, data_ref: `r${i}`, modality }));
    await clients(a)
      .api(key.raw_key)
      .post("/api/v1/data/items", { items: items(first.id, "image", 30) });
    expect((await clients(b).dash.get("/dashboard/api/metrics")).body.total_items).toBe(30);
    await clients(b)
      .api(key.raw_key)
      .post("/api/v1/data/items", { items: items(second.id, "text", 12) });
    await seedLabels(a, second.id, 8);
    expect((await clients(a).dash.get("/dashboard/api/metrics")).body.total_items).toBe(50);
    expect((await clients(b).dash.del(`/dashboard/api/item-datasets/${first.id}`)).status).toBe(204);
    for (const t of [a, b])
      expect((await clients(t).dash.get("/dashboard/api/metrics")).body.total_items).toBe(20);
  });

  it("keeps recent_sessions to the last 15 minutes", async () => {
    let now = Date.UTC(2030, 0, 1, 12, 0, 0);
    const metrics = new MetricsService(a.shared.state, a.server.deps.db.prisma, () => now);
    const before = (await metrics.snapshot()).recent_sessions;
    await metrics.recordChallengeServed(3);
    now += 10 * 60_000;
    await metrics.recordChallengeServed(2);
    expect((await metrics.snapshot()).recent_sessions - before).toBe(5);
    now += 6 * 60_000; // the first three are now 16 minutes old
    expect((await metrics.snapshot()).recent_sessions).toBe(2);
    now += 10 * 60_000;
    expect((await metrics.snapshot()).recent_sessions).toBe(0);
  });
});

describe("runtime config: re-validation settings", () => {
  it("returns the documented keys, ours and the re-validation defaults", async () => {
    const res = await clients(a).dash.get("/dashboard/api/config");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      risk_threshold: 0.5,
      consensus_threshold: 0.6,
      proxy_timeout: 30,
      challenge_token_ttl: 300,
      log_level: expect.any(String),
      consensus_min_votes: 3,
      fail_mode: "open",
      revalidation_exit_confidence: 0.85,
      revalidation_min_total_votes: 15,
      revalidation_min_votes: 3,
      revalidation_delta: 0.05,
      revalidation_floor: 0.6,
    });
  });

  it("updates only the given fields, refuses out-of-range values atomically, and applies everywhere", async () => {
    const dash = clients(a).dash;
    const before = (await dash.get("/dashboard/api/config")).body;
    const bad: [Record<string, unknown>, string][] = [
      [{ revalidation_exit_confidence: 1.2 }, "revalidation_exit_confidence"],
      [{ revalidation_min_total_votes: 0 }, "revalidation_min_total_votes"],
      [{ revalidation_min_votes: 2.5 }, "revalidation_min_votes"],
      [{ revalidation_delta: 0 }, "revalidation_delta"],
      [{ revalidation_floor: -0.1 }, "revalidation_floor"],
      [{ revalidation_floor: 0.9 }, "revalidation_floor"],
      [{ revalidation_exit_confidence: 0.5 }, "revalidation_exit_confidence"],
      [{ risk_threshold: 0.7, revalidation_delta: 2 }, "revalidation_delta"],
      [{ risk_threshold: null }, "risk_threshold"],
      [{ revalidation_delta: "" }, "revalidation_delta"],
      [{ revalidation_min_votes: true }, "revalidation_min_votes"],
    ];
    for (const [body, field] of bad) {
      const res = await dash.post("/dashboard/api/config", body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.detail.map((d: { loc: string[] }) => d.loc)).toContainEqual(["body", field]);
    }
    expect((await dash.get("/dashboard/api/config")).body).toEqual(before);

    const ok = await dash.post("/dashboard/api/config", {
      revalidation_min_votes: 5,
      revalidation_delta: 0.1,
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ ...before, revalidation_min_votes: 5, revalidation_delta: 0.1 });
    await expect
      .poll(async () => (await clients(b).dash.get("/dashboard/api/config")).body.revalidation_min_votes, {
        timeout: 2000,
        interval: 20,
      })
      .toBe(5);
    expect(await b.server.deps.services.runtimeConfig.get()).toMatchObject({ revalidation_delta: 0.1 });
  });
});
