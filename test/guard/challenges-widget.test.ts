// The widget and the hosted page, in Debian's Chromium driven by playwright-core. Fails (never skips)
// when Chromium is missing.
import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hostedLanguage, safeReturnPath } from "../../src/modules/guard/challenges/http.js";
import { chromiumAvailable, launchChromium, solveChallenge } from "../support/browser.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { configure, seed, type Seeded } from "./challenge-helpers.js";
import { call } from "./helpers.js";

const withBrowser = chromiumAvailable("the browser tests of guard/challenges-widget.test.ts");
// Screenshots of the hosted page at desktop and phone widths (gitignored), to compare by eye.
const ARTIFACTS = join(process.cwd(), "test-artifacts", "challenge");
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 360, height: 740 };

let t: TestServer;
let s: Seeded;
let browser: Browser;
let site: Server;
let siteUrl: string;

beforeAll(async () => {
  t = await startTestServer();
  await configure(t);
  s = await seed(t, { gt: 6, unknown: 4, modality: "text" });
  if (withBrowser) browser = await launchChromium();
  mkdirSync(ARTIFACTS, { recursive: true });
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

  it.skipIf(!withBrowser)(
    "is solved end to end in Chromium, keyboard only, and hands the token to the callback",
    async () => {
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
    },
  );
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

  it.skipIf(!withBrowser)("is a strict-CSP page that escapes the return path", async () => {
    const res = await call(
      t,
      `/_hiveguard/challenge?return=${encodeURIComponent('/x"><script>alert(1)</script>')}`,
    );
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(res.text).not.toContain("<script>alert(1)");
  });

  it.skipIf(!withBrowser)(
    "sets the HttpOnly token cookie on success and returns the visitor to the path",
    async () => {
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
    },
  );
});

/** Answers every question of the rendered challenge wrongly where the answer is known, keyboard only. */
async function answerWrong(page: Page, gt: Map<string, unknown>): Promise<void> {
  const sets = page.locator("fieldset");
  await expect.poll(() => sets.count(), { timeout: 10_000 }).toBeGreaterThan(0);
  for (let i = 0; i < (await sets.count()); i++) {
    const set = sets.nth(i);
    const known = gt.get((await set.locator("blockquote").textContent())!);
    await set.getByRole("radio", { name: known === "yes" ? "no" : "yes" }).focus();
    await page.keyboard.press("Space");
  }
  await page.getByRole("button", { name: "Verify" }).focus();
  await page.keyboard.press("Enter");
}

/** The challenge_id of the next challenge the page loads. */
function nextChallengeId(page: Page): Promise<string> {
  return page
    .waitForResponse((r) => r.url().includes("/generate") && r.status() === 200, { timeout: 10_000 })
    .then(async (r) => ((await r.json()) as { challenge_id: string }).challenge_id);
}

/** What a visitor notices on a layout: horizontal scrolling, targets too small to tap, unreadable text. */
async function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const problems: string[] = [];
    const root = document.documentElement;
    if (root.scrollWidth > window.innerWidth) problems.push(`scrolls sideways: ${root.scrollWidth}px`);
    for (const node of document.querySelectorAll<HTMLElement>(
      ".hg button, .hg label, .hg input[type=text]",
    )) {
      const box = node.getBoundingClientRect();
      if (node.offsetParent === null) continue;
      if (box.height < 44 || box.width < 44)
        problems.push(`${node.textContent || node.tagName}: ${box.width}x${box.height}px`);
      if (box.right > window.innerWidth) problems.push(`${node.textContent}: outside the screen`);
    }
    const rgb = (color: string) => color.match(/[\d.]+/g)!.map(Number);
    const lum = (c: number[]) => {
      const [r, g, b] = c.slice(0, 3).map((v) => {
        const x = v / 255;
        return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
    };
    const background = (node: Element | null): number[] => {
      for (; node; node = node.parentElement) {
        const c = rgb(getComputedStyle(node).backgroundColor);
        if (c.length < 4 || c[3]! > 0) return c;
      }
      return [255, 255, 255];
    };
    for (const node of document.querySelectorAll<HTMLElement>(
      "h1, main > p, .hg .hd, .hg legend, .hg blockquote, .hg label, .hg button:not(:disabled), .hg .st, .hg .ft",
    )) {
      if (node.offsetParent === null || !node.textContent?.trim()) continue;
      const [a, b] = [lum(rgb(getComputedStyle(node).color)), lum(background(node))];
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      if (ratio < 4.5) problems.push(`${node.textContent.trim().slice(0, 30)}: contrast ${ratio.toFixed(2)}`);
    }
    return problems;
  });
}

