// Forward-auth mode (issue 20): GET /_hiveguard/auth decides for a front proxy that carries the bytes.
// First the HTTP contract the front proxies follow (the headers nginx, Traefik and Caddy set), then a real
// nginx from Debian's package running docs/proxy.md's snippet as written: a visitor in headless Chromium is
// sent to the challenge, solves it and reaches the upstream through nginx; forged, expired and other
// clients' tokens are refused; the documented answer cache never lets anything but a valid token through.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClientHasher } from "../../src/modules/guard/challenges/client.js";
import { TokenService } from "../../src/modules/guard/challenges/token.js";
import { configure, type Seeded, seed } from "../guard/challenge-helpers.js";
import { clients } from "../guard/helpers.js";
import { chromiumAvailable, launchChromium, solveChallenge } from "../support/browser.js";
import { type Caddy, caddyAvailable, startCaddy } from "../support/caddy.js";
import { forwardAuthCaddy, forwardAuthNginx } from "../support/forward-auth-snippets.js";
import { type Nginx, nginxAvailable, startNginxHttp } from "../support/nginx.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { http, solvedVisitor, startUpstream, type Upstream } from "./helpers.js";

const AUTH = "/_hiveguard/auth";
const RULES = "/dashboard/api/proxy-rules";
const JSON_CLIENT = { accept: "application/json" };
const BROWSER = { accept: "text/html,application/xhtml+xml", "user-agent": "Mozilla/5.0 fwd-test" };

let upstream: Upstream;
let t: TestServer;
let seeded: Seeded;
let holder: { userAgent: string; token: string };

/** A token signed with this server's key for this client, but issued an hour ago with a one-minute life. */
async function expiredToken(userAgent: string): Promise<string> {
  const hasher = new ClientHasher(t.shared.secretKey);
  const old = new TokenService(t.shared.secretKey, undefined, hasher, () => Date.now() - 3_600_000);
  return old.sign({ client: hasher.hash({ ip: "127.0.0.1", userAgent }), ttlSec: 60 });
}

/** A well-formed token for this client signed with a key the server does not have. */
async function forgedToken(userAgent: string): Promise<string> {
  const secret = "f".repeat(64);
  const hasher = new ClientHasher(secret);
  return new TokenService(secret, undefined, hasher).sign({
    client: hasher.hash({ ip: "127.0.0.1", userAgent }),
    ttlSec: 3600,
  });
}

beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "x-upstream": "yes" });
    res.end(
      `<!doctype html><html lang="en"><head><title>Shop</title></head><body><h1>Members area</h1><p id="path">${req.url}</p></body></html>`,
    );
  });
  // No TARGET_URL: in forward-auth mode HiveGuard never carries the site's traffic.
  t = await startTestServer({ env: { TRUSTED_PROXIES: "loopback" } });
  await configure(t);
  seeded = await seed(t, { gt: 6, unknown: 4, modality: "text" });
  for (const rule of [
    { pattern: "/health", match_type: "exact", priority: 100 },
    { pattern: "/public/", match_type: "prefix" },
  ]) {
    expect((await clients(t).dash.post(RULES, rule)).status).toBe(201);
  }
  // The decision learns about the pool through pub/sub: wait until a request without a token is refused.
  // (A loop: expect.poll works only inside a test.)
  for (const deadline = Date.now() + 10_000; ;) {
    if ((await http(`${t.url}${AUTH}`, { headers: JSON_CLIENT })).status === 401) break;
    if (Date.now() > deadline) throw new Error("the decision never saw the GT pool");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  holder = await solvedVisitor(t, seeded);
});
afterAll(async () => {
  await t?.close();
  await upstream?.close();
});

