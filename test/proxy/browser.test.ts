// The whole human flow through the proxy, in Debian's Chromium driven by playwright-core: a protected
// page → the hosted challenge → solved → back on the page with the cookie → next pages pass straight.
// Fails (never skips) when Chromium is missing.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configure, type Seeded, seed } from "../guard/challenge-helpers.js";
import { launchChromium, solveChallenge } from "../support/browser.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { startUpstream, type Upstream } from "./helpers.js";

let upstream: Upstream;
let t: TestServer;
let seeded: Seeded;
let browser: Browser;

beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(
      `<!doctype html><html lang="en"><head><title>Shop</title></head><body><h1>Members area</h1><p id="path">${req.url}</p></body></html>`,
    );
  });
  t = await startTestServer({ env: { TARGET_URL: upstream.url } });
  await configure(t);
  seeded = await seed(t, { gt: 6, unknown: 4, modality: "text" });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
  await upstream?.close();
});

describe("a visitor in a browser", () => {
  it("is challenged once, lands back on the page it asked for, and browses on without another challenge", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const seenBefore = upstream.seen.length;
      await page.goto(`${t.url}/members/orders?page=2&sort=date`);
      // Sent to the hosted challenge, the site not reached.
      expect(new URL(page.url()).pathname).toBe("/_hiveguard/challenge");
      expect(new URL(page.url()).searchParams.get("return")).toBe("/members/orders?page=2&sort=date");
      expect(upstream.seen.length).toBe(seenBefore);

      await solveChallenge(page, seeded.gt);
      await page.waitForURL(`${t.url}/members/orders?page=2&sort=date`, { timeout: 15_000 });
      await expect.poll(() => page.locator("h1").textContent()).toBe("Members area");
      expect(await page.locator("#path").textContent()).toBe("/members/orders?page=2&sort=date");

      const cookie = (await context.cookies(t.url)).find((c) => c.name === "hiveguard_token");
      expect(cookie?.httpOnly).toBe(true);

      // Next pages pass straight through: no redirect, straight from the site.
      const next = await page.goto(`${t.url}/members/profile`);
      expect(next?.status()).toBe(200);
      expect(next?.request().redirectedFrom()).toBeNull();
      expect(await page.locator("#path").textContent()).toBe("/members/profile");
      // The site never saw the token.
      for (const seen of upstream.seen) expect(JSON.stringify(seen.rawHeaders)).not.toContain(cookie!.value);

      // Another visitor (no cookie) is still challenged.
      const stranger = await browser.newContext();
      try {
        const other = await stranger.newPage();
        await other.goto(`${t.url}/members/profile`);
        expect(new URL(other.url()).pathname).toBe("/_hiveguard/challenge");
      } finally {
        await stranger.close();
      }
    } finally {
      await context.close();
    }
  });
});
