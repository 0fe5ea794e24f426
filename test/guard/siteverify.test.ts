// Siteverify (issue 19): every error code, single use across two instances, site and hostname binding,
// remoteip, expiry, secrets (hashed, rotated with an overlap, removed), the services' paths and body forms.
import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createHiveGuardClient } from "../../clients/ts/index.js";
import { ClientHasher } from "../../src/modules/guard/challenges/client.js";
import { TokenService } from "../../src/modules/guard/challenges/token.js";
import { PLATFORM_PATHS } from "../../src/app.js";
import { modules } from "../../src/modules/index.js";
import { ownPathMatcher } from "../../src/platform/module.js";
import { UnavailableError } from "../../src/platform/errors.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { answersFor, configure, type Seeded, seed } from "./challenge-helpers.js";
import { type Answer, call, clients, createDataset, send } from "./helpers.js";

let t: TestServer;
let t2: TestServer;
let seeded: Seeded;
/** Site A: a challenge-only key limited to example.com, with a secret. */
let siteA: { id: string; key: string; secret: string };
/** Site B: another site key on the same dataset. */
let siteB: { id: string; key: string; secret: string };

const ORIGIN = "https://shop.example.com";
let uaSeq = 0;

async function siteKey(
  server: TestServer,
  body: Record<string, unknown>,
): Promise<{ id: string; key: string; secret: string }> {
  const created = await clients(server).dash.post("/dashboard/api/apikeys", {
    scopes: ["challenge"],
    ...body,
  });
  expect(created.status).toBe(201);
  const secret = await clients(server).dash.post(`/dashboard/api/apikeys/${created.body.id}/secret`, {});
  expect(secret.status).toBe(201);
  return { id: created.body.id, key: created.body.raw_key, secret: secret.body.secret };
}

/** A visitor solves a challenge with a site key on a page at `origin`; returns the token. */
async function solve(key: string, opts: { origin?: string; ip?: string } = {}): Promise<string> {
  const headers: Record<string, string> = {
    "x-hiveguard-key": key,
    "user-agent": `Mozilla/5.0 siteverify-${++uaSeq}`,
    origin: opts.origin ?? ORIGIN,
    ...(opts.ip && { "x-forwarded-for": opts.ip }),
  };
  const generated = await call(t, "/api/v1/challenge/generate", { headers });
  expect(generated.status).toBe(200);
  const submitted = await call(
    t,
    "/api/v1/challenge/submit",
    send("POST", answersFor(generated.body, seeded), headers),
  );
  expect(submitted.status).toBe(200);
  expect(submitted.body.passed).toBe(true);
  return submitted.body.token as string;
}

type Body = Record<string, string | undefined>;

/** POST siteverify form-encoded (as most integrations do), JSON, or multipart. */
function verify(
  fields: Body,
  opts: { server?: TestServer; path?: string; as?: "form" | "json" | "multipart" } = {},
): Promise<Answer> {
  const defined = Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined);
  const path = opts.path ?? "/api/v1/siteverify";
  const server = opts.server ?? t;
  if (opts.as === "json") return call(server, path, send("POST", Object.fromEntries(defined)));
  if (opts.as === "multipart") {
    const form = new FormData();
    for (const [name, value] of defined) form.append(name, value);
    return call(server, path, { method: "POST", body: form });
  }
  return call(server, path, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(defined).toString(),
  });
}

beforeAll(async () => {
  t = await startTestServer({ env: { TRUSTED_PROXIES: "loopback" } });
  t2 = await startTestServer({ sharedWith: t, env: { TRUSTED_PROXIES: "loopback" } });
  await configure(t);
  seeded = await seed(t, { gt: 4, unknown: 4 });
  siteA = await siteKey(t, { label: "site A", datasets: [seeded.datasetId], hostnames: ["example.com"] });
  siteB = await siteKey(t, { label: "site B", datasets: [seeded.datasetId] });
}, 120_000);

afterAll(async () => {
  await t2?.close();
  await t?.close();
});

