// The whole human flow through the proxy, in Debian's Chromium driven by playwright-core: a protected
// page → the hosted challenge → solved → back on the page with the cookie → next pages pass straight.
// Fails (never skips) when Chromium is missing.
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configure, type Seeded, seed } from "../guard/challenge-helpers.js";
import { chromiumAvailable, launchChromium, solveChallenge } from "../support/browser.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { ClientHasher } from "../../src/modules/guard/challenges/client.js";
import { TokenService } from "../../src/modules/guard/challenges/token.js";
import { startUpstream, type Upstream } from "./helpers.js";

const withBrowser = chromiumAvailable("the browser tests of proxy/browser.test.ts");
const FORM =
  '<form method="post" action="/contact/send"><textarea name="message"></textarea><button>Send</button></form>';

let upstream: Upstream;
let t: TestServer;
let seeded: Seeded;
let browser: Browser;

beforeAll(async () => {
  upstream = await startUpstream((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    const form = req.url === "/contact" ? FORM : "";
    res.end(
      `<!doctype html><html lang="en"><head><title>Shop</title></head><body><h1>Members area</h1><p id="path">${req.url}</p>${form}</body></html>`,
    );
  });
  t = await startTestServer({ env: { TARGET_URL: upstream.url } });
  await configure(t);
  seeded = await seed(t, { gt: 6, unknown: 4, modality: "text" });
  if (withBrowser) browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
  await upstream?.close();
});

describe("a visitor in a browser", () => {
  it.skipIf(!withBrowser)(
    "is challenged once, lands back on the page it asked for, and browses on without another challenge",
    async () => {
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
        for (const seen of upstream.seen)
          expect(JSON.stringify(seen.rawHeaders)).not.toContain(cookie!.value);

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
    },
  );
});

describe("a visitor filling in a form", () => {
  it.skipIf(!withBrowser)(
    "gets a renewed cookie while active, and a page back to the form (not JSON) once the token expired",
    async () => {
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        await page.goto(`${t.url}/contact`);
        await solveChallenge(page, seeded.gt);
        await page.waitForURL(`${t.url}/contact`, { timeout: 15_000 });

        // A token past half its life, for this browser: the next page brings a fresh cookie.
        const userAgent = await page.evaluate(() => navigator.userAgent);
        const hasher = new ClientHasher(t.shared.secretKey);
        const signedAgo = (sec: number) =>
          new TokenService(t.shared.secretKey, undefined, hasher, () => Date.now() - sec * 1000).sign({
            client: hasher.hash({ ip: "127.0.0.1", userAgent }),
            ttlSec: 300,
            tier: 1,
          });
        const setToken = (value: string) =>
          context.addCookies([
            { name: "hiveguard_token", value, url: t.url, httpOnly: true, sameSite: "Lax" },
          ]);
        const old = await signedAgo(200);
        await setToken(old);
        expect((await page.goto(`${t.url}/contact`))?.status()).toBe(200);
        const renewed = (await context.cookies(t.url)).find((c) => c.name === "hiveguard_token")!;
        expect(renewed.value).not.toBe(old);
        expect(renewed.httpOnly).toBe(true);
        expect(renewed.expires).toBeGreaterThan(Date.now() / 1000 + 250);

        // The token expires while the visitor types: sending the form explains, and leads back to it.
        await setToken(await signedAgo(3600));
        const seen = upstream.seen.length;
        await page.fill("textarea", "hello");
        await page.click("button");
        await expect.poll(() => page.locator("h1").textContent()).toBe("Your verification expired");
        expect(upstream.seen.length).toBe(seen);
        await page.click("text=Verify, then return to the page");
        expect(new URL(page.url()).searchParams.get("return")).toBe("/contact");
        await solveChallenge(page, seeded.gt);
        await page.waitForURL(`${t.url}/contact`, { timeout: 15_000 });
        expect(await page.locator("textarea").count()).toBe(1);
      } finally {
        await context.close();
      }
    },
  );
});
