import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";
import { call, clients, createDataset, createKey, seedLabels, UNKNOWN_UUID } from "./helpers.js";

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

const items = (key: string, t = a) => call(t, "/api/v1/data/items", { headers: { "x-hiveguard-key": key } });

describe("API keys (/dashboard/api/apikeys)", () => {
  it("creates the documented example: 201, raw key once, hash only in the database", async () => {
    const dataset = await createDataset(a);
    const res = await clients(a).dash.post("/dashboard/api/apikeys", {
      label: "production",
      datasets: [dataset.id],
      sample_rate: 1.0,
    });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      label: "production",
      key_prefix: res.body.raw_key.slice(0, 9),
      raw_key: expect.stringMatching(/^hg_[A-Za-z0-9_-]{43}$/),
      datasets: [dataset.id],
      sample_rate: 1,
      scopes: ["challenge", "data:read", "data:write"],
      created_at: expect.any(String),
      hostnames: [],
      secret_prefix: null,
      secret_created_at: null,
      previous_secret_expires_at: null,
    });
    expect(res.body.key_prefix).toMatch(/^hg_/);

    const row = await a.server.deps.db.prisma.apiKey.findUniqueOrThrow({ where: { id: res.body.id } });
    expect(row.keyHash).toBe(createHash("sha256").update(res.body.raw_key).digest("hex"));
    expect(JSON.stringify(row)).not.toContain(res.body.raw_key);

    const list = await clients(a).dash.get("/dashboard/api/apikeys");
    expect(list.status).toBe(200);
    const listed = list.body.find((k: { id: string }) => k.id === res.body.id);
    const { raw_key: _raw, ...withoutRaw } = res.body;
    expect(listed).toEqual(withoutRaw);
    expect(list.text).not.toContain(res.body.raw_key);
  });

  it("generates distinct keys with at least 128 bits of randomness", async () => {
    const keys = await Promise.all(
      Array.from({ length: 20 }, () => clients(a).dash.post("/dashboard/api/apikeys", { label: "many" })),
    );
    const raw = keys.map((k) => k.body.raw_key as string);
    expect(new Set(raw).size).toBe(20);
    // 43 base64url characters = 256 bits
    for (const key of raw) expect(Buffer.from(key.slice(3), "base64url").length).toBe(32);
    expect(keys[0]!.body).toMatchObject({ datasets: [], sample_rate: 1 });
  });

  it("refuses bad input with 422 naming the field and creates nothing", async () => {
    const before = (await clients(a).dash.get("/dashboard/api/apikeys")).body.length;
    const cases: [unknown, (string | number)[]][] = [
      [{}, ["body", "label"]],
      [{ label: "" }, ["body", "label"]],
      [{ label: "x", sample_rate: 1.5 }, ["body", "sample_rate"]],
      [{ label: "x", sample_rate: -0.1 }, ["body", "sample_rate"]],
      [{ label: "x", sample_rate: "1" }, ["body", "sample_rate"]],
      [{ label: "x", sample_rate: null }, ["body", "sample_rate"]],
      [{ label: "x", datasets: "all" }, ["body", "datasets"]],
      [{ label: "x", datasets: ["nope"] }, ["body", "datasets", 0]],
      [{ label: "x", datasets: [UNKNOWN_UUID] }, ["body", "datasets", 0]],
      [{ label: "x", raw_key: "hg_mine" }, ["body"]],
      [{ label: "x", scopes: [] }, ["body", "scopes"]],
      [{ label: "x", scopes: "challenge" }, ["body", "scopes"]],
      [{ label: "x", scopes: ["challenge", "admin"] }, ["body", "scopes", 1]],
    ];
    for (const [body, loc] of cases) {
      const res = await clients(a).dash.post("/dashboard/api/apikeys", body);
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(res.body.detail[0].loc, JSON.stringify(body)).toEqual(loc);
    }
    expect((await clients(a).dash.get("/dashboard/api/apikeys")).body.length).toBe(before);
  });

  it("revokes (204) immediately, on this instance and on another one that had the key cached", async () => {
    const key = (await clients(a).dash.post("/dashboard/api/apikeys", { label: "short-lived" })).body;
    // Both instances verify (and cache) the key.
    expect((await items(key.raw_key, a)).status).toBe(200);
    expect((await items(key.raw_key, b)).status).toBe(200);

    const res = await clients(b).dash.del(`/dashboard/api/apikeys/${key.id}`);
    expect(res.status).toBe(204);
    expect(res.text).toBe("");

    const onB = await items(key.raw_key, b);
    expect(onB.status).toBe(401);
    expect(onB.body).toEqual({ detail: "Invalid or missing API key" });
    await expect
      .poll(async () => (await items(key.raw_key, a)).status, { timeout: 2000, interval: 20 })
      .toBe(401);

    const list = await clients(a).dash.get("/dashboard/api/apikeys");
    expect(list.body.map((k: { id: string }) => k.id)).not.toContain(key.id);
    expect((await clients(a).dash.del(`/dashboard/api/apikeys/${key.id}`)).status).toBe(404);
  });

  it("answers 404 for an unknown key id and 422 for a malformed one", async () => {
    const unknown = await clients(a).dash.del(`/dashboard/api/apikeys/${UNKNOWN_UUID}`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ detail: "API key not found" });
    const malformed = await clients(a).dash.del("/dashboard/api/apikeys/abc");
    expect(malformed.status).toBe(422);
    expect(malformed.body.detail[0].loc).toEqual(["path", "id"]);
  });

  it("requires the dashboard credentials", async () => {
    for (const init of [
      {},
      { method: "POST", body: "{}", headers: { "content-type": "application/json" } },
      { method: "DELETE" },
    ]) {
      const path =
        init.method === "DELETE" ? `/dashboard/api/apikeys/${UNKNOWN_UUID}` : "/dashboard/api/apikeys";
      const res = await call(a, path, init);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ detail: "Unauthorized" });
    }
  });

  it("never logs or echoes a raw key on a failed check", async () => {
    const res = await items("hg_thisIsNotAKeyButLooksLikeOne00000000000000000");
    expect(res.status).toBe(401);
    expect(res.text).not.toContain("hg_this");
  });
});

