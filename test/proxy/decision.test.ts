// Routing and the per-request decision: rules, tokens, the challenge redirect, fail-open/closed.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientHasher } from "../../src/modules/guard/challenges/client.js";
import { TokenService } from "../../src/modules/guard/challenges/token.js";
import type { Seeded } from "../guard/challenge-helpers.js";
import { clients, DEFAULT_RULE_PATTERNS } from "../guard/helpers.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { http, solvedVisitor, startUpstream, type Upstream, withGtPool } from "./helpers.js";

const BROWSER = { accept: "text/html,application/xhtml+xml", "user-agent": "Mozilla/5.0 browser" };

describe("routing", () => {
  let upstream: Upstream;
  let t: TestServer;
  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startTestServer({ env: { TARGET_URL: upstream.url, PROXY_PORT: "0" } });
  });
  afterAll(async () => {
    await t?.close();
    await upstream?.close();
  });

  it("serves HiveGuard's own paths itself and proxies everything else to TARGET_URL", async () => {
    const own = await http(`${t.url}/api/v1/health`);
    expect(own.json).toMatchObject({ status: "ok" });
    expect((await http(`${t.url}/openapi.json`)).json.openapi).toBeDefined();
    expect((await http(`${t.url}/_hiveguard/metrics`)).text).toContain("hiveguard_proxy_requests_total");

    const before = upstream.seen.length;
    const site = await http(`${t.url}/shop/cart?item=7&q=a%20b`);
    expect(site.status).toBe(200);
    expect(site.headers["x-upstream"]).toBe("yes");
    expect(site.json.url).toBe("/shop/cart?item=7&q=a%20b");
    // Paths that merely start like ours belong to the site.
    for (const path of ["/docsite", "/api/v2/x", "/graphqlx", "/trpcs"]) {
      expect((await http(`${t.url}${path}`)).json.url).toBe(path);
    }
    expect(upstream.seen.length).toBe(before + 5);
  });

  it("on PROXY_PORT proxies every path, HiveGuard's API paths included, except /_hiveguard/*", async () => {
    expect(t.proxyUrl).not.toBeNull();
    for (const path of ["/api/v1/health", "/docs", "/dashboard/api/config", "/graphql"]) {
      const res = await http(`${t.proxyUrl}${path}`);
      expect(res.headers["x-upstream"]).toBe("yes");
      expect(res.json.url).toBe(path);
    }
    const metrics = await http(`${t.proxyUrl}/_hiveguard/metrics`);
    expect(metrics.headers["x-upstream"]).toBeUndefined();
    expect(metrics.text).toContain("hiveguard_proxy_requests_total");
  });

  it("refuses a request target that is not a path with 400", async () => {
    const { Socket } = await import("node:net");
    const port = new URL(t.url).port;
    const socket = new Socket();
    const answer = await new Promise<string>((resolve, reject) => {
      let text = "";
      socket.connect(Number(port), "127.0.0.1", () =>
        socket.write("GET http://evil.example/ HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"),
      );
      socket.on("data", (chunk) => (text += chunk.toString()));
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
    expect(answer).toContain('"detail":"Bad request target"');
  });
});

describe("without TARGET_URL", () => {
  it("a built-in demo page stands in for the site, behind the same decision", async () => {
    const t = await startTestServer();
    try {
      const open = await http(`${t.url}/anything`, { headers: BROWSER });
      expect(open.status).toBe(200);
      expect(open.text).toContain("You are through");
      expect(open.headers["x-hiveguard-bypass"]).toBe("no-gt-pool");

      await withGtPool(t);
      const challenged = await http(`${t.url}/anything?x=1`, { headers: BROWSER });
      expect(challenged.status).toBe(302);
      expect(challenged.headers.location).toBe("/_hiveguard/challenge?return=%2Fanything%3Fx%3D1");
    } finally {
      await t.close();
    }
  });
});