describe("siteverify answers in the services' shape", () => {
  it("a solved token passes once: success, challenge_ts, hostname, score, our extras", async () => {
    const before = Date.now();
    const token = await solve(siteA.key);
    const res = await verify({ secret: siteA.secret, response: token });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.body).toEqual({
      success: true,
      challenge_ts: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      hostname: "shop.example.com",
      "error-codes": [],
      score: 1,
      action: "",
      cdata: "",
      hiveguard: {
        site_key_id: siteA.id,
        tier: 1,
        bypass: null,
        expires_at: expect.any(String),
        reason: null,
        replayed: false,
      },
    });
    expect(Date.parse(res.body.challenge_ts)).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
    const ttl = (Date.parse(res.body.hiveguard.expires_at) - Date.parse(res.body.challenge_ts)) / 1000;
    expect(ttl).toBe(300); // challenge_token_ttl

    const again = await verify({ secret: siteA.secret, response: token });
    expect(again.body).toMatchObject({ success: false, "error-codes": ["timeout-or-duplicate"] });
    expect(again.body.hiveguard.reason).toBe("duplicate");
  });

  it("is served at our path and at the hCaptcha, Turnstile and reCAPTCHA paths (root and /_hiveguard), form, JSON and multipart", async () => {
    const paths = [
      "/api/v1/siteverify",
      "/siteverify",
      "/turnstile/v0/siteverify",
      "/recaptcha/api/siteverify",
      "/_hiveguard/siteverify",
      "/_hiveguard/turnstile/v0/siteverify",
      "/_hiveguard/recaptcha/api/siteverify",
    ];
    for (const path of paths) {
      for (const as of ["form", "json", "multipart"] as const) {
        const token = await solve(siteA.key);
        const res = await verify({ secret: siteA.secret, response: token }, { path, as });
        expect({ path, as, status: res.status, success: res.body.success }).toEqual({
          path,
          as,
          status: 200,
          success: true,
        });
      }
    }
    // Documented in /openapi.json with an operationId, no header credentials, and the answer's schema.
    const doc = (await call(t, "/openapi.json")).body;
    for (const path of paths) {
      const op = doc.paths[path].post;
      expect(op.operationId).toMatch(/^guard-siteverify/);
      expect(op.security).toEqual([]);
      expect(Object.keys(op.requestBody.content)).toEqual([
        "application/x-www-form-urlencoded",
        "multipart/form-data",
        "application/json",
      ]);
      expect(op.responses["200"].content["application/json"].schema.$ref).toMatch(/SiteverifyAnswer/);
    }
  });

  it("the three services' root paths are HiveGuard's even when the main port fronts a site, exactly", () => {
    const own = ownPathMatcher([...PLATFORM_PATHS, ...modules.flatMap((m) => m.ownPaths)], {
      siteOnMainPort: true,
    });
    for (const path of ["/siteverify", "/turnstile/v0/siteverify", "/recaptcha/api/siteverify"]) {
      expect(own(path)).toBe(true);
      expect(own(`${path}?x=1`)).toBe(true);
      expect(own(`${path}/more`)).toBe(false);
      expect(own(`${path}x`)).toBe(false);
    }
    for (const path of ["/site", "/turnstile/v0/api.js", "/recaptcha/api.js", "/s", "/r", "/tracker"]) {
      expect({ path, own: own(path) }).toEqual({ path, own: path === "/tracker" });
    }
  });

  it("reaches every error code", async () => {
    const token = await solve(siteA.key);
    const codes = async (fields: Body, init?: RequestInit) => {
      const res = init ? await call(t, "/api/v1/siteverify", init) : await verify(fields);
      expect(res.status).toBe(200);
      expect(res.body.success).toBe(false);
      return res.body["error-codes"];
    };
    expect(await codes({})).toEqual(["missing-input-secret", "missing-input-response"]);
    expect(await codes({ response: token })).toEqual(["missing-input-secret"]);
    expect(await codes({ secret: siteA.secret })).toEqual(["missing-input-response"]);
    expect(await codes({ secret: "", response: "" })).toEqual([
      "missing-input-secret",
      "missing-input-response",
    ]);
    expect(await codes({ secret: "not-a-secret", response: token })).toEqual(["invalid-input-secret"]);
    expect(await codes({ secret: `hgs_${"A".repeat(43)}`, response: token })).toEqual([
      "invalid-input-secret",
    ]);
    expect(await codes({ secret: siteA.key, response: token })).toEqual(["invalid-input-secret"]);
    expect(await codes({ secret: siteA.secret, response: "garbage" })).toEqual(["invalid-input-response"]);
    const [head, payload, signature] = token.split(".");
    const flipped = `${head}.${payload}.${signature!.slice(0, -2)}${signature!.endsWith("A") ? "BB" : "AA"}`;
    expect(await codes({ secret: siteA.secret, response: flipped })).toEqual(["invalid-input-response"]);
    expect(await codes({ secret: siteA.secret, response: token, sitekey: siteB.key })).toEqual([
      "sitekey-secret-mismatch",
    ]);
    expect(await codes({ secret: siteA.secret, response: token, remoteip: "not an ip" })).toEqual([
      "bad-request",
    ]);
    // Malformed bodies: bad JSON, an unknown content type, a repeated field, a number, a NUL, too large.
    const bad = [
      send("POST", "{not json"),
      { method: "POST", headers: { "content-type": "text/plain" }, body: "secret=x" },
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: `secret=${siteA.secret}&secret=${siteA.secret}&response=${token}`,
      },
      send("POST", { secret: 12, response: token }),
      send("POST", { secret: "a\u0000b", response: token }),
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: `secret=a%00b&response=${token}`,
      },
      send("POST", { secret: siteA.secret, response: "x".repeat(100_000) }),
      send("POST", [siteA.secret, token]),
    ];
    for (const init of bad) expect(await codes({}, init)).toEqual(["bad-request"]);
    // None of these spent the token, and none leaked anything.
    const spy = vi
      .spyOn(t.server.deps.services.apiKeys, "siteForSecret")
      .mockRejectedValueOnce(new UnavailableError("Service temporarily unavailable"));
    const internal = await verify({ secret: siteA.secret, response: token });
    spy.mockRestore();
    expect(internal.body).toEqual({ success: false, "error-codes": ["internal-error"] });
    expect(internal.headers.get("retry-after")).toBe("5");
    expect((await verify({ secret: siteA.secret, response: token })).body.success).toBe(true);
    expect(await codes({ secret: siteA.secret, response: token })).toEqual(["timeout-or-duplicate"]);
  });

  it("over siteverify_rate_limit_ip a minute from one IP: 429, Retry-After, too-many-requests", async () => {
    await configure(t, { siteverify_rate_limit_ip: 3 });
    try {
      const from = (ip: string) =>
        call(t, "/api/v1/siteverify", {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", "x-forwarded-for": ip },
          body: "secret=x&response=y",
        });
      for (let i = 0; i < 3; i++) expect((await from("203.0.113.9")).status).toBe(200);
      const limited = await from("203.0.113.9");
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(0);
      expect(limited.body).toEqual({
        success: false,
        "error-codes": ["too-many-requests"],
        detail: expect.stringMatching(/^Too many siteverify requests; retry in \d+ s$/),
      });
      expect((await from("203.0.113.10")).status).toBe(200); // another caller is not limited
    } finally {
      await configure(t, { siteverify_rate_limit_ip: 6000 });
    }
  });

  it("an expired token answers timeout-or-duplicate", async () => {
    const hasher = new ClientHasher(t.config.secretKey);
    const past = new TokenService(t.config.secretKey, undefined, hasher, () => Date.now() - 3600_000);
    const expired = await past.sign({
      client: hasher.hash({ ip: "127.0.0.1", userAgent: "x" }),
      ttlSec: 300,
      tier: 1,
      site: siteA.id,
      hostname: "shop.example.com",
      ipHash: hasher.ipHashes("127.0.0.1")[0]!,
      score: 1,
    });
    const res = await verify({ secret: siteA.secret, response: expired });
    expect(res.body).toMatchObject({ success: false, "error-codes": ["timeout-or-duplicate"] });
    expect(res.body.hiveguard.reason).toBe("expired");
    // The same claims, fresh: it passes (so expiry alone was refused).
    const fresh = new TokenService(t.config.secretKey, undefined, hasher);
    const ok = await fresh.sign({
      client: "c",
      ttlSec: 300,
      site: siteA.id,
      hostname: "shop.example.com",
      ipHash: "x",
    });
    expect((await verify({ secret: siteA.secret, response: ok })).body.success).toBe(true);
  });
});