describe("hosted page: what a visitor sees", () => {
  it.skipIf(!withBrowser)(
    "desktop and 360 px phone: no sideways scroll, 44 px targets, readable, the brand, a spinner while checking",
    async () => {
      for (const [name, viewport] of [
        ["desktop", DESKTOP],
        ["phone", PHONE],
      ] as const) {
        const context = await browser.newContext({ viewport, hasTouch: name === "phone" });
        const page = await context.newPage();
        try {
          await page.goto(`${t.url}/_hiveguard/challenge?return=/`);
          await expect.poll(() => page.locator("legend").count(), { timeout: 10_000 }).toBeGreaterThan(0);
          expect(await page.locator("h1").textContent()).toContain("verify you are human");
          expect(await page.locator(".hg .ft").textContent()).toContain("HiveGuard");
          expect(await page.getByRole("button", { name: "New challenge" }).isVisible()).toBe(true);
          expect(await layoutProblems(page)).toEqual([]);
          await page.screenshot({ path: join(ARTIFACTS, `hosted-${name}.png`), fullPage: true });

          // While the answer is checked: a spinner, the buttons disabled, the form busy.
          let release!: () => void;
          const held = new Promise<void>((resolve) => (release = resolve));
          await page.route("**/_hiveguard/challenge/submit", async (route) => {
            await held;
            await route.continue();
          });
          await answerWrong(page, s.gt);
          const verify = page.locator(".hg .go");
          await expect.poll(() => verify.isDisabled()).toBe(true);
          expect(await verify.textContent()).toContain("Checking");
          expect(await verify.locator(".sp").isVisible()).toBe(true);
          expect(await page.getByRole("button", { name: "New challenge" }).isDisabled()).toBe(true);
          expect(await page.locator("form").getAttribute("aria-busy")).toBe("true");
          await page.screenshot({ path: join(ARTIFACTS, `hosted-${name}-checking.png`), fullPage: true });
          release();

          await expect
            .poll(() => page.getByRole("status").textContent(), { timeout: 10_000 })
            .toContain("previous answer was not correct");
          await expect.poll(() => page.locator("legend").count(), { timeout: 10_000 }).toBeGreaterThan(0);
          expect(await layoutProblems(page)).toEqual([]);
          await page.screenshot({ path: join(ARTIFACTS, `hosted-${name}-wrong.png`), fullPage: true });
        } finally {
          await context.close();
        }
      }
    },
  );

  it.skipIf(!withBrowser)(
    "after a wrong answer the next challenge says so (live region) and takes the focus; solving it still works",
    async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      try {
        const loaded = nextChallengeId(page);
        await page.goto(`${t.url}/_hiveguard/challenge?return=/done`);
        const first = await loaded;
        const second = nextChallengeId(page);
        await answerWrong(page, s.gt);
        expect(await second).not.toBe(first);
        const status = page.getByRole("status");
        await expect
          .poll(() => status.textContent(), { timeout: 10_000 })
          .toBe("Your previous answer was not correct. Please try this new challenge.");
        expect(await status.getAttribute("aria-live")).toBe("polite");
        await expect.poll(() => page.locator("legend").count()).toBeGreaterThan(0);
        // Focus is on the first answer of the new challenge, not lost on the page.
        expect(
          await page.evaluate(
            () => document.activeElement === document.querySelector("fieldset input[type=radio]"),
          ),
        ).toBe(true);
        await solveChallenge(page, s.gt);
        await page.waitForURL(/\/done$/, { timeout: 10_000 });
      } finally {
        await context.close();
      }
    },
  );

  it.skipIf(!withBrowser)(
    "the New challenge button loads a different challenge and keeps the focus",
    async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      try {
        const loaded = nextChallengeId(page);
        await page.goto(`${t.url}/_hiveguard/challenge`);
        const first = await loaded;
        await expect.poll(() => page.locator("legend").count(), { timeout: 10_000 }).toBeGreaterThan(0);
        const again = page.getByRole("button", { name: "New challenge" });
        await again.focus();
        const next = nextChallengeId(page);
        const shown = page.waitForResponse((r) => r.url().includes("/generate"));
        await page.keyboard.press("Enter");
        const body = (await (await shown).json()) as { items: { data_ref: string }[] };
        expect(await next).not.toBe(first);
        // The page shows the new challenge's items.
        await expect
          .poll(() => page.locator("blockquote").allTextContents(), { timeout: 10_000 })
          .toEqual(body.items.map((item) => item.data_ref));
        expect(await again.evaluate((node) => node === document.activeElement)).toBe(true);
        expect(await page.getByRole("status").textContent()).toBe("");
      } finally {
        await context.close();
      }
    },
  );
});

