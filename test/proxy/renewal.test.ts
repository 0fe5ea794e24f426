// Token renewal on proxied responses and the page a form's POST gets once its token expired (issue 17, point 3).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientHasher } from "../../src/modules/guard/challenges/client.js";
import { TokenService } from "../../src/modules/guard/challenges/token.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { http, startUpstream, type Upstream, withGtPool } from "./helpers.js";

const UA = "Mozilla/5.0 renewal visitor";

/** Tokens for the test client (127.0.0.1 + UA), signed with the server's secret, issued `ageSec` ago. */
function signer(t: TestServer) {
  const secret = t.shared.secretKey;
  const hasher = new ClientHasher(secret);
  const client = hasher.hash({ ip: "127.0.0.1", userAgent: UA });
  const now = new TokenService(secret, undefined, hasher);
  return {
    client,
    verify: (token: string) => now.verifyToken(token, { ip: "127.0.0.1", userAgent: UA }),
    sign: (ageSec: number, extra: Record<string, unknown> = {}) =>
      new TokenService(secret, undefined, hasher, () => Date.now() - ageSec * 1000).sign({
        client,
        ttlSec: 300,
        ...extra,
      }),
  };
}

const payload = (token: string) => JSON.parse(Buffer.from(token.split(".")[1]!, "base64url").toString());
const cookieToken = (setCookie: string[] | undefined) =>
  setCookie?.map((c) => /^hiveguard_token=([^;]+)/.exec(c)?.[1]).find((v) => v !== undefined);