describe("bindings", () => {
  it("a token from site A is refused with site B's secret, and stays usable for A", async () => {
    const token = await solve(siteA.key);
    const asB = await verify({ secret: siteB.secret, response: token });
    expect(asB.body).toMatchObject({ success: false, "error-codes": ["invalid-input-response"] });
    expect(asB.body.hiveguard).toMatchObject({ site_key_id: siteB.id, reason: "other_site" });
    expect((await verify({ secret: siteA.secret, response: token, sitekey: siteA.key })).body.success).toBe(
      true,
    );
  });

  it("the typed client's siteverify helper gets the same answers", async () => {
    const hg = createHiveGuardClient({ url: t.url });
    const token = await solve(siteA.key);
    const wrong = await hg.siteverify({ secret: siteB.secret, response: token });
    expect(wrong["error-codes"]).toEqual(["invalid-input-response"]);
    const ok = await hg.siteverify({ secret: siteA.secret, response: token, remoteip: "127.0.0.1" });
    expect(ok).toMatchObject({ success: true, hostname: "shop.example.com" });
  });

  it("a hosted-page token (the proxy's cookie) is not a site token", async () => {
    const token = await t.server.deps.services.challenges.bypassToken(
      { ip: "127.0.0.1", userAgent: "x" },
      "no-gt-pool",
    );
    const res = await verify({ secret: siteA.secret, response: token });
    expect(res.body.hiveguard.reason).toBe("not_a_site_token");
  });

  it("remoteip must be the solver's IP when given (IPv4-mapped IPv6 counts as IPv4)", async () => {
    const right = await solve(siteA.key, { ip: "198.51.100.7" });
    const wrong = await verify({ secret: siteA.secret, response: right, remoteip: "198.51.100.8" });
    expect(wrong.body).toMatchObject({ success: false, "error-codes": ["invalid-input-response"] });
    expect(wrong.body.hiveguard.reason).toBe("remoteip");
    expect(
      (await verify({ secret: siteA.secret, response: right, remoteip: "::ffff:198.51.100.7" })).body.success,
    ).toBe(true);
    const v6 = await solve(siteA.key, { ip: "2001:db8::1" });
    expect((await verify({ secret: siteA.secret, response: v6, remoteip: "2001:DB8::1" })).body.success).toBe(
      true,
    );
  });

  it("a site key limited to hostnames refuses other pages at submit, and siteverify refuses tokens from hostnames removed since", async () => {
    const headers = {
      "x-hiveguard-key": siteA.key,
      "user-agent": "Mozilla/5.0 elsewhere",
      origin: "https://evil.test",
    };
    const generated = await call(t, "/api/v1/challenge/generate", { headers });
    expect(generated.status).toBe(403);
    expect(generated.body).toEqual({ detail: "This site key may not be used on evil.test" });
    // No Origin on a GET (same-origin fetch): generate is served, but submit needs one of the hostnames.
    const { origin: _origin, ...noOrigin } = headers;
    const served = await call(t, "/api/v1/challenge/generate", { headers: noOrigin });
    expect(served.status).toBe(200);
    const submitted = await call(
      t,
      "/api/v1/challenge/submit",
      send("POST", answersFor(served.body, seeded), noOrigin),
    );
    expect(submitted.status).toBe(403);
    // The Referer counts when there is no Origin.
    const viaReferer = { ...noOrigin, referer: "https://www.example.com/checkout?x=1" };
    const submittedOk = await call(
      t,
      "/api/v1/challenge/submit",
      send("POST", answersFor(served.body, seeded), viaReferer),
    );
    expect(submittedOk.body.passed).toBe(true);
    const res = await verify({ secret: siteA.secret, response: submittedOk.body.token });
    expect(res.body).toMatchObject({ success: true, hostname: "www.example.com" });

    // The operator narrows the list: an unused token from shop.example.com is refused (on every instance).
    const token = await solve(siteA.key);
    const patched = await clients(t).dash.patch(`/dashboard/api/apikeys/${siteA.id}`, {
      hostnames: ["www.example.com"],
    });
    expect(patched.status).toBe(200);
    expect(patched.body.hostnames).toEqual(["www.example.com"]);
    const refused = await verify({ secret: siteA.secret, response: token }, { server: t2 });
    expect(refused.body.hiveguard.reason).toBe("hostname");
    const back = await clients(t).dash.patch(`/dashboard/api/apikeys/${siteA.id}`, {
      hostnames: ["Example.COM"],
    });
    expect(back.body.hostnames).toEqual(["example.com"]);
    expect((await verify({ secret: siteA.secret, response: token })).body.success).toBe(true);
    const badHost = await clients(t).dash.patch(`/dashboard/api/apikeys/${siteA.id}`, {
      hostnames: ["https://example.com/"],
    });
    expect(badHost.status).toBe(422);
  });
});