describe("languages, dark mode and an expired token", () => {
  it("picks the page's language from Accept-Language by q-value, English when none is spoken", () => {
    expect(hostedLanguage("es-ES,es;q=0.9,en;q=0.8")).toBe("es");
    expect(hostedLanguage("ja,fr;q=0.5,de;q=0.7")).toBe("de");
    expect(hostedLanguage("ja, zh;q=0.9")).toBe("en");
    expect(hostedLanguage("pt;q=0, es;q=0.1")).toBe("es");
    expect(hostedLanguage(undefined)).toBe("en");
  });

  it.skipIf(!withBrowser)(
    "a Spanish browser gets the page and the widget in Spanish, and solves it with the Spanish buttons",
    async () => {
      const context = await browser.newContext({ locale: "es-ES" });
      const page = await context.newPage();
      try {
        await page.goto(`${t.url}/_hiveguard/challenge?return=/hecho`);
        await expect.poll(() => page.locator("legend").count(), { timeout: 10_000 }).toBeGreaterThan(0);
        expect(await page.locator("html").getAttribute("lang")).toBe("es");
        expect(await page.locator("h1").textContent()).toContain("confirme que es una persona");
        expect(await page.locator("legend").first().textContent()).toMatch(/^Pregunta 1 de \d/);
        expect(await page.getByRole("button", { name: "Nuevo desafío" }).isVisible()).toBe(true);
        expect(await page.locator(".hg .ft").textContent()).toContain("Protegido por");
        await page.screenshot({ path: join(ARTIFACTS, "hosted-es.png"), fullPage: true });
        const sets = page.locator("fieldset");
        for (let i = 0; i < (await sets.count()); i++) {
          const text = (await sets.nth(i).locator("blockquote").textContent())!;
          await sets
            .nth(i)
            .getByRole("radio", { name: (s.gt.get(text) as string | undefined) ?? "no" })
            .check();
        }
        await page.getByRole("button", { name: "Verificar" }).click();
        await page.waitForURL(/\/hecho$/, { timeout: 10_000 });
      } finally {
        await context.close();
      }
    },
  );

  it.skipIf(!withBrowser)(
    "a visitor whose system is dark gets a dark page and card, readable at desktop and phone widths; light stays light",
    async () => {
      for (const [name, viewport] of [
        ["desktop", DESKTOP],
        ["phone", PHONE],
      ] as const) {
        const context = await browser.newContext({ viewport, colorScheme: "dark" });
        const page = await context.newPage();
        try {
          await page.goto(`${t.url}/_hiveguard/challenge`);
          await expect.poll(() => page.locator("legend").count(), { timeout: 10_000 }).toBeGreaterThan(0);
          const card = await page.locator(".hg").evaluate((node) => getComputedStyle(node).backgroundColor);
          const body = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
          expect(card).toBe("rgb(31, 31, 31)");
          expect(body).toBe("rgb(19, 19, 20)");
          expect(await layoutProblems(page)).toEqual([]);
          await page.screenshot({ path: join(ARTIFACTS, `hosted-${name}-dark.png`), fullPage: true });
          await answerWrong(page, s.gt);
          await expect
            .poll(() => page.getByRole("status").textContent(), { timeout: 10_000 })
            .toContain("previous answer was not correct");
          expect(await layoutProblems(page)).toEqual([]);
        } finally {
          await context.close();
        }
      }
      // A site that asks for the light theme keeps it on a dark system.
      const context = await browser.newContext({ colorScheme: "dark" });
      const page = await context.newPage();
      try {
        await page.setContent(`<div data-hiveguard-key="${s.key}" data-theme="light"></div>
          <script src="${t.url}/_hiveguard/widget.js"></script>`);
        await expect.poll(() => page.locator("legend").count(), { timeout: 10_000 }).toBeGreaterThan(0);
        expect(await page.locator(".hg").evaluate((node) => getComputedStyle(node).backgroundColor)).toBe(
          "rgb(255, 255, 255)",
        );
      } finally {
        await context.close();
      }
    },
  );

  it.skipIf(!withBrowser)(
    "an expired token loads a new challenge on its own, saying why; with data-refresh-expired=manual it waits",
    async () => {
      const ttl = (await t.server.deps.services.runtimeConfig.get()).challenge_token_ttl;
      for (const mode of ["auto", "manual"] as const) {
        const context = await browser.newContext();
        const page = await context.newPage();
        try {
          await page.clock.install();
          await page.setContent(`<div data-hiveguard-key="${s.key}" data-refresh-expired="${mode}"
              data-callback="onVerified" data-expired-callback="onExpired"></div>
            <script>window.onVerified = (token) => { window.__token = token; };
              window.onExpired = () => { window.__expired = true; };</script>
            <script src="${t.url}/_hiveguard/widget.js"></script>`);
          await solveChallenge(page, s.gt);
          await page.waitForFunction(() => typeof (window as any).__token === "string", null, {
            timeout: 10_000,
          });
          expect(await page.locator('input[name="hiveguard-token"]').inputValue()).not.toBe("");
          const renewed = mode === "auto" ? nextChallengeId(page) : null;
          await page.clock.fastForward((ttl + 2) * 1000);
          await page.waitForFunction(() => (window as any).__expired === true, null, { timeout: 10_000 });
          expect(await page.locator('input[name="hiveguard-token"]').inputValue()).toBe("");
          const status = page.getByRole("status");
          if (mode === "auto") {
            await renewed;
            await expect.poll(() => page.locator("legend").count(), { timeout: 10_000 }).toBeGreaterThan(0);
            expect(await status.textContent()).toBe(
              "The verification expired. Please answer this new challenge.",
            );
            await solveChallenge(page, s.gt);
            await expect
              .poll(() => page.locator('input[name="hiveguard-token"]').inputValue(), { timeout: 10_000 })
              .not.toBe("");
          } else {
            await expect.poll(() => status.textContent()).toContain("Please choose “New challenge”");
            expect(await page.locator("legend").count()).toBe(0);
            expect(await page.getByRole("button", { name: "New challenge" }).isVisible()).toBe(true);
          }
        } finally {
          await context.close();
        }
      }
    },
  );
});

