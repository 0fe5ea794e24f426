// The tracking pages in headless Chromium (Debian's package, driven by playwright-core): charts drawn from
// real data (a single point too), live updates over SSE (the live badge only for running runs), search,
// metadata editing, and no request leaving the server (no CDN).
// Skipped with one line when Chromium is missing (`apt-get install -y chromium`); failing under HIVEGUARD_REQUIRE_BROWSER=1.
import { readFileSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumAvailable, launchChromium } from "../support/browser.js";
import { startTestServer, type TestServer } from "../support/server.js";

const withBrowser = chromiumAvailable("the browser tests of tracking/browser.test.ts");

let t: TestServer;
let browser: Browser;
const foreign: string[] = [];

const post = (path: string, body: unknown) =>
  fetch(`${t.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: t.dashboardAuth },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  t = await startTestServer();
  if (withBrowser) browser = await launchChromium();
  for (const run of ["alpha", "beta"]) {
    await post("/tracker/api/v1/projects/vision/runs", { name: run, config: { lr: 0.1 }, tags: ["cnn"] });
    const records = Array.from({ length: 200 }, (_, step) => ({
      step,
      metrics: { loss: Math.exp(-step / 50) + (run === "beta" ? 0.1 : 0), acc: step / 200 },
    }));
    await post(`/tracker/api/v1/projects/vision/runs/${run}/metrics`, { records });
  }
  await post("/tracker/api/v1/projects/audio/runs", { name: "a1" });
  await fetch(`${t.url}/api/projects/audio/metadata`, {
    method: "PUT",
    headers: { "content-type": "application/json", authorization: t.dashboardAuth },
    body: JSON.stringify({ tags: ["rnn"] }),
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

async function openPage(path: string): Promise<Page> {
  // Sent with every request: a browser that is not signed in would be sent to the dashboard's sign-in.
  const context = await browser.newContext({ extraHTTPHeaders: { authorization: t.dashboardAuth } });
  const page = await context.newPage();
  const origin = new URL(t.url).origin;
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (!url.startsWith(origin) && !url.startsWith("data:") && !url.startsWith("blob:")) {
      foreign.push(url);
      return route.abort();
    }
    return route.continue();
  });
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(error.message));

  await page.goto(`${t.url}${path}`);
  (page as any).errors = errors;
  return page;
}

/** Non-transparent pixels on the chart's canvas: the chart was really drawn. */
const inkOf = (page: Page, metric: string) =>
  page.evaluate((m) => {
    const canvas = document.querySelector(`.chart[data-metric="${m}"] canvas`) as HTMLCanvasElement | null;
    if (!canvas) return 0;
    const { data } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
    let ink = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) ink++;
    return ink;
  }, metric);

/** Pixels of the chart's canvas in a run's colour (#2563eb, the first of the palette): its line or marker. */
const runInkOf = (page: Page, metric: string) =>
  page.evaluate((m) => {
    const canvas = document.querySelector(`.chart[data-metric="${m}"] canvas`) as HTMLCanvasElement | null;
    if (!canvas) return 0;
    const { data } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
    let ink = 0;
    for (let i = 0; i < data.length; i += 4) {
      const close = (a: number, b: number) => Math.abs(a - b) < 40;
      if (
        data[i + 3]! > 128 &&
        close(data[i]!, 0x25) &&
        close(data[i + 1]!, 0x63) &&
        close(data[i + 2]!, 0xeb)
      )
        ink++;
    }
    return ink;
  }, metric);

describe("tracking pages in Chromium", () => {
  it.skipIf(!withBrowser)(
    "the project page overlays the runs' charts from real data and updates live over SSE",
    async () => {
      const page = await openPage("/projects/vision");
      await page.waitForSelector('.chart[data-metric="loss"] canvas');
      expect(await page.locator(".chart").count()).toBe(2);
      expect(await page.getAttribute('.chart[data-metric="loss"]', "data-points")).toBe("400");
      expect(await inkOf(page, "loss")).toBeGreaterThan(500);
      // hover values: uPlot's legend names both runs
      const legend = await page.locator('.chart[data-metric="loss"] .u-legend').innerText();
      expect(legend).toContain("alpha");
      expect(legend).toContain("beta");

      await page.waitForSelector('#live-status[data-state="live"]');
      await post("/tracker/api/v1/projects/vision/runs/alpha/metrics", {
        records: [{ step: 200, metrics: { loss: 0.01 } }],
      });
      await page.waitForFunction(
        () => document.querySelector('.chart[data-metric="loss"]')?.getAttribute("data-points") === "401",
        null,
        { timeout: 5_000 },
      );

      // log scale and CSV export
      await page.check("#log-y");
      expect(await inkOf(page, "loss")).toBeGreaterThan(500);
      const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export-csv")]);
      expect(download.suggestedFilename()).toBe("vision_metrics.csv");
      expect((page as any).errors).toEqual([]);
      await page.context().close();
    },
  );

  it.skipIf(!withBrowser)(
    "a browser that is not signed in lands on the dashboard's sign-in and comes back to the page it asked for",
    async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${t.url}/projects/vision?from=front-door`);
      // No Basic prompt: the sign-in form, remembering where the visitor was going.
      await expect.poll(() => page.url()).toContain("/dashboard/?return=");
      await page.getByLabel("Username").fill("admin");
      await page.getByLabel("Password").fill(t.shared.dashboardPassword);
      await page.getByRole("button", { name: "Sign in" }).click();
      await expect
        .poll(() => page.url(), { timeout: 10_000 })
        .toBe(`${t.url}/projects/vision?from=front-door`);
      await expect.poll(() => page.locator("h1").first().textContent()).toBe("vision");
      // A script or a client asking for JSON still gets the documented 401, not a redirect.
      const api = await fetch(`${t.url}/projects/vision`, { redirect: "manual" });
      expect(api.status).toBe(401);
      await context.close();
    },
  );

  it.skipIf(!withBrowser)("the projects page searches by name and by tag", async () => {
    const page = await openPage("/");
    expect(await page.locator("#projects tbody tr:visible").count()).toBe(2);
    await page.fill("#project-search", "rnn");
    expect(await page.locator("#projects tbody tr:visible").innerText()).toContain("audio");
    expect(await page.locator("#projects tbody tr:visible").count()).toBe(1);
    await page.context().close();
  });

  it.skipIf(!withBrowser)("the run page draws its charts and saves notes and tags", async () => {
    const page = await openPage("/projects/vision/runs/beta");
    await page.waitForSelector('.chart[data-metric="acc"] canvas');
    expect(await inkOf(page, "acc")).toBeGreaterThan(500);
    await page.waitForFunction(
      () => (document.getElementById("tags-input") as HTMLInputElement).value !== "",
    );
    await page.fill("#tags-input", "cnn, best");
    await page.fill("#notes-input", "lowest loss so far");
    await page.click("#meta-save");
    await page.waitForSelector("#meta-status:has-text('Saved')");
    const meta = await fetch(`${t.url}/api/projects/vision/runs/beta/metadata`, {
      headers: { authorization: t.dashboardAuth },
    }).then((r) => r.json());
    expect(meta).toMatchObject({ tags: ["cnn", "best"], notes: "lowest loss so far" });
    expect((page as any).errors).toEqual([]);
    await page.context().close();
  });

  it.skipIf(!withBrowser)("loaded nothing from outside the server", () => {
    expect(foreign).toEqual([]);
  });
  it.skipIf(!withBrowser)(
    "the CSV export neutralizes metric names a spreadsheet would run as formulas",
    async () => {
      await post("/tracker/api/v1/projects/planted/runs", { name: "r1" });
      const records = [0, 1].map((step) => ({
        step,
        metrics: { '=HYPERLINK("https://evil.example")': -0.5, "-2+3": 1, "@SUM(1+1)": 2 },
      }));
      expect((await post("/tracker/api/v1/projects/planted/runs/r1/metrics", { records })).status).toBe(200);
      const page = await openPage("/projects/planted");
      await page.waitForSelector(".chart canvas");
      const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export-csv")]);
      const text = readFileSync((await download.path())!, "utf8");
      expect(text).toContain(`"'=HYPERLINK(""https://evil.example"")",r1,0,-0.5,`);
      expect(text).toContain("'-2+3,r1,1,1,");
      expect(text).toContain("'@SUM(1+1),r1,0,2,");
      expect(text).not.toMatch(/^[=+@-]/m);
      await page.context().close();
    },
  );
  it.skipIf(!withBrowser)(
    "a completed run with a single point: the point is drawn, and the page is not called live",
    async () => {
      await post("/tracker/api/v1/projects/solo/runs", { name: "one-step" });
      await post("/tracker/api/v1/projects/solo/runs/one-step/metrics", {
        records: [{ step: 0, metrics: { loss: 0.42 } }],
      });
      await post("/tracker/api/v1/projects/solo/runs/one-step/finish", { exit_code: 0 });

      const page = await openPage("/projects/solo/runs/one-step");
      await page.waitForSelector('.chart[data-metric="loss"] canvas');
      expect(await page.getAttribute('.chart[data-metric="loss"]', "data-points")).toBe("1");
      expect(await runInkOf(page, "loss")).toBeGreaterThan(30);
      expect(await page.textContent("#run-status")).toBe("completed");
      // The stream is open (a resumed run would update the page), but a completed run is not live.
      await page.waitForSelector('#live-status[data-stream="open"]', { state: "attached" });
      expect(await page.isVisible("#live-status")).toBe(false);
      expect(await page.textContent("#live-status")).not.toBe("live");

      // The project page too: its only run is completed, so no live badge there either.
      await page.goto(`${t.url}/projects/solo`);
      await page.waitForSelector('.chart[data-metric="loss"] canvas');
      expect(await runInkOf(page, "loss")).toBeGreaterThan(30);
      await page.waitForSelector('#live-status[data-stream="open"]', { state: "attached" });
      expect(await page.isVisible("#live-status")).toBe(false);
      expect((page as any).errors).toEqual([]);
      await page.context().close();
    },
  );
});