describe("single use across instances", () => {
  it("a token checked on one instance answers timeout-or-duplicate on the other", async () => {
    const token = await solve(siteA.key);
    expect((await verify({ secret: siteA.secret, response: token }, { server: t2 })).body.success).toBe(true);
    const replay = await verify({ secret: siteA.secret, response: token }, { server: t });
    expect(replay.body["error-codes"]).toEqual(["timeout-or-duplicate"]);
  });

  it("of concurrent checks on two instances exactly one succeeds", async () => {
    for (let round = 0; round < 3; round++) {
      const token = await solve(siteA.key);
      const answers = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          verify({ secret: siteA.secret, response: token }, { server: i % 2 ? t2 : t }),
        ),
      );
      expect(answers.filter((a) => a.body.success).length).toBe(1);
      for (const a of answers.filter((a) => !a.body.success))
        expect(a.body["error-codes"]).toEqual(["timeout-or-duplicate"]);
    }
  });

  it("the same idempotency_key gets the first answer again; another key or none is a duplicate", async () => {
    const token = await solve(siteA.key);
    const first = await verify({ secret: siteA.secret, response: token, idempotency_key: "retry-1" });
    expect(first.body.success).toBe(true);
    const retry = await verify(
      { secret: siteA.secret, response: token, idempotency_key: "retry-1" },
      { server: t2 },
    );
    expect(retry.body).toEqual({ ...first.body, hiveguard: { ...first.body.hiveguard, replayed: true } });
    for (const key of ["retry-2", undefined]) {
      const other = await verify({ secret: siteA.secret, response: token, idempotency_key: key });
      expect(other.body["error-codes"]).toEqual(["timeout-or-duplicate"]);
    }
  });
});