describe("image challenges", () => {
  let ti: TestServer;
  let si: Seeded;
  let grid: Seeded;
  const SVG = `<svg xmlns="http://www.w3.org/2000/svg" width="400" height="260"><rect width="400" height="260" fill="#cfe1f9"/><circle cx="200" cy="130" r="70" fill="#f9ab00"/></svg>`;

  beforeAll(async () => {
    if (!withBrowser) return;
    ti = await startTestServer();
    await configure(ti);
    si = await seed(ti, { gt: 4, unknown: 2, modality: "image" });
    grid = await seed(ti, { gt: 4, unknown: 1, modality: "image", challengeType: "grid_select" });
  });
  afterAll(async () => {
    await ti?.close();
  });

  it.skipIf(!withBrowser)(
    "an image that does not load offers a new challenge instead of leaving the visitor stuck",
    async () => {
      expect(si.gt.size).toBe(4);
      const context = await browser.newContext({ viewport: PHONE, hasTouch: true });
      const page = await context.newPage();
      let imagesLoad = false;
      // The dataset's images live on example.com: broken at first, then served.
      await page.route("https://example.com/**", (route) =>
        imagesLoad
          ? route.fulfill({ status: 200, contentType: "image/svg+xml", body: SVG })
          : route.fulfill({ status: 404, body: "" }),
      );
      try {
        await page.goto(`${ti.url}/_hiveguard/challenge`);
        await expect
          .poll(() => page.locator(".bad").first().textContent(), { timeout: 10_000 })
          .toMatch(/^The image for question \d could not be loaded\.$/);
        expect(await page.getByRole("status").textContent()).toContain("New challenge");
        expect(await page.locator(".hg .go").isDisabled()).toBe(true);
        expect(await layoutProblems(page)).toEqual([]);
        await page.screenshot({ path: join(ARTIFACTS, "hosted-phone-broken-image.png"), fullPage: true });

        imagesLoad = true;
        await page.getByRole("button", { name: "New challenge" }).focus();
        await page.keyboard.press("Enter");
        // The hosted page draws from every dataset: single images or grids.
        await expect
          .poll(() => page.locator("fieldset img, fieldset .grid").count(), { timeout: 10_000 })
          .toBeGreaterThan(0);
        await expect
          .poll(() =>
            page
              .locator("fieldset img")
              .evaluateAll((imgs) =>
                imgs.every(
                  (img) => (img as HTMLImageElement).complete && (img as HTMLImageElement).naturalWidth > 0,
                ),
              ),
          )
          .toBe(true);
        expect(await page.locator(".bad").count()).toBe(0);
        expect(await page.locator(".hg .go").isDisabled()).toBe(false);
        expect(await layoutProblems(page)).toEqual([]);
        await page.screenshot({ path: join(ARTIFACTS, "hosted-phone-image.png"), fullPage: true });
        await page.setViewportSize(DESKTOP);
        expect(await layoutProblems(page)).toEqual([]);
        await page.screenshot({ path: join(ARTIFACTS, "hosted-desktop-image.png"), fullPage: true });
      } finally {
        await context.close();
      }
    },
  );

  it.skipIf(!withBrowser)(
    "a grid whose image does not load (no error event on a background) offers a new challenge too",
    async () => {
      const page = await browser.newPage();
      let imagesLoad = false;
      await page.route("https://example.com/**", (route) =>
        imagesLoad
          ? route.fulfill({ status: 200, contentType: "image/svg+xml", body: SVG })
          : route.fulfill({ status: 404, body: "" }),
      );
      try {
        // A site embedding the widget with a key scoped to the grid dataset.
        await page.setContent(
          `<div data-hiveguard-key="${grid.key}"></div><script src="${ti.url}/_hiveguard/widget.js"></script>`,
        );
        await expect.poll(() => page.locator(".bad").count(), { timeout: 10_000 }).toBeGreaterThan(0);
        expect(await page.locator(".grid").count()).toBe(0);
        expect(await page.locator(".hg .go").isDisabled()).toBe(true);
        expect(await page.getByRole("status").textContent()).toContain("New challenge");

        imagesLoad = true;
        await page.getByRole("button", { name: "New challenge" }).click();
        await expect.poll(() => page.locator(".grid").count(), { timeout: 10_000 }).toBeGreaterThan(0);
        // Give a (wrong) probe time to fire: the grid stays.
        await page.waitForTimeout(300);
        expect(await page.locator(".bad").count()).toBe(0);
        expect(await page.locator(".hg .go").isDisabled()).toBe(false);
        expect(await layoutProblems(page)).toEqual([]);
        await page.screenshot({ path: join(ARTIFACTS, "widget-grid.png"), fullPage: true });
      } finally {
        await page.close();
      }
    },
  );
});