describe("API key scopes", () => {
  it("a challenge-only key (for public pages) draws challenges but cannot read or write data", async () => {
    const dataset = await createDataset(a);
    await seedLabels(a, dataset.id, 3);
    const widget = await createKey(a, { label: "widget", scopes: ["challenge"] });
    expect(widget).toMatchObject({ scopes: ["challenge"] });

    for (const path of ["/api/v1/data/items", "/api/v1/data/labeled"]) {
      const res = await clients(a).api(widget.raw_key).get(path);
      expect(res.status, path).toBe(403);
      expect(res.body).toEqual({ detail: 'This API key lacks the "data:read" scope' });
      expect(res.text).not.toContain("img-");
    }
    const upload = await clients(a)
      .api(widget.raw_key)
      .post("/api/v1/data/items", { items: [{ data_ref: "https://example.com/x.jpg" }] });
    expect(upload.status).toBe(403);
    expect(upload.body.detail).toBe('This API key lacks the "data:write" scope');

    const generate = await clients(a).api(widget.raw_key).get("/api/v1/challenge/generate");
    expect([200, 204]).toContain(generate.status);
  });

  it("a data-only key reads labels but cannot draw challenges; the scopes show in the key list", async () => {
    const reader = await createKey(a, { label: "exporter", scopes: ["data:read"] });
    expect((await clients(a).api(reader.raw_key).get("/api/v1/data/labeled")).status).toBe(200);
    const generate = await clients(a).api(reader.raw_key).get("/api/v1/challenge/generate");
    expect(generate.status).toBe(403);
    expect(generate.body.detail).toBe('This API key lacks the "challenge" scope');
    const submit = await clients(a)
      .api(reader.raw_key)
      .post("/api/v1/challenge/submit", { challenge_id: "chal_x", answers: [] });
    expect(submit.status).toBe(403);

    const listed = (await clients(a).dash.get("/dashboard/api/apikeys")).body.find(
      (k: { id: string }) => k.id === reader.id,
    );
    expect(listed.scopes).toEqual(["data:read"]);
  });
});

describe("API key verification on the hot path", () => {
  it("answers from the in-process cache after the first lookup, without the database", async () => {
    const key = (await clients(a).dash.post("/dashboard/api/apikeys", { label: "hot" })).body;
    const apiKeys = a.server.deps.services.apiKeys;
    const first = await apiKeys.verify(key.raw_key);
    expect(first).toEqual({
      kind: "apiKey",
      keyId: key.id,
      datasets: [],
      sampleRate: 1,
      scopes: ["challenge", "data:read", "data:write"],
    });
    // Remove the row behind the service's back: only a cached answer can still know the key.
    await a.server.deps.db.prisma.apiKey.delete({ where: { id: key.id } });
    expect(await apiKeys.verify(key.raw_key)).toEqual(first);
  });
});
