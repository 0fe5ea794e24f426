// The lab's notebooks page in headless Chromium against the real server: a user signed in with the login
// form makes a notebook of a dataset, applies a converter step (live job, the data shown changes as the API
// says), reverts it, draws a histogram (bars from the server's Plotly JSON), a word cloud (the server's SVG)
// and a describe table, and saves the notebook as a new dataset. No console errors, no request leaving the
// server. Where Chromium is missing the tests skip with one line (test/support/browser.ts).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumAvailable } from "../support/browser.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { clients, uploadDataset, openLabPage, signInAt } from "./helpers.js";

const withBrowser = chromiumAvailable("the browser tests of lab/dashboard-notebooks.test.ts");

const ARTIFACTS = join(process.cwd(), "test-artifacts", "lab-dashboard");
let t: TestServer;
let browser: Browser;
let page: Page;
let problems: string[] = [];
let foreign: string[] = [];

const CSV = [
  "size,color,review",
  ...Array.from(
    { length: 20 },
    (_, i) => `${i + 1},${["red", "blue"][i % 2]},${i % 3 ? "great value" : "great fast shipping"}`,
  ),
].join("\n");

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  t = await startTestServer();
  if (!withBrowser) return;
  await uploadDataset(t, "shop", { name: "shop.csv", content: CSV });
  ({ browser, page, problems, foreign } = await openLabPage(t));
  page.setDefaultTimeout(15_000);
  await signInAt(t, page, "/dashboard/lab/notebooks");
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

describe("lab notebooks page in Chromium", { timeout: 120_000 }, () => {
  it.skipIf(!withBrowser)("makes a notebook, applies and reverts a converter step", async () => {
    const form = page.locator('form[aria-labelledby="lab-notebook-new"]');
    await form.getByLabel("Dataset").selectOption({ label: "shop" });
    await form.getByLabel("Notebook name").fill("cleaning");
    await form.getByRole("button", { name: "Create notebook" }).click();
    await page.locator('tr[data-lab-notebook="cleaning"] a').click();
    await page.locator("table.lab-nb-data").waitFor();
    expect(await page.locator("#lab-nb-data").textContent()).toBe("Data (20 rows, 3 columns)");

    const step = page.getByRole("form", { name: "Add a converter step" });
    await step.getByLabel("Converter").selectOption("MinMaxScaler");
    await step.getByLabel("Step columns").selectOption(["size"]);
    await step.getByRole("button", { name: "Apply step" }).click();
    await page.locator('li[data-step="MinMaxScaler"]').waitFor();
    const { dash } = clients(t);
    const notebook = (await dash.get("/api/v1/notebook/")).body.find((n: any) => n.name === "cleaning");
    const data = (await dash.get(`/api/v1/notebook/${notebook.id}/data?page_size=10`)).body;
    expect(data.rows[0].size).toBe(0);
    await expect
      .poll(() => page.locator("table.lab-nb-data tbody tr:first-child td:first-child").textContent(), {
        timeout: 30_000,
      })
      .toBe("0");
    await shot("20-notebook-step");

    await page.getByRole("button", { name: "Revert MinMaxScaler" }).click();
    await expect
      .poll(() => page.locator('li[data-step="MinMaxScaler"]').count(), { timeout: 30_000 })
      .toBe(0);
    await expect
      .poll(() => page.locator("table.lab-nb-data tbody tr:first-child td:first-child").textContent(), {
        timeout: 30_000,
      })
      .toBe("1");
    expect((await dash.get(`/api/v1/converter/notebook/${notebook.id}`)).body).toEqual([]);
  });

  it.skipIf(!withBrowser)(
    "draws a histogram, a word cloud and a describe table; saves the notebook as a dataset",
    async () => {
      const explore = async (type: string, columns: string[]) => {
        const form = page.getByRole("form", { name: "Add an explorer" });
        await form.getByLabel("Explorer", { exact: true }).selectOption(type);
        await form.getByLabel("Explorer columns").selectOption(columns);
        await form.getByRole("button", { name: "Explore" }).click();
        await page.locator(`article[data-explorer="${type}"][data-status="finished"]`).waitFor();
      };
      await explore("HistogramPlot", ["size"]);
      // 20 bins over 1..20: one row each, drawn as 20 bars.
      await expect
        .poll(() => page.locator('article[data-explorer="HistogramPlot"] [data-trace="bar"] rect').count())
        .toBe(20);
      await explore("WordcloudExplorer", ["review"]);
      const cloud = page.locator('article[data-explorer="WordcloudExplorer"] img.lab-wordcloud');
      expect(await cloud.getAttribute("src")).toContain("great");
      expect(await cloud.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(800);
      await explore("DescribeExplorer", ["size"]);
      const mean = page.locator('article[data-explorer="DescribeExplorer"] tr[data-stat="mean"] td');
      expect(await mean.textContent()).toBe("10.5");
      await shot("21-notebook-explorers");

      const save = page.getByRole("form", { name: "Save as dataset" });
      await save.getByLabel("New dataset name").fill("shop-clean");
      await save.getByRole("button", { name: "Save as dataset" }).click();
      await expect
        .poll(() => page.locator(".notice").first().textContent(), { timeout: 30_000 })
        .toBe("Saved as dataset “shop-clean”");
      const saved = (await clients(t).dash.get("/api/v1/dataset/")).body.find(
        (d: any) => d.name === "shop-clean",
      );
      expect(saved).toMatchObject({ status: 3, total_rows: 20, total_columns: 3 });
      expect(problems).toEqual([]);
      expect(foreign).toEqual([]);
    },
  );
});