describe("GET /_hiveguard/auth (the contract nginx, Traefik and Caddy follow)", () => {
  const ask = (headers: Record<string, string>, query = "") => http(`${t.url}${AUTH}${query}`, { headers });

  it("refuses a request without a token with 401 and the challenge location, keeping path and query", async () => {
    const res = await ask({ ...JSON_CLIENT, "x-forwarded-uri": "/members/orders?page=2&sort=date" });
    expect(res.status).toBe(401);
    const location = "/_hiveguard/challenge?return=%2Fmembers%2Forders%3Fpage%3D2%26sort%3Ddate";
    expect(res.headers["x-hiveguard-challenge"]).toBe(location);
    expect(res.json).toEqual({ detail: "Challenge required", challenge_url: location });
    expect(res.headers["x-hiveguard-decision"]).toBe("challenge");
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.headers["x-accel-expires"]).toBe("0");
    // nginx's header name works the same.
    const nginxStyle = await ask({ ...JSON_CLIENT, "x-original-uri": "/members/orders?page=2&sort=date" });
    expect(nginxStyle.headers["x-hiveguard-challenge"]).toBe(location);
  });

  it("redirects browser navigations only when asked to (redirect=1, for Traefik and Caddy)", async () => {
    const nav = { ...BROWSER, "x-forwarded-uri": "/members", "x-forwarded-method": "GET" };
    const redirected = await ask(nav, "?redirect=1");
    expect(redirected.status).toBe(302);
    expect(redirected.headers.location).toBe("/_hiveguard/challenge?return=%2Fmembers");
    expect((await ask(nav)).status).toBe(401);
    // A form POST or an API call is never redirected (the body would be lost, the client reads JSON).
    expect((await ask({ ...nav, "x-forwarded-method": "POST" }, "?redirect=1")).status).toBe(401);
    expect((await ask({ ...JSON_CLIENT, "x-forwarded-uri": "/members" }, "?redirect=1")).status).toBe(401);
  });

  it("answers GET and HEAD only, on the main port and on PROXY_PORT alike", async () => {
    const post = await http(`${t.url}${AUTH}`, { method: "POST", headers: JSON_CLIENT, body: "{}" });
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe("GET, HEAD");
    const head = await http(`${t.url}${AUTH}`, { method: "HEAD", headers: JSON_CLIENT });
    expect(head.status).toBe(401);
    expect(head.headers["x-hiveguard-challenge"]).toBe("/_hiveguard/challenge?return=%2F");
    // A longer path is not the endpoint (it is HiveGuard's, and unknown there).
    expect((await http(`${t.url}${AUTH}/x`, { headers: JSON_CLIENT })).status).toBe(404);
  });

  it("keeps the return location on the site: another host in the reported URI becomes /", async () => {
    for (const uri of ["//evil.example/x", "/\\evil.example/x", "http://evil.example/x"]) {
      const res = await ask({ ...JSON_CLIENT, "x-forwarded-uri": uri });
      expect(res.status).toBe(401);
      expect(res.headers["x-hiveguard-challenge"]).toBe("/_hiveguard/challenge?return=%2F");
    }
  });

  it("lets a valid token bound to this client through, from the cookie or the header", async () => {
    const ua = holder.userAgent;
    const byCookie = await ask({ "user-agent": ua, cookie: `a=1; hiveguard_token=${holder.token}; b=2` });
    expect(byCookie.status).toBe(200);
    expect(byCookie.headers["x-hiveguard-decision"]).toBe("token");
    expect(byCookie.headers["x-accel-expires"]).toBeUndefined();
    expect(byCookie.text).toBe("");
    const byHeader = await ask({ "user-agent": ua, "x-hiveguard-token": holder.token });
    expect(byHeader.status).toBe(200);
  });

  it("refuses forged, expired and other clients' tokens", async () => {
    const ua = holder.userAgent;
    const cases: Record<string, Record<string, string>> = {
      forged: { "user-agent": ua, cookie: `hiveguard_token=${await forgedToken(ua)}` },
      tampered: { "user-agent": ua, cookie: `hiveguard_token=${holder.token.slice(0, -4)}AAAA` },
      expired: { "user-agent": ua, cookie: `hiveguard_token=${await expiredToken(ua)}` },
      "another User-Agent": { "user-agent": `${ua} (copied)`, cookie: `hiveguard_token=${holder.token}` },
      // The front proxy (a trusted peer) says the visitor is someone else than the one who solved.
      "another address": {
        "user-agent": ua,
        "x-forwarded-for": "203.0.113.7",
        cookie: `hiveguard_token=${holder.token}`,
      },
    };
    for (const [name, headers] of Object.entries(cases)) {
      const res = await ask({ ...JSON_CLIENT, ...headers, "x-forwarded-uri": "/members" });
      expect(res.status, name).toBe(401);
    }
  });

  it("applies the proxy rules to the reported path, canonical paths only", async () => {
    const exempt = await ask({ ...JSON_CLIENT, "x-original-uri": "/health" });
    expect(exempt.status).toBe(200);
    expect(exempt.headers["x-hiveguard-decision"]).toBe("exempt");
    expect(exempt.headers["x-accel-expires"]).toBe("0");
    expect((await ask({ ...JSON_CLIENT, "x-forwarded-uri": "/public/logo.png?v=3" })).status).toBe(200);
    for (const uri of ["/public/..%2fprivate", "/public/../private", "/public//../private", "/health/x"]) {
      expect((await ask({ ...JSON_CLIENT, "x-forwarded-uri": uri })).status, uri).toBe(401);
    }
    // No path reported: nothing can be exempt.
    expect((await ask(JSON_CLIENT)).status).toBe(401);
  });

  it("does not believe a path header a client slipped beside the proxy's own, nor one sent twice", async () => {
    // The proxy set X-Forwarded-Uri; the client added X-Original-URI (or the reverse).
    const mixed = await ask({ ...JSON_CLIENT, "x-forwarded-uri": "/private", "x-original-uri": "/health" });
    expect(mixed.status).toBe(401);
    const twice = await new Promise<number>((resolve, reject) => {
      void import("node:http").then(({ request }) => {
        const url = new URL(`${t.url}${AUTH}`);
        const req = request({ host: url.hostname, port: url.port, path: AUTH, agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on("error", reject);
        req.setHeader("accept", "application/json");
        req.setHeader("x-forwarded-uri", ["/health", "/private"]);
        req.end();
      });
    });
    expect(twice).toBe(401);
  });

  it("counts its decisions apart on /_hiveguard/metrics", async () => {
    await expect
      .poll(async () => (await http(`${t.url}/_hiveguard/metrics`)).text, { timeout: 5_000 })
      .toMatch(/hiveguard_forward_auth_requests_total\{decision="challenge"\} [1-9]/);
    const text = (await http(`${t.url}/_hiveguard/metrics`)).text;
    expect(text).toMatch(/hiveguard_forward_auth_requests_total\{decision="token"\} [1-9]/);
    expect(text).toMatch(/hiveguard_forward_auth_requests_total\{decision="exempt"\} [1-9]/);
  });
});

describe("GET /_hiveguard/auth from a peer that is not a trusted proxy", () => {
  let plain: TestServer;
  beforeAll(async () => {
    plain = await startTestServer();
    expect((await clients(plain).dash.post(RULES, { pattern: "/health", match_type: "exact" })).status).toBe(
      201,
    );
  });
  afterAll(async () => plain?.close());

  it("ignores the reported path (no rule exempts), and follows fail_mode with no GT pool", async () => {
    // No GT pool here: fail-open lets it through, as a bypass, never as the exempt path it claims.
    const res = await http(`${plain.url}${AUTH}`, {
      headers: { ...JSON_CLIENT, "x-original-uri": "/health" },
    });
    expect(res.status).toBe(200);
    expect(res.headers["x-hiveguard-decision"]).toBe("bypass");
    expect(res.headers["x-hiveguard-bypass"]).toBe("no-gt-pool");
    expect((await clients(plain).dash.post("/dashboard/api/config", { fail_mode: "closed" })).status).toBe(
      200,
    );
    await expect
      .poll(async () => (await http(`${plain.url}${AUTH}`, { headers: JSON_CLIENT })).status, {
        timeout: 5_000,
      })
      .toBe(503);
    const closed = await http(`${plain.url}${AUTH}`, { headers: JSON_CLIENT });
    expect(closed.json).toEqual({ detail: "Challenge pool empty" });
  });
});

/**
 * The human flow through a front proxy at `front`: redirected to the challenge on the site's own host, solved
 * in Chromium, back on the page asked for (from the upstream), next pages straight through; the same cookie
 * in another browser (another User-Agent) is refused.
 */
/**
 * Requests the upstream served for the site's own pages. A browser fetches /favicon.ico on its own, whenever
 * it likes, and a default proxy rule lets that through without a token: it is not counted.
 */
const sitePagesServed = () => upstream.seen.filter((s) => !s.url.startsWith("/favicon.ico")).length;

async function solvesAndBrowses(browser: Browser, front: string): Promise<void> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const seenBefore = sitePagesServed();
    await page.goto(`${front}/members/orders?page=2&sort=date`);
    // Redirected by nginx to the challenge on the site's own host; the site not reached.
    expect(page.url()).toBe(
      `${front}/_hiveguard/challenge?return=%2Fmembers%2Forders%3Fpage%3D2%26sort%3Ddate`,
    );
    expect(sitePagesServed()).toBe(seenBefore);

    await solveChallenge(page, seeded.gt);
    await page.waitForURL(`${front}/members/orders?page=2&sort=date`, { timeout: 15_000 });
    await expect.poll(() => page.locator("h1").textContent()).toBe("Members area");
    expect(await page.locator("#path").textContent()).toBe("/members/orders?page=2&sort=date");
    const cookie = (await context.cookies(front)).find((c) => c.name === "hiveguard_token");
    expect(cookie?.httpOnly).toBe(true);

    // The next pages pass straight through nginx, no redirect.
    const next = await page.goto(`${front}/members/profile`);
    expect(next?.status()).toBe(200);
    expect(next?.request().redirectedFrom()).toBeNull();
    expect(await page.locator("#path").textContent()).toBe("/members/profile");

    // The same cookie in another browser (another User-Agent) is refused.
    const thief = await browser.newContext({ userAgent: "Mozilla/5.0 (copied cookie)" });
    try {
      await thief.addCookies([{ ...cookie!, sameSite: "Lax" }]);
      const other = await thief.newPage();
      await other.goto(`${front}/members/profile`);
      expect(new URL(other.url()).pathname).toBe("/_hiveguard/challenge");
    } finally {
      await thief.close();
    }
  } finally {
    await context.close();
  }
}

