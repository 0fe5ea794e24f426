// The dashboard's benchmark section in headless Chromium (Debian's package, playwright-core), against the
// LLM stand-in (test/support/llm-standin.ts): a new bench user creates an account at /dashboard/bench
// (without the dashboard's operator login), adds the stand-in as an OpenAI-compatible provider and its
// models (discovered and typed in), runs a benchmark over two context tiers and watches it stream
// (progress bar, results as they arrive), cancels one, reads the leaderboard (failed calls never as 0 tok/s)
// and the trend chart (every legend named), opens, exports and deletes runs in history, stays signed in
// across a reload (refresh cookie), and signs out. No console errors, no request leaving the server.
// Screenshots: test-artifacts/bench/*.png (gitignored).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumAvailable, launchChromium } from "../support/browser.js";
import { type LlmStandin, startLlmStandin } from "../support/llm-standin.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { request } from "./helpers.js";
import { openBenchmark } from "./sse.js";

const withBrowser = chromiumAvailable("the browser tests of bench/pages.test.ts");
const ARTIFACTS = join(process.cwd(), "test-artifacts", "bench");
const EMAIL = "new-bencher@example.com";
const PASSWORD = "correct horse battery";

let t: TestServer;
let standin: LlmStandin;
let browser: Browser;
let page: Page;
const problems: string[] = [];
const foreign: string[] = [];
/** Answers of 400 and above the page received: `METHOD path status`. */
const refusals: string[] = [];

const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
const section = (name: string) =>
  page.getByRole("navigation", { name: "Benchmark sections" }).getByRole("button", { name }).click();
/** The user's token, for setting up data the way another client (curl, a schedule) would. */
const apiToken = async () =>
  (await request(t, "POST", "/api/auth/login", { body: { email: EMAIL, password: PASSWORD } })).body
    .access_token as string;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  standin = await startLlmStandin({
    behaviour: { ttftMs: 20, tokensPerSecond: 400, outputTokens: 12 },
    models: {
      // `slow`: long enough to be watched while it streams, and to be cancelled.
      slow: { ttftMs: 30, tokensPerSecond: 25, outputTokens: 60 },
      broken: { error: { status: 500, message: "boom" } },
    },
    listedModels: ["fast", "slow", "broken"],
  });
  t = await startTestServer();
  if (!withBrowser) return;
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
  const origin = new URL(t.url).origin;
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (!url.startsWith(origin) && !url.startsWith("data:") && !url.startsWith("blob:")) {
      foreign.push(url);
      return route.abort();
    }
    return route.continue();
  });
  page.on("response", (response) => {
    if (response.status() >= 400)
      refusals.push(
        `${response.request().method()} ${new URL(response.url()).pathname} ${response.status()}`,
      );
  });
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.text().includes("willReadFrequently")) return;
    // Chromium logs every 4xx the page receives; those are checked one by one in `refusals`.
    if (message.text().startsWith("Failed to load resource: the server responded with a status of 4")) return;
    if (message.type() === "error" || message.type() === "warning")
      problems.push(`console.${message.type()}: ${message.text()}`);
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
  await standin?.close();
});

