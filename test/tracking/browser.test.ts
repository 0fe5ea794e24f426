// The tracking pages in headless Chromium (Debian's package, driven by playwright-core): charts drawn from
// real data, live updates over SSE, search, metadata editing, and no request leaving the server (no CDN).
// Fails, never skips, when Chromium is missing: install it with `apt-get install -y chromium`.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { launchChromium } from "../support/browser.js";
import { startTestServer, type TestServer } from "../support/server.js";

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
  browser = await launchChromium();
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
  const context = await browser.newContext({
    httpCredentials: { username: "admin", password: t.shared.dashboardPassword },
  });
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

describe("tracking pages in Chromium", () => {
  it("the project page overlays the runs' charts from real data and updates live over SSE", async () => {
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
  });

  it("the projects page searches by name and by tag", async () => {
    const page = await openPage("/");
    expect(await page.locator("#projects tbody tr:visible").count()).toBe(2);
    await page.fill("#project-search", "rnn");
    expect(await page.locator("#projects tbody tr:visible").innerText()).toContain("audio");
    expect(await page.locator("#projects tbody tr:visible").count()).toBe(1);
    await page.context().close();
  });

  it("the run page draws its charts and saves notes and tags", async () => {
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

  it("loaded nothing from outside the server", () => {
    expect(foreign).toEqual([]);
  });
});