describe.skipIf(
  !nginxAvailable("forward auth through nginx") || !chromiumAvailable("forward auth through nginx"),
)("behind a real nginx (docs/proxy.md's snippet)", () => {
  let nginx: Nginx;
  let cached: Nginx;
  let browser: Browser;
  const hg = () => new URL(t.url).host;
  const site = () => `127.0.0.1:${upstream.port}`;

  beforeAll(async () => {
    nginx = await startNginxHttp((_dir, port) => forwardAuthNginx({ port, hiveguard: hg(), site: site() }));
    cached = await startNginxHttp((dir, port) =>
      forwardAuthNginx({ port, hiveguard: hg(), site: site(), cacheDir: `${dir}/auth-cache` }),
    );
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await nginx?.close();
    await cached?.close();
  });

  it("sends a visitor to the challenge, which they solve in Chromium, then lets them reach the site", async () => {
    await solvesAndBrowses(browser, nginx.url);
  });

  for (const which of ["plain", "with the answer cache"] as const) {
    describe(which, () => {
      const front = () => (which === "plain" ? nginx : cached);

      it("passes a valid token to the upstream; refuses forged, expired and other clients' tokens", async () => {
        const ua = holder.userAgent;
        const ok = await http(`${front().url}/members`, {
          headers: { "user-agent": ua, cookie: `hiveguard_token=${holder.token}` },
        });
        expect(ok.status).toBe(200);
        expect(ok.headers["x-upstream"]).toBe("yes");
        // Twice more (a cached answer, where there is a cache), still for this client only.
        for (let i = 0; i < 2; i++) {
          const again = await http(`${front().url}/members/${i}`, {
            headers: { "user-agent": ua, "x-hiveguard-token": holder.token },
          });
          expect(again.status).toBe(200);
        }
        const refused: Record<string, Record<string, string>> = {
          forged: { "user-agent": ua, cookie: `hiveguard_token=${await forgedToken(ua)}` },
          expired: { "user-agent": ua, cookie: `hiveguard_token=${await expiredToken(ua)}` },
          "another client": { "user-agent": "curl/8.0", cookie: `hiveguard_token=${holder.token}` },
          none: { "user-agent": ua },
        };
        const seenBefore = sitePagesServed();
        for (const [name, headers] of Object.entries(refused)) {
          const res = await http(`${front().url}/members`, { headers: { ...JSON_CLIENT, ...headers } });
          expect(res.status, name).toBe(401);
          expect(res.json, name).toEqual({
            detail: "Challenge required",
            challenge_url: "/_hiveguard/challenge?return=%2Fmembers",
          });
          expect(res.headers["x-hiveguard-challenge"]).toBe("/_hiveguard/challenge?return=%2Fmembers");
        }
        expect(sitePagesServed()).toBe(seenBefore);
      });

      if (which === "with the answer cache")
        it("asks HiveGuard once for a client's repeated requests", async () => {
          const tokenChecks = async () =>
            Number(
              /hiveguard_forward_auth_requests_total\{decision="token"\} (\d+)/.exec(
                (await http(`${t.url}/_hiveguard/metrics`)).text,
              )?.[1],
            );
          const headers = {
            "user-agent": `${holder.userAgent}`,
            cookie: `hiveguard_token=${holder.token}`,
          };
          expect((await http(`${front().url}/warm`, { headers })).status).toBe(200);
          const before = await tokenChecks();
          expect(before).toBeGreaterThan(0);
          for (let i = 0; i < 5; i++)
            expect((await http(`${front().url}/page/${i}`, { headers })).status).toBe(200);
          expect(await tokenChecks()).toBe(before);
        });

      it("exempts what a rule names, and nothing a client claims about the path", async () => {
        const health = await http(`${front().url}/health`, { headers: JSON_CLIENT });
        expect(health.status).toBe(200);
        expect(health.headers["x-upstream"]).toBe("yes");
        // The exempt answer must not be remembered for this (tokenless) client.
        const after = await http(`${front().url}/private`, { headers: JSON_CLIENT });
        expect(after.status).toBe(401);
        // Headers a client sends to nginx are replaced by the snippet's own.
        const spoofed = await http(`${front().url}/private`, {
          headers: { ...JSON_CLIENT, "x-forwarded-uri": "/health", "x-original-uri": "/health" },
        });
        expect(spoofed.status).toBe(401);
        for (const path of ["/public/..%2fprivate", "/public/../private"]) {
          expect((await http(`${front().url}${path}`, { headers: JSON_CLIENT })).status, path).toBe(401);
        }
      });

      it("redirects browsers with a relative location and hides the check itself", async () => {
        const res = await http(`${front().url}/members?tab=1`, { headers: BROWSER });
        expect(res.status).toBe(302);
        expect(res.headers.location).toBe("/_hiveguard/challenge?return=%2Fmembers%3Ftab%3D1");
        expect((await http(`${front().url}/_hiveguard/auth`, { headers: JSON_CLIENT })).status).toBe(404);
        expect((await http(`${front().url}/_hiveguard/metrics`)).status).toBe(404);
        expect((await http(`${front().url}/_hiveguard_auth`)).status).toBe(404);
      });
    });
  }
});

