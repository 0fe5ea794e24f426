// The explainers on the lab runs page in headless Chromium against the real server: for a linear run trained
// through the API, a signed-in user starts permutation importance and KernelSHAP from the run's detail, sees
// the job's progress end, and the server's Plotly figures drawn as SVG (the used column on top of the
// importance chart, one SHAP chart per explained row); deleting one removes it. No console errors, no
// request leaving the server. Where Chromium is missing the tests skip with one line.
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumAvailable } from "../support/browser.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { clients, enqueueForm, uploadDataset, waitForJob, openLabPage, signInAt } from "./helpers.js";

const withBrowser = chromiumAvailable("the browser tests of lab/dashboard-explainers.test.ts");

const ARTIFACTS = join(process.cwd(), "test-artifacts", "lab-dashboard");
let t: TestServer;
let browser: Browser;
let page: Page;
let problems: string[] = [];
let foreign: string[] = [];

// y = 4a + 0·noise + 1: "a" is the only column that matters.
const CSV = [
  "a,noise,y",
  ...Array.from({ length: 60 }, (_, i) => {
    const a = ((i * 7) % 13) / 3;
    const noise = ((i * 5) % 11) / 4;
    return `${a.toFixed(3)},${noise.toFixed(3)},${(4 * +a.toFixed(3) + 1).toFixed(3)}`;
  }),
].join("\n");

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  t = await startTestServer();
  if (!withBrowser) return;
  const { dash } = clients(t);
  const dataset = await uploadDataset(t, "line", { name: "line.csv", content: CSV });
  const session = await dash.post("/api/v1/model-session/", {
    dataset_id: dataset.id,
    task_name: "RegressionTask",
    name: "line",
    input_columns: ["a", "noise"],
    output_columns: ["y"],
  });
  expect(session.status, session.text).toBe(201);
  const run = await dash.post("/api/v1/run/", {
    model_session_id: session.body.id,
    model_name: "LinearRegression",
    name: "ols",
    parameters: {},
  });
  const job = await enqueueForm(t, { job_type: "ModelJob", kwargs: JSON.stringify({ run_id: run.body.id }) });
  expect((await waitForJob(t, job.body.id, 60_000)).status).toBe("finished");

  ({ browser, page, problems, foreign } = await openLabPage(t));
  page.setDefaultTimeout(15_000);
  await signInAt(t, page, "/dashboard/lab/runs");
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

describe("explainers on the lab runs page in Chromium", { timeout: 120_000 }, () => {
  it.skipIf(!withBrowser)(
    "computes and draws permutation importance and KernelSHAP, and deletes one",
    async () => {
      const row = page.locator('tr[data-lab-run="ols"]');
      await row.getByRole("button", { name: "ols", exact: true }).click();
      const panel = page.locator('[data-run-detail="ols"]').getByRole("region", { name: "Explainers" });
      await panel.getByRole("button", { name: "Permutation importance" }).click();
      const pfi = panel.locator('article[data-explainer="PermutationFeatureImportance"]');
      await pfi.locator("svg").first().waitFor({ timeout: 60_000 });
      expect(await pfi.locator("h4").textContent()).toContain("finished");
      // Horizontal bars sorted ascending: the used column "a" is the last category label (the top bar).
      const labels = await pfi.locator("svg text").allTextContents();
      expect(labels).toContain("a");
      expect(labels).toContain("noise");

      await panel.getByRole("button", { name: "KernelSHAP (first 5 rows)" }).click();
      const shap = panel.locator('article[data-explainer="KernelShap"]');
      await expect.poll(() => shap.locator("[data-explainer-plot]").count(), { timeout: 60_000 }).toBe(5);
      expect(await shap.locator("[data-explainer-plot]").first().getAttribute("data-explainer-plot")).toMatch(
        /^Row 0: f\(x\) = .*base value = /,
      );
      const path = join(ARTIFACTS, "20-explainers.png");
      await page.screenshot({ path, fullPage: true });
      expect(statSync(path).size).toBeGreaterThan(10_000);

      await pfi.getByRole("button", { name: /^Delete / }).click();
      await expect
        .poll(() => panel.locator('article[data-explainer="PermutationFeatureImportance"]').count())
        .toBe(0);
      const left = (await clients(t).dash.get("/api/v1/explainer/global")).body;
      expect(left).toEqual([]);
      expect(problems).toEqual([]);
      expect(foreign).toEqual([]);
    },
  );
});