describe("decision", () => {
  let upstream: Upstream;
  let t: TestServer;
  let seeded: Seeded;
  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startTestServer({ env: { TARGET_URL: upstream.url } });
    seeded = await withGtPool(t);
  });
  afterAll(async () => {
    await t?.close();
    await upstream?.close();
  });

  const rule = async (body: Record<string, unknown>) => {
    const res = await clients(t).dash.post("/dashboard/api/proxy-rules", body);
    expect(res.status).toBe(201);
    return res.body as { id: string };
  };

  it("challenges a browser with a redirect that returns to the original path and query", async () => {
    const res = await http(`${t.url}/account/orders?page=2&sort=date`, { headers: BROWSER });
    expect(res.status).toBe(302);
    const location = new URL(res.headers.location!, t.url);
    expect(location.pathname).toBe("/_hiveguard/challenge");
    expect(location.searchParams.get("return")).toBe("/account/orders?page=2&sort=date");
    expect(upstream.seen.some((r) => r.url.startsWith("/account/orders"))).toBe(false);
  });

  it("answers any other client 401 with the challenge URL", async () => {
    const inits: Parameters<typeof http>[1][] = [
      { headers: { accept: "application/json" } },
      { method: "POST", headers: { "user-agent": "curl/8", "content-type": "text/plain" }, body: "x" },
      { headers: {} },
    ];
    for (const init of inits) {
      const res = await http(`${t.url}/api/orders?id=1`, init);
      expect(res.status).toBe(401);
      expect(res.json).toEqual({
        detail: "Challenge required",
        challenge_url: "/_hiveguard/challenge?return=%2Fapi%2Forders%3Fid%3D1",
      });
    }
    // A browser's form POST gets a page with the challenge link instead (renewal.test.ts has the details).
    const form = await http(`${t.url}/api/orders?id=1`, {
      method: "POST",
      headers: { ...BROWSER, "content-type": "text/plain" },
      body: "x",
    });
    expect(form.status).toBe(401);
    expect(form.headers["content-type"]).toMatch(/^text\/html/);
    expect(form.text).toContain('href="/_hiveguard/challenge?return=%2Fapi%2Forders%3Fid%3D1"');
  });

  it("exempts paths by exact, prefix and glob rules, only while enabled, and stops at once when deleted", async () => {
    const exact = await rule({ pattern: "/health", match_type: "exact", priority: 100 });
    await rule({ pattern: "/public/", match_type: "prefix", priority: 50 });
    await rule({ pattern: "/api/v*/docs", match_type: "glob" });
    const disabled = await rule({ pattern: "/private/", match_type: "prefix", enabled: false });

    expect((await http(`${t.url}/health`)).status).toBe(200);
    expect((await http(`${t.url}/health?probe=1`)).status).toBe(200);
    expect((await http(`${t.url}/health/deep`)).status).toBe(401);
    expect((await http(`${t.url}/public/logo.png`)).status).toBe(200);
    expect((await http(`${t.url}/publicity`)).status).toBe(401);
    expect((await http(`${t.url}/api/v2/docs`)).status).toBe(200);
    expect((await http(`${t.url}/api/v2/x/docs`)).status).toBe(401);
    expect((await http(`${t.url}/private/x`)).status).toBe(401);
    // Dot segments cannot ride on an exempt prefix.
    expect((await http(`${t.url}/public/../admin`)).status).toBe(401);
    expect((await http(`${t.url}/public/%2e%2e/admin`)).status).toBe(401);

    await clients(t).dash.patch(`/dashboard/api/proxy-rules/${disabled.id}`, { enabled: true });
    expect((await http(`${t.url}/private/x`)).status).toBe(200);
    await clients(t).dash.del(`/dashboard/api/proxy-rules/${exact.id}`);
    expect((await http(`${t.url}/health`)).status).toBe(401);
  });

  it("applies a rule created on one instance on every other instance", async () => {
    const second = await startTestServer({ env: { TARGET_URL: upstream.url }, sharedWith: t });
    try {
      expect((await http(`${second.url}/status/ping`)).status).toBe(401);
      await rule({ pattern: "/status/**", match_type: "glob", priority: 10 });
      await expect.poll(async () => (await http(`${second.url}/status/ping`)).status).toBe(200);
    } finally {
      await second.close();
    }
  });

  it("lets /favicon.ico and /robots.txt through by default: rules the operator deletes like any other, for good", async () => {
    const rules = (await clients(t).dash.get("/dashboard/api/proxy-rules")).body as {
      id: string;
      pattern: string;
      match_type: string;
      enabled: boolean;
    }[];
    const defaults = rules.filter((r) => DEFAULT_RULE_PATTERNS.includes(r.pattern));
    expect(defaults.map(({ pattern, match_type, enabled }) => ({ pattern, match_type, enabled }))).toEqual(
      expect.arrayContaining([
        { pattern: "/favicon.ico", match_type: "exact", enabled: true },
        { pattern: "/robots.txt", match_type: "exact", enabled: true },
      ]),
    );
    expect(defaults).toHaveLength(2);
    // A browser without a token gets them from the site, as it asks for them on its own.
    for (const path of ["/favicon.ico", "/robots.txt", "/robots.txt?x=1"]) {
      const res = await http(`${t.url}${path}`, { headers: BROWSER });
      expect(res.status).toBe(200);
      expect(res.json.url).toBe(path);
    }
    // Exact rules: nothing beside or below them.
    for (const path of ["/favicon.ico/admin", "/robots.txt.bak", "/favicon.ico/../admin"])
      expect((await http(`${t.url}${path}`, { headers: BROWSER })).status).toBe(302);

    const favicon = defaults.find((r) => r.pattern === "/favicon.ico")!;
    expect((await clients(t).dash.del(`/dashboard/api/proxy-rules/${favicon.id}`)).status).toBe(204);
    expect((await http(`${t.url}/favicon.ico`, { headers: BROWSER })).status).toBe(302);
    // Another start on the same database does not bring it back.
    const second = await startTestServer({ env: { TARGET_URL: upstream.url }, sharedWith: t });
    try {
      expect((await http(`${second.url}/favicon.ico`, { headers: BROWSER })).status).toBe(302);
      expect((await http(`${second.url}/robots.txt`, { headers: BROWSER })).status).toBe(200);
    } finally {
      await second.close();
    }
  });

  it("lets a solved visitor through with the cookie or the header, and never shows the token upstream", async () => {
    const { userAgent, token } = await solvedVisitor(t, seeded);
    const byCookie = await http(`${t.url}/members?tab=1`, {
      headers: { "user-agent": userAgent, cookie: `theme=dark; hiveguard_token=${token}; lang=en` },
    });
    expect(byCookie.status).toBe(200);
    expect(byCookie.json.url).toBe("/members?tab=1");
    expect(byCookie.json.headers.cookie).toBe("theme=dark; lang=en");

    const byHeader = await http(`${t.url}/members`, {
      headers: { "user-agent": userAgent, "x-hiveguard-token": token, cookie: `hiveguard_token=${token}` },
    });
    expect(byHeader.status).toBe(200);
    expect(byHeader.json.headers["x-hiveguard-token"]).toBeUndefined();
    expect(byHeader.json.headers.cookie).toBeUndefined();
    for (const seen of upstream.seen) expect(JSON.stringify(seen.rawHeaders)).not.toContain(token);

    // An operator signed in to the dashboard on the same origin: the session cookie stays with HiveGuard.
    const session = "hg_session=operator-session-token";
    const signedIn = await http(`${t.url}/members`, {
      headers: { "user-agent": userAgent, cookie: `theme=dark; ${session}; hiveguard_token=${token}` },
    });
    expect(signedIn.status).toBe(200);
    expect(signedIn.json.headers.cookie).toBe("theme=dark");
    const sessionOnly = await http(`${t.url}/members`, {
      headers: { "user-agent": userAgent, "x-hiveguard-token": token, cookie: session },
    });
    expect(sessionOnly.json.headers.cookie).toBeUndefined();
    for (const seen of upstream.seen)
      expect(JSON.stringify(seen.rawHeaders)).not.toContain("operator-session");

    // Many requests with the same token keep passing (cached verification gives the same answer).
    for (let i = 0; i < 20; i++) {
      const res = await http(`${t.url}/members/${i}`, {
        headers: { "user-agent": userAgent, "x-hiveguard-token": token },
      });
      expect(res.status).toBe(200);
    }
  });

  it("challenges an expired, forged, or someone else's token", async () => {
    const { userAgent, token } = await solvedVisitor(t, seeded);
    const secret = t.shared.secretKey;
    const hasher = new ClientHasher(secret);
    const client = hasher.hash({ ip: "127.0.0.1", userAgent });
    const hourAgo = new TokenService(secret, undefined, hasher, () => Date.now() - 3_600_000);
    const expired = await hourAgo.sign({ client, ttlSec: 300, tier: 1 });
    const otherSecret = new TokenService("x".repeat(40), undefined, new ClientHasher("x".repeat(40)));
    const forgedKey = await otherSecret.sign({ client, ttlSec: 300, tier: 1 });
    const [h, p, s] = token.split(".");
    const tampered = `${h}.${p}.${s!.slice(0, -2)}${s!.endsWith("AA") ? "BB" : "AA"}`;
    const payload = JSON.parse(Buffer.from(p!, "base64url").toString());
    const altered = `${h}.${Buffer.from(JSON.stringify({ ...payload, exp: payload.exp + 9999 })).toString("base64url")}.${s}`;

    for (const bad of [expired, forgedKey, tampered, altered, "not-a-jwt", "a.b.c"]) {
      const res = await http(`${t.url}/members`, {
        headers: { "user-agent": userAgent, cookie: `hiveguard_token=${bad}` },
      });
      expect(res.status).toBe(401);
    }
    // Someone else (another User-Agent) presenting this visitor's valid token.
    const stolen = await http(`${t.url}/members`, {
      headers: { "user-agent": "Mozilla/5.0 someone else", "x-hiveguard-token": token },
    });
    expect(stolen.status).toBe(401);
    // The owner still passes (the rejection above did not spoil the token).
    const owner = await http(`${t.url}/members`, {
      headers: { "user-agent": userAgent, "x-hiveguard-token": token },
    });
    expect(owner.status).toBe(200);
  });

  it("counts decisions on /_hiveguard/metrics", async () => {
    const metrics = await http(`${t.url}/_hiveguard/metrics`);
    const count = (decision: string) =>
      Number(
        new RegExp(`hiveguard_proxy_requests_total\\{decision="${decision}"\\} (\\d+)`).exec(
          metrics.text,
        )?.[1],
      );
    expect(count("challenge")).toBeGreaterThan(5);
    expect(count("token")).toBeGreaterThan(20);
    expect(count("exempt")).toBeGreaterThan(3);
    expect(metrics.text).toMatch(/hiveguard_challenges_total\{outcome="passed"\} [1-9]/);
    expect(metrics.text).toContain("hiveguard_proxy_upstream_duration_seconds_bucket");
  });
});