describe("token renewal and expired forms, behind TARGET_URL", () => {
  let upstream: Upstream;
  let t: TestServer;
  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startTestServer({ env: { TARGET_URL: upstream.url } });
    await withGtPool(t);
  });
  afterAll(async () => {
    await t?.close();
    await upstream?.close();
  });

  const get = (token: string, headers: Record<string, string> = {}) =>
    http(`${t.url}/account`, {
      headers: { "user-agent": UA, cookie: `hiveguard_token=${token}`, ...headers },
    });

  it("gives a token past half its life a fresh cookie: same client and claims, later expiry", async () => {
    const s = signer(t);
    const old = await s.sign(200, { tier: 2, score: 0.8 });
    const res = await get(old);
    expect(res.status).toBe(200);
    expect(res.headers["x-upstream"]).toBe("yes");
    const setCookie = res.headers["set-cookie"]!;
    expect(setCookie).toHaveLength(1);
    expect(setCookie[0]).toMatch(/^hiveguard_token=[^;]+; Path=\/; Max-Age=300; HttpOnly; SameSite=Lax$/);
    const renewed = cookieToken(setCookie)!;
    const verdict = await s.verify(renewed);
    expect(verdict.valid).toBe(true);
    const before = payload(old);
    const after = payload(renewed);
    expect(after).toMatchObject({ sub: s.client, tier: 2, score: 0.8 });
    expect(after.jti).not.toBe(before.jti);
    expect(after.exp).toBeGreaterThan(before.exp);
    expect(after.exp - after.iat).toBe(300);
    // The upstream never sees either token; the renewed one lets the visitor through without renewal.
    expect(JSON.stringify(upstream.seen.at(-1)!.headers)).not.toContain(old);
    const next = await get(renewed);
    expect(next.status).toBe(200);
    expect(next.headers["set-cookie"]).toBeUndefined();
  });

  it("does not renew a fresh token, a header token, a bypass token nor a siteverify token", async () => {
    const s = signer(t);
    expect((await get(await s.sign(10, { tier: 1 }))).headers["set-cookie"]).toBeUndefined();
    const viaHeader = await http(`${t.url}/account`, {
      headers: { "user-agent": UA, "x-hiveguard-token": await s.sign(200, { tier: 1 }) },
    });
    expect(viaHeader.status).toBe(200);
    expect(viaHeader.headers["set-cookie"]).toBeUndefined();
    const bypass = await get(await s.sign(200, { bypass: "no-gt-pool" }));
    expect(bypass.status).toBe(200);
    expect(bypass.headers["set-cookie"]).toBeUndefined();
    const site = await get(await s.sign(200, { tier: 1, site: "key-1", hostname: "example.com" }));
    expect(site.status).toBe(200);
    expect(site.headers["set-cookie"]).toBeUndefined();
  });

  it("signs one renewal per token on this instance, however many requests carry it at once", async () => {
    const s = signer(t);
    const old = await s.sign(200, { tier: 1 });
    const replies = await Promise.all(Array.from({ length: 12 }, () => get(old)));
    expect(replies.every((r) => r.status === 200)).toBe(true);
    const tokens = new Set(replies.map((r) => cookieToken(r.headers["set-cookie"])));
    // Every reply carries the cookie (the gateway waits for a signature under way), all the same token.
    expect(tokens.size).toBe(1);
    expect([...tokens][0]).toBeDefined();
  });

  it("answers a browser's form POST with an expired token with a page back to the form, not JSON", async () => {
    const s = signer(t);
    const expired = await s.sign(3600, { tier: 1 });
    const before = upstream.seen.length;
    const form = await http(`${t.url}/contact/send`, {
      method: "POST",
      headers: {
        "user-agent": UA,
        accept: "text/html,application/xhtml+xml,*/*;q=0.8",
        "content-type": "application/x-www-form-urlencoded",
        "sec-fetch-mode": "navigate",
        referer: `${t.url}/contact?lang=en`,
        cookie: `hiveguard_token=${expired}`,
      },
      body: "message=hello",
    });
    expect(form.status).toBe(401);
    expect(form.headers["content-type"]).toMatch(/^text\/html/);
    expect(form.json).toBeUndefined();
    expect(form.text).toContain("Your verification expired");
    expect(form.text).toContain(
      `href="/_hiveguard/challenge?return=${encodeURIComponent("/contact?lang=en")}"`,
    );
    expect(form.text).toContain("send the form again");
    expect(form.headers["cache-control"]).toBe("no-store");
    expect(upstream.seen.length).toBe(before);

    // A Referer from another site is not a way back: the form's own URL is.
    const elsewhere = await http(`${t.url}/contact/send?x=1`, {
      method: "POST",
      headers: { "user-agent": UA, accept: "text/html", referer: "https://evil.example/contact" },
      body: "message=hello",
    });
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.text).toContain(
      `href="/_hiveguard/challenge?return=${encodeURIComponent("/contact/send?x=1")}"`,
    );
    expect(elsewhere.text).not.toContain("evil.example");
  });

  it("still answers an API client, or a script's fetch, the documented 401 JSON", async () => {
    const cases: Record<string, string>[] = [
      { accept: "application/json" },
      { accept: "text/html", "sec-fetch-mode": "cors" },
      {},
    ];
    for (const headers of cases) {
      const res = await http(`${t.url}/contact/send`, {
        method: "POST",
        headers: { "user-agent": UA, ...headers },
        body: "{}",
      });
      expect(res.status).toBe(401);
      expect(res.json).toEqual({
        detail: "Challenge required",
        challenge_url: `/_hiveguard/challenge?return=${encodeURIComponent("/contact/send")}`,
      });
    }
  });
});

describe("token renewal on the demo page", () => {
  it("renews the cookie there too", async () => {
    const t = await startTestServer();
    try {
      const s = signer(t);
      const res = await http(`${t.url}/demo`, {
        headers: { "user-agent": UA, accept: "text/html", cookie: `hiveguard_token=${await s.sign(200)}` },
      });
      expect(res.status).toBe(200);
      expect(res.text).toContain("You are through");
      expect((await s.verify(cookieToken(res.headers["set-cookie"])!)).valid).toBe(true);
    } finally {
      await t.close();
    }
  });
});
