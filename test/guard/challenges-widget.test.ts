// The widget and the hosted page, in Debian's Chromium driven by playwright-core. Fails (never skips)
// when Chromium is missing.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { safeReturnPath } from "../../src/modules/guard/challenges/http.js";
import { launchChromium, solveChallenge } from "../support/browser.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { configure, seed, type Seeded } from "./challenge-helpers.js";
import { call } from "./helpers.js";

let t: TestServer;
let s: Seeded;
let browser: Browser;
let site: Server;
let siteUrl: string;

beforeAll(async () => {
  t = await startTestServer();
  await configure(t);
  s = await seed(t, { gt: 6, unknown: 4, modality: "text" });
  browser = await launchChromium();
  // A customer's site on another origin, embedding the widget as the README shows.
  site = createServer((_req, res) => {
    res.setHeader("content-type", "text/html; charset=utf-8");
    res.end(`<!doctype html><html lang="en"><head><title>Shop</title></head><body>
      <form id="signup"><div data-hiveguard-key="${s.key}" data-callback="onVerified"></div></form>
      <script>window.onVerified = (token) => { window.__token = token; };</script>
      <script src="${t.url}/_hiveguard/widget.js"></script></body></html>`);
  });
  await new Promise<void>((resolve) => site.listen(0, "127.0.0.1", resolve));
  siteUrl = `http://127.0.0.1:${(site.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (site ? site.close(resolve) : resolve(undefined)));
  await t?.close();
});

describe("widget script", () => {
  it("is served as JavaScript, under 15 KB gzipped", async () => {
    const res = await fetch(`${t.url}/_hiveguard/widget.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/javascript");
    const body = Buffer.from(await res.arrayBuffer());
    expect(gzipSync(body).length).toBeLessThan(15 * 1024);
  });

  it("answers CORS preflights for the challenge API", async () => {
    const res = await fetch(`${t.url}/api/v1/challenge/submit`, {
      method: "OPTIONS",
      headers: { origin: "http://shop.example", "access-control-request-method": "POST" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-headers")).toContain("X-HiveGuard-Key");
  });

  it("is solved end to end in Chromium, keyboard only, and hands the token to the callback", async () => {
    const page = await browser.newPage();
    try {
      await page.goto(siteUrl);
      // Every control is labelled: questions are fieldsets with legends, answers are labelled radios.
      await expect.poll(() => page.locator("legend").count(), { timeout: 10_000 }).toBe(2);
      expect(await page.locator("legend").first().textContent()).toMatch(
        /^Question 1 of 2: Does this contain a cat\?/,
      );
      await solveChallenge(page, s.gt);
      await page.waitForFunction(() => typeof (window as any).__token === "string", null, {
        timeout: 10_000,
      });
      const token = await page.evaluate(() => (window as any).__token as string);
      expect(await page.locator('input[name="hiveguard-token"]').inputValue()).toBe(token);
      await expect.poll(() => page.getByRole("status").textContent()).toContain("Verified");
      const userAgent = await page.evaluate(() => navigator.userAgent);
      const verdict = await t.server.deps.services.challenges.tokens.verifyToken(token, {
        ip: "127.0.0.1",
        userAgent,
      });
      expect(verdict.valid).toBe(true);
    } finally {
      await page.close();
    }
  });
});

describe("hosted page /_hiveguard/challenge", () => {
  it("accepts only same-origin return paths", () => {
    expect(safeReturnPath("/cart?x=1#top")).toBe("/cart?x=1#top");
    for (const bad of [
      "//evil.example/x",
      "/\\evil.example",
      "https://evil.example/",
      "javascript:alert(1)",
      "",
      undefined,
    ]) {
      expect(safeReturnPath(bad)).toBe("/");
    }
  });

  it("is a strict-CSP page that escapes the return path", async () => {
    const res = await call(
      t,
      `/_hiveguard/challenge?return=${encodeURIComponent('/x"><script>alert(1)</script>')}`,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(res.text).not.toContain("<script>alert(1)");
  });

  it("sets the HttpOnly token cookie on success and returns the visitor to the path", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${t.url}/_hiveguard/challenge?return=${encodeURIComponent("/after?step=2")}`);
      await solveChallenge(page, s.gt);
      await page.waitForURL(/\/after\?step=2$/, { timeout: 10_000 });
      const cookie = (await context.cookies()).find((c) => c.name === "hiveguard_token");
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Lax", path: "/", secure: false });
      const userAgent = await page.evaluate(() => navigator.userAgent);
      const verdict = await t.server.deps.services.challenges.tokens.verifyToken(cookie!.value, {
        ip: "127.0.0.1",
        userAgent,
      });
      expect(verdict.valid).toBe(true);
      // The page's own script never saw the token.
      expect(await page.evaluate(() => document.cookie)).not.toContain("hiveguard_token");
    } finally {
      await context.close();
    }
  });
});