describe("secrets", () => {
  it("are stored hashed, shown once, listed by prefix; only a challenge-only key may have one", async () => {
    const row = await t.server.deps.db.prisma.apiKey.findUniqueOrThrow({ where: { id: siteA.id } });
    expect(row.secretHash).toBe(createHash("sha256").update(siteA.secret).digest("hex"));
    expect(JSON.stringify(row)).not.toContain(siteA.secret);
    const list = await clients(t).dash.get("/dashboard/api/apikeys");
    expect(list.text).not.toContain(siteA.secret);
    const listed = list.body.find((k: { id: string }) => k.id === siteA.id);
    expect(listed).toMatchObject({
      secret_prefix: siteA.secret.slice(0, 10),
      secret_created_at: expect.any(String),
      previous_secret_expires_at: null,
      hostnames: ["example.com"],
    });
    expect(siteA.secret).toMatch(/^hgs_[A-Za-z0-9_-]{43}$/);

    const refused = await clients(t).dash.post(`/dashboard/api/apikeys/${siteKeyless.id}/secret`, {});
    expect(refused.status).toBe(422);
    expect(refused.body.detail[0].msg).toMatch(/"challenge" scope alone/);
    const unknown = await clients(t).dash.post(
      "/dashboard/api/apikeys/3f1c2a9e-8b7d-4c6e-9a5f-1e2d3c4b5a69/secret",
      {},
    );
    expect(unknown.status).toBe(404);
  });

  it("rotate with an overlap: both work until the window ends; overlap 0 ends the old one at once; removal ends both", async () => {
    const site = await siteKey(t, { label: "rotating", datasets: [seeded.datasetId] });
    const rotated = await clients(t).dash.post(`/dashboard/api/apikeys/${site.id}/secret`, {
      overlap_seconds: 3600,
    });
    expect(rotated.status).toBe(201);
    const expires = Date.parse(rotated.body.previous_secret_expires_at);
    expect(expires - Date.now()).toBeGreaterThan(3590_000);
    const newSecret = rotated.body.secret as string;
    expect(newSecret).not.toBe(site.secret);
    expect((await verify({ secret: site.secret, response: await solve(site.key) })).body.success).toBe(true);
    expect((await verify({ secret: newSecret, response: await solve(site.key) })).body.success).toBe(true);

    // The window ends (moved into the past): the old secret is refused, the new one still works.
    await t.server.deps.db.prisma.apiKey.update({
      where: { id: site.id },
      data: { previousSecretExpiresAt: new Date(Date.now() - 1000) },
    });
    const token = await solve(site.key);
    expect((await verify({ secret: site.secret, response: token })).body["error-codes"]).toEqual([
      "invalid-input-secret",
    ]);
    expect((await verify({ secret: newSecret, response: token })).body.success).toBe(true);

    const immediate = await clients(t).dash.post(`/dashboard/api/apikeys/${site.id}/secret`, {
      overlap_seconds: 0,
    });
    expect(immediate.body.previous_secret_expires_at).toBeNull();
    expect(
      (await verify({ secret: newSecret, response: await solve(site.key) })).body["error-codes"],
    ).toEqual(["invalid-input-secret"]);
    const newest = immediate.body.secret as string;
    expect((await verify({ secret: newest, response: await solve(site.key) })).body.success).toBe(true);

    const removed = await clients(t).dash.del(`/dashboard/api/apikeys/${site.id}/secret`);
    expect(removed.status).toBe(204);
    expect((await verify({ secret: newest, response: await solve(site.key) })).body["error-codes"]).toEqual([
      "invalid-input-secret",
    ]);
  });

  it("a revoked site key's secret is refused", async () => {
    const site = await siteKey(t, { label: "revoked", datasets: [seeded.datasetId] });
    const token = await solve(site.key);
    expect((await clients(t).dash.del(`/dashboard/api/apikeys/${site.id}`)).status).toBe(204);
    expect((await verify({ secret: site.secret, response: token })).body["error-codes"]).toEqual([
      "invalid-input-secret",
    ]);
  });
});