describe("no ground-truth pool", () => {
  let upstream: Upstream;
  let t: TestServer;
  beforeAll(async () => {
    upstream = await startUpstream();
    t = await startTestServer({ env: { TARGET_URL: upstream.url } });
  });
  afterAll(async () => {
    await t?.close();
    await upstream?.close();
  });

  it("fails open with X-HiveGuard-Bypass, fails closed with 503 when configured, and challenges once GT exists", async () => {
    const open = await http(`${t.url}/page`, { headers: BROWSER });
    expect(open.status).toBe(200);
    expect(open.headers["x-hiveguard-bypass"]).toBe("no-gt-pool");
    expect(open.json.url).toBe("/page");

    expect((await clients(t).dash.post("/dashboard/api/config", { fail_mode: "closed" })).status).toBe(200);
    const closed = await http(`${t.url}/page`);
    expect(closed.status).toBe(503);
    expect(closed.json).toEqual({ detail: "Challenge pool empty" });
    const closedPage = await http(`${t.url}/page`, { headers: BROWSER });
    expect(closedPage.status).toBe(503);
    expect(closedPage.headers["content-type"]).toContain("text/html");

    await withGtPool(t, { fail_mode: "open" });
    // Items added: every instance learns it through pub/sub within moments (well inside the 5 s refresh).
    await expect
      .poll(async () => (await http(`${t.url}/page`)).status, { timeout: 2000, interval: 50 })
      .toBe(401);
  });
});