describe.skipIf(
  !caddyAvailable("forward auth through Caddy") || !chromiumAvailable("forward auth through Caddy"),
)("behind a real Caddy (docs/proxy.md's Caddyfile)", () => {
  let caddy: Caddy;
  let browser: Browser;

  beforeAll(async () => {
    caddy = await startCaddy((port) =>
      forwardAuthCaddy({ port, hiveguard: new URL(t.url).host, site: `127.0.0.1:${upstream.port}` }),
    );
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await caddy?.close();
  });

  it("sends a visitor to the challenge, which they solve in Chromium, then lets them reach the site", async () => {
    await solvesAndBrowses(browser, caddy.url);
  });

  it("passes a valid token, refuses other clients' and forged tokens, applies the rules", async () => {
    const ua = holder.userAgent;
    const ok = await http(`${caddy.url}/members`, {
      headers: { "user-agent": ua, cookie: `hiveguard_token=${holder.token}` },
    });
    expect(ok.status).toBe(200);
    expect(ok.headers["x-upstream"]).toBe("yes");
    for (const headers of [
      { "user-agent": "curl/8.0", cookie: `hiveguard_token=${holder.token}` },
      { "user-agent": ua, cookie: `hiveguard_token=${await forgedToken(ua)}` },
      { "user-agent": ua, cookie: `hiveguard_token=${await expiredToken(ua)}` },
    ]) {
      const res = await http(`${caddy.url}/members`, { headers: { ...JSON_CLIENT, ...headers } });
      expect(res.status).toBe(401);
      expect(res.json).toEqual({
        detail: "Challenge required",
        challenge_url: "/_hiveguard/challenge?return=%2Fmembers",
      });
    }
    const browserNav = await http(`${caddy.url}/members?tab=1`, { headers: BROWSER });
    expect(browserNav.status).toBe(302);
    expect(browserNav.headers.location).toBe("/_hiveguard/challenge?return=%2Fmembers%3Ftab%3D1");
    expect((await http(`${caddy.url}/health`, { headers: JSON_CLIENT })).status).toBe(200);
    const spoofed = await http(`${caddy.url}/private`, {
      headers: { ...JSON_CLIENT, "x-original-uri": "/health", "x-forwarded-uri": "/health" },
    });
    expect(spoofed.status).toBe(401);
    expect((await http(`${caddy.url}/_hiveguard/auth`, { headers: JSON_CLIENT })).status).toBe(404);
  });
});