describe("the benchmark section in Chromium", { timeout: 90_000 }, () => {
  it.skipIf(!withBrowser)(
    "a new user creates a bench account at /dashboard/bench, without the dashboard's login",
    async () => {
      await page.goto(`${t.url}/dashboard/bench`);
      await page.getByRole("heading", { name: "Benchmark sign-in" }).waitFor();
      expect(await page.getByLabel("Username").count()).toBe(0); // not the operator's login form
      await page.getByLabel("Email").fill(EMAIL);
      await page.getByLabel("Password").fill("short");
      await page.getByRole("button", { name: "Create account" }).click();
      // The browser's own check (minlength) stops it: nothing is sent. With the rule met, the server's
      // answer is shown: an unknown account cannot sign in.
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await expect.poll(() => page.getByRole("alert").textContent()).toMatch(/Invalid email or password/i);
      await shot("01-sign-in");
      await page.getByRole("button", { name: "Create account" }).click();
      await expect.poll(() => page.locator('[data-bench="user"]').textContent()).toBe(EMAIL);
      const cookies = await page.context().cookies();
      expect(cookies.find((c) => c.name === "refresh_token")).toMatchObject({
        httpOnly: true,
        sameSite: "Strict",
        path: "/api/auth",
      });
    },
  );

  it.skipIf(!withBrowser)(
    "adds the stand-in as an OpenAI-compatible provider, discovers its models and adds one by hand",
    async () => {
      await section("Providers and models");
      const form = page.locator("form", { has: page.getByRole("heading", { name: "Add a provider" }) });
      await form.getByLabel("Provider key").fill("local");
      await form.getByLabel("Display name").fill("Local");
      await form.getByLabel("API base URL").fill(standin.baseUrl);
      await form.getByLabel("Model id prefix").fill("local");
      await form.getByRole("button", { name: "Add provider" }).click();
      const card = page.locator('article[data-provider="local"]');
      await card.waitFor();
      expect(await card.textContent()).toContain("openai_compatible");

      await card.getByRole("button", { name: "Discover models" }).click();
      const discovered = card.locator('[data-discovered="local"] li');
      await expect
        .poll(() => discovered.allTextContents())
        .toEqual(["local/broken Add", "local/fast Add", "local/slow Add"]);
      await discovered.filter({ hasText: "fast" }).getByRole("button", { name: "Add" }).click();
      await card.locator("td.mono", { hasText: "local/fast" }).waitFor();
      await discovered.filter({ hasText: "broken" }).getByRole("button", { name: "Add" }).click();
      await card.locator("td.mono", { hasText: "local/broken" }).waitFor();

      const modelForm = page.locator("form", { has: page.getByRole("heading", { name: "Add a model" }) });
      // New accounts start with OpenAI, Anthropic and Gemini configured: the stand-in is picked by name.
      await modelForm.getByLabel("Provider").selectOption({ label: "Local" });
      await modelForm.getByLabel("Model id").fill("slow");
      await modelForm.getByLabel("Display name").fill("Slow one");
      await modelForm.getByLabel("Context window").fill("32000");
      await modelForm.getByRole("button", { name: "Add model" }).click();
      await card.locator("td.mono", { hasText: "local/slow" }).waitFor();
      // A bad value is refused by the server and shown beside its field.
      await modelForm.getByLabel("Model id").fill("other");
      await modelForm.getByLabel("Context window").fill("-5");
      await modelForm.getByRole("button", { name: "Add model" }).click();
      await expect.poll(() => modelForm.locator(".field-error").count()).toBe(1);
      expect(await modelForm.getByLabel("Context window").getAttribute("aria-invalid")).toBe("true");
      await shot("02-providers");
    },
  );

  it.skipIf(!withBrowser)(
    "runs a benchmark over two context tiers and shows it live: progress, then each result as it arrives",
    async () => {
      await section("Run");
      const form = page.locator("form", { has: page.getByRole("heading", { name: "New benchmark" }) });
      await form.getByRole("checkbox", { name: "fast" }).check();
      await form.getByRole("checkbox", { name: "Slow one" }).check();
      await form.getByLabel("Prompt").fill("Explain recursion");
      await form.getByLabel("Runs per model and tier").fill("2");
      await form.getByLabel("Max tokens").fill("64");
      await form.getByLabel(/Context tiers/).fill("0, 1000");
      await form.getByRole("checkbox", { name: /Warm-up/ }).uncheck();
      await form.getByRole("button", { name: "Run benchmark" }).click();

      // While it runs: the heading says so, a Cancel button is offered, and results already stand in the
      // table (the slow model is still streaming when the fast one's rows are there).
      const live = page.locator("section[data-run-state]");
      await expect.poll(() => live.getAttribute("data-run-state")).toBe("running");
      const rows = live.locator('[data-bench="results"] tbody tr');
      await expect.poll(() => rows.count(), { timeout: 20_000 }).toBeGreaterThan(0);
      expect(await live.getAttribute("data-run-state")).toBe("running");
      expect(await form.getByRole("button", { name: "Cancel" }).count()).toBe(1);
      expect(await live.locator('[data-bench="now"]').textContent()).toMatch(/Local · .* · run \d\/2 · /);
      await shot("03-running");

      await expect.poll(() => live.getAttribute("data-run-state"), { timeout: 30_000 }).toBe("complete");
      expect(await rows.count()).toBe(8); // 2 models × 2 tiers × 2 runs
      const progress = live.locator("progress");
      expect(await progress.getAttribute("value")).toBe(await progress.getAttribute("max"));
      expect(await progress.getAttribute("max")).toBe("8");
      const tiers = await rows.locator("td:nth-child(3)").allTextContents();
      expect(new Set(tiers)).toEqual(new Set(["0", "1,000"]));
      // Every call succeeded and has a speed: TTFT near the stand-in's 20–30 ms, tokens/s above zero.
      for (const row of await rows.all()) {
        const cells = await row.locator("td").allTextContents();
        expect(cells[8]).toBe("ok");
        expect(Number(cells[4]!.replace(/,/g, ""))).toBeGreaterThan(15);
        expect(Number(cells[5]!.replace(/,/g, ""))).toBeGreaterThan(0);
      }
      await shot("04-finished");
    },
  );

  it.skipIf(!withBrowser)("refuses a bad run with the field named, and cancels a running one", async () => {
    const form = page.locator("form", { has: page.getByRole("heading", { name: "New benchmark" }) });
    await form.getByRole("checkbox", { name: "fast" }).uncheck();
    await form.getByLabel("Runs per model and tier").fill("50");
    await form.getByRole("button", { name: "Run benchmark" }).click();
    await expect.poll(() => form.locator(".field-error").textContent()).toMatch(/20/);
    expect(await form.getByLabel("Runs per model and tier").getAttribute("aria-invalid")).toBe("true");

    await form.getByLabel("Runs per model and tier").fill("3");
    await form.getByLabel(/Context tiers/).fill("0");
    const disconnectsBefore = standin.disconnects.length;
    await form.getByRole("button", { name: "Run benchmark" }).click();
    const live = page.locator("section[data-run-state]");
    await expect.poll(() => live.getAttribute("data-run-state")).toBe("running");
    await expect.poll(() => standin.streams.filter((s) => s.state === "streaming").length).toBeGreaterThan(0);
    await form.getByRole("button", { name: "Cancel" }).click();
    await expect.poll(() => live.getAttribute("data-run-state"), { timeout: 15_000 }).toBe("cancelled");
    // The stand-in saw its stream abandoned: the call was really stopped.
    await expect.poll(() => standin.disconnects.length).toBeGreaterThan(disconnectsBefore);
  });

  it.skipIf(!withBrowser)(
    "leaderboard: measured models ranked by tokens/s, a model whose calls all failed is not shown at 0 tok/s; the trend chart names every series",
    async () => {
      // Another client runs the broken model, and a run of fast from 40 days ago is in history.
      const token = await apiToken();
      for (const models of [["local/broken"], ["local/fast"]]) {
        const stream = await openBenchmark(t, token, { models, runs: 1, warmup: false, context_tiers: [0] });
        await stream.ended;
        expect(stream.events.at(-1)?.type).toBe("complete");
        if (models[0] === "local/fast") {
          const old = new Date(Date.now() - 40 * 86_400_000);
          const runId = stream.headers.get("x-run-id")!;
          const prisma = t.server.deps.db.prisma;
          await prisma.benchRun.update({ where: { id: runId }, data: { createdAt: old } });
          await prisma.benchResult.updateMany({ where: { runId }, data: { createdAt: old } });
        }
      }

      await section("Leaderboard");
      const table = page.locator('table[data-bench="leaderboard"]');
      const rows = table.locator("tbody tr");
      await expect.poll(() => rows.count()).toBe(2);
      const names = await rows.locator("td:nth-child(2)").allTextContents();
      expect(names).toEqual(["fast", "Slow one"]); // fastest first
      expect(names).not.toContain("broken");
      for (const speed of await rows.locator("td:nth-child(4)").allTextContents())
        expect(Number(speed.replace(/,/g, ""))).toBeGreaterThan(0);
      expect(await page.locator('[data-chart="leaderboard"] li').count()).toBe(2);

      const legend = page.locator('[data-chart="bench-trend"] .u-legend');
      await legend.waitFor();
      const labels = await legend.locator(".u-series .u-label").allTextContents();
      expect(labels.slice(1).sort()).toEqual(["Slow one · Local", "fast · Local"]);
      expect(await legend.textContent()).not.toMatch(/undefined|NaN/);
      // The series were drawn: ink of the first series' colour on the canvas.
      await expect
        .poll(() =>
          page.evaluate(() => {
            const canvas = document.querySelector('[data-chart="bench-trend"] canvas') as HTMLCanvasElement;
            const { data } = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height);
            let ink = 0;
            for (let i = 0; i < data.length; i += 4)
              if (
                data[i + 3]! > 200 &&
                Math.abs(data[i]! - 0xd9) + Math.abs(data[i + 1]! - 0x77) + Math.abs(data[i + 2]! - 0x06) < 40
              )
                ink++;
            return ink;
          }),
        )
        .toBeGreaterThan(10);
      await shot("05-leaderboard");

      // Last 7 days: the 40-day-old run of fast drops out of the figures, fast and slow remain.
      const allCalls = await rows.locator("td:nth-child(7)").allTextContents();
      await page.getByLabel("Period").selectOption("7d");
      await expect.poll(() => rows.locator("td:nth-child(7)").allTextContents()).not.toEqual(allCalls);
      expect(await rows.count()).toBe(2);
      await page.getByLabel("Trend of").selectOption("ttft");
      await expect
        .poll(() => page.locator('[data-chart="bench-trend"] figcaption').textContent())
        .toBe("Time to first token per run");
    },
  );

  it.skipIf(!withBrowser)(
    "history: opens a run's results, exports, deletes after a confirmation",
    async () => {
      await section("History");
      const rows = page.locator('table[data-bench="history"] tbody tr');
      await expect.poll(() => rows.count()).toBe(3); // the two-tier run, broken, the old one (not the cancelled)
      const twoTier = rows.filter({ hasText: "0, 1000" });
      await twoTier.getByRole("button", { name: "Results" }).click();
      const results = page.locator('[data-bench="run-results"] tbody tr');
      await expect.poll(() => results.count()).toBe(8);
      const brokenRow = rows.filter({ hasText: "local/broken" });
      expect(await brokenRow.locator("td:nth-child(5)").textContent()).toBe("0 ok, 1 failed");
      await brokenRow.getByRole("button", { name: "Results" }).click();
      await expect.poll(() => results.count()).toBe(1);
      const cells = await results.first().locator("td").allTextContents();
      expect(cells[5]).toBe("—"); // no speed for a failed call, not 0
      expect(cells[8]).toMatch(/^failed: /);
      await shot("06-history");

      const [download] = await Promise.all([
        page.waitForEvent("download"),
        page.getByRole("button", { name: "Export history (CSV)" }).click(),
      ]);
      expect(download.suggestedFilename()).toBe("benchmark_history.csv");
      const csv = await (await import("node:fs/promises")).readFile((await download.path())!, "utf8");
      expect(csv.split("\n")[0]).toContain("run_id");
      expect(csv).toContain("Slow one");

      await brokenRow.getByRole("button", { name: "Delete" }).click();
      const dialog = page.getByRole("dialog", { name: "Delete this run?" });
      await dialog.getByRole("button", { name: "Cancel" }).click();
      expect(await rows.count()).toBe(3);
      await brokenRow.getByRole("button", { name: "Delete" }).click();
      await dialog.getByRole("button", { name: "Delete run" }).click();
      await expect.poll(() => rows.count()).toBe(2);
      expect(await rows.filter({ hasText: "local/broken" }).count()).toBe(0);
    },
  );

  it.skipIf(!withBrowser)(
    "schedules the benchmark nightly (cron), runs it now into history, disables and deletes it",
    async () => {
      await section("Schedules");
      const form = page.locator("form", { has: page.getByRole("heading", { name: "New schedule" }) });
      await form.getByLabel("Name").fill("nightly");
      await form.getByLabel("Cron (5 fields)").fill("not a cron");
      await form.getByRole("checkbox", { name: "fast" }).check();
      await form.getByLabel(/Context tiers/).fill("0, 1000");
      await form.getByRole("button", { name: "Save schedule" }).click();
      await expect.poll(() => form.locator(".field-error").count()).toBe(1);
      expect(await form.getByLabel("Cron (5 fields)").getAttribute("aria-invalid")).toBe("true");
      await form.getByLabel("Cron (5 fields)").fill("0 3 * * *");
      await form.getByRole("button", { name: "Save schedule" }).click();
      const row = page.locator('tr[data-schedule="nightly"]');
      await row.waitFor();
      const cells = await row.locator("td").allTextContents();
      expect(cells.slice(0, 3)).toEqual(["nightly", "local/fast", "cron 0 3 * * * (UTC)"]);
      expect(cells[3]).toMatch(/^\d{4}-\d{2}-\d{2} 03:00 UTC$/);
      await shot("07-schedules");

      const token = await apiToken();
      const before = (await request(t, "GET", "/api/history", { token })).body.runs.length;
      await row.getByRole("button", { name: "Run now" }).click();
      await expect
        .poll(async () => (await request(t, "GET", "/api/history", { token })).body.runs.length, {
          timeout: 30_000,
        })
        .toBe(before + 1);
      await expect
        .poll(() => row.locator("td:nth-child(5)").textContent(), { timeout: 15_000 })
        .not.toBe("—");
      await section("History");
      const history = page.locator('table[data-bench="history"] tbody tr');
      await expect.poll(() => history.count()).toBe(before + 1);

      await section("Schedules");
      await row.getByRole("button", { name: "Disable" }).click();
      await expect.poll(() => row.getAttribute("data-enabled")).toBe("false");
      expect(await row.locator("td:nth-child(4)").textContent()).toBe("disabled");
      await row.getByRole("button", { name: "Delete" }).click();
      await page
        .getByRole("dialog", { name: "Delete this schedule?" })
        .getByRole("button", { name: "Delete schedule" })
        .click();
      await expect.poll(() => row.count()).toBe(0);
    },
  );

  it.skipIf(!withBrowser)(
    "stays signed in across a reload (refresh cookie), fits a phone's width, and signs out",
    async () => {
      await page.reload();
      await expect.poll(() => page.locator('[data-bench="user"]').textContent()).toBe(EMAIL);
      await page.setViewportSize({ width: 375, height: 800 });
      for (const name of ["Providers and models", "Run", "Schedules", "Leaderboard", "History"]) {
        await section(name);
        await page.waitForTimeout(300);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        expect(overflow, `${name} overflows sideways`).toBeLessThanOrEqual(0);
        await shot(`08-phone-${name.split(" ")[0]!.toLowerCase()}`);
      }
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.getByRole("button", { name: "Sign out of benchmarks" }).click();
      await page.getByRole("heading", { name: "Benchmark sign-in" }).waitFor();
      await page.reload();
      await page.getByRole("heading", { name: "Benchmark sign-in" }).waitFor();
    },
  );

  it.skipIf(!withBrowser)("made no request outside the server and logged no console errors", () => {
    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
    // The only refusals are the ones the user provoked: no 401 from a refresh without a session, no 5xx.
    expect(refusals).toEqual([
      "POST /api/auth/login 401",
      "POST /api/config/model 422",
      "POST /api/benchmark 422",
      "POST /api/schedules 422",
    ]);
  });
});