describe("visitors let through without a challenge", () => {
  it("a site key's 204 carries a bypass token that siteverify accepts once, with score null", async () => {
    const empty = await createDataset(t, { name: "empty-pool", modality: "image" });
    const site = await siteKey(t, { label: "empty", datasets: [empty.id] });
    const res = await call(t, "/api/v1/challenge/generate", {
      headers: { "x-hiveguard-key": site.key, origin: ORIGIN, "user-agent": "Mozilla/5.0 bypass" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("x-hiveguard-bypass")).toBe("no-gt-pool");
    expect(res.headers.get("access-control-expose-headers")).toMatch(/X-HiveGuard-Token/);
    const token = res.headers.get("x-hiveguard-token")!;
    const verified = await verify({ secret: site.secret, response: token, remoteip: "127.0.0.1" });
    expect(verified.body).toMatchObject({
      success: true,
      hostname: "shop.example.com",
      score: null,
      hiveguard: { bypass: "no-gt-pool", tier: null },
    });
    expect((await verify({ secret: site.secret, response: token })).body["error-codes"]).toEqual([
      "timeout-or-duplicate",
    ]);
  });
});

let siteKeyless: { id: string };
beforeAll(async () => {
  // A key with every scope (the default): it may not become a site key.
  siteKeyless = (await clients(t).dash.post("/dashboard/api/apikeys", { label: "all scopes" })).body;
});
