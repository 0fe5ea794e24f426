// The lab section of the web dashboard in headless Chromium (Debian's package, driven by playwright-core),
// against the real server: a user signed in with the login form (session cookie, no Basic) uploads a small
// CSV and watches it load, browses it in the data grid (pages, sort, filter), changes a column's type (and
// sees the server's refusal of a type that does not fit), renames a column, creates a model session, and
// sees the load job in the jobs list. No console errors, no request leaving the server.
// Where Chromium is missing the tests skip with one line (test/support/browser.ts).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answersFor, configure, seed, visitor } from "../guard/challenge-helpers.js";
import { chromiumAvailable } from "../support/browser.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { clients, openLabPage, signInAt } from "./helpers.js";

const withBrowser = chromiumAvailable("the browser tests of lab/dashboard.test.ts");

const ARTIFACTS = join(process.cwd(), "test-artifacts", "lab-dashboard");
let t: TestServer;
let browser: Browser;
let page: Page;
let problems: string[] = [];
let foreign: string[] = [];

const SPECIES = ["setosa", "versicolor", "virginica"];
/** 30 rows: two float measures, an integer code and the species (categorical). */
const CSV = [
  "sepal,petal,code,species",
  ...Array.from({ length: 30 }, (_, i) => {
    const k = i % 3;
    return `${(4.5 + k + i / 100).toFixed(2)},${(1 + 2 * k + i / 50).toFixed(2)},${k + 1},${SPECIES[k]}`;
  }),
].join("\n");

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  t = await startTestServer();
  if (!withBrowser) return;
  // A guard dataset with one finalized label: three visitors agree on its unknown item.
  await configure(t);
  const traffic = await seed(t, { gt: 4, unknown: 1, modality: "text", name: "traffic" });
  for (let i = 0; i < 3; i++) {
    const v = visitor(t, traffic.key);
    const res = await v.generate();
    expect(res.status).toBe(200);
    expect((await v.submit(answersFor(res.body, traffic, { unknownAnswer: "yes" }))).body.passed).toBe(true);
  }
  ({ browser, page, problems, foreign } = await openLabPage(t));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
const labNav = () => page.getByRole("navigation", { name: "Lab" });
const gridStatus = () => page.locator(".grid-status").textContent();
const firstColumn = (column: number) =>
  page
    .locator("table.lab-grid tbody tr")
    .evaluateAll((rows, i) => rows.map((r) => r.querySelectorAll("td")[i]?.textContent ?? ""), column);

describe("lab pages in Chromium", { timeout: 90_000 }, () => {
  it.skipIf(!withBrowser)("signs in and opens the lab section from the top navigation", async () => {
    await signInAt(t, page, "/dashboard");
    await page.locator("main h1", { hasText: "Overview" }).waitFor();
    await page
      .getByRole("navigation", { name: "Pages" })
      .getByRole("link", { name: "Lab", exact: true })
      .click();
    await expect.poll(() => page.locator("main h1").textContent()).toBe("Lab");
    expect(new URL(page.url()).pathname).toBe("/dashboard/lab");
    await expect.poll(() => labNav().locator('[aria-current="page"]').textContent()).toBe("Datasets");
    await page.getByText("No lab datasets yet.").waitFor();
  });

  it.skipIf(!withBrowser)("uploads a CSV (two requests) and shows it loaded", async () => {
    const jobPosts: string[] = [];
    page.on("request", (r) => {
      if (r.method() === "POST" && new URL(r.url()).pathname.startsWith("/api/v1/"))
        jobPosts.push(new URL(r.url()).pathname);
    });
    await page.getByLabel("File (CSV, JSON, JSONL or Parquet)").setInputFiles({
      name: "flowers.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(CSV),
    });
    // The name defaults to the file's.
    expect(await page.getByLabel("Name", { exact: true }).first().getAttribute("placeholder")).toBe(
      "flowers",
    );
    await page.getByRole("button", { name: "Upload", exact: true }).click();
    await page.getByText("“flowers” loaded: 30 rows, 4 columns").waitFor();
    expect(jobPosts).toEqual(["/api/v1/dataset/", "/api/v1/job/"]);
    const row = page.locator('tr[data-lab-dataset="flowers"]');
    await expect.poll(() => row.locator("td").nth(1).textContent()).toBe("finished");
    expect(await row.locator("td").nth(2).textContent()).toBe("30");
    expect(await row.getByRole("link", { name: "CSV" }).getAttribute("href")).toMatch(
      /^\/api\/v1\/dataset\/\d+\/export\/csv$/,
    );
    await shot("01-datasets");

    // A broken file: the server's reason, and no empty dataset left behind.
    await page.getByLabel("File (CSV, JSON, JSONL or Parquet)").setInputFiles({
      name: "broken.csv",
      mimeType: "text/csv",
      buffer: Buffer.from("a,b\n1,2\n3,4,5\n"),
    });
    await page.getByRole("button", { name: "Upload", exact: true }).click();
    await expect
      .poll(() => page.locator('form[aria-labelledby="lab-upload-title"] [role="alert"]').textContent())
      .toMatch(/^Upload refused: .*broken CSV/);
    const { dash } = clients(t);
    expect((await dash.get("/api/v1/dataset/")).body.map((d: { name: string }) => d.name)).toEqual([
      "flowers",
    ]);
    // The browser logs the refused request (422) itself; that is the page working, not a fault.
    problems.splice(0, problems.length, ...problems.filter((p) => !p.includes("422")));
  });

  it.skipIf(!withBrowser)("imports a guard dataset's finalized labels as a lab dataset", async () => {
    const form = page.locator('form[aria-labelledby="lab-import-title"]');
    await expect
      .poll(() => form.getByLabel("Guard dataset").locator("option").allTextContents())
      .toEqual(["traffic"]);
    await form.getByRole("button", { name: "Import labels" }).click();
    await form.getByText("“traffic-labels”: 1 labels").waitFor();
    const row = page.locator('tr[data-lab-dataset="traffic-labels"]');
    await expect.poll(() => row.locator("td").nth(1).textContent()).toBe("finished");
    expect(await row.locator("td").nth(2).textContent()).toBe("1");
    const { dash } = clients(t);
    const imported = (await dash.get("/api/v1/dataset/")).body.find(
      (d: { name: string }) => d.name === "traffic-labels",
    );
    const cols = (await dash.get(`/api/v1/dataset/${imported.id}/info`)).body.columns;
    expect(cols.map((c: { name: string }) => c.name)).toContain("label");
    // The later steps expect one lab dataset.
    await row.getByRole("button", { name: "Delete traffic-labels" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Delete dataset" }).click();
    await expect.poll(() => row.count()).toBe(0);
  });

  it.skipIf(!withBrowser)("browses the data grid: pages, sort, filter", async () => {
    await page.getByRole("link", { name: "flowers", exact: true }).click();
    await page.locator("h2.lab-title", { hasText: "flowers" }).waitFor();
    expect(new URL(page.url()).pathname).toMatch(/^\/dashboard\/lab\/datasets\/\d+$/);
    await expect.poll(gridStatus).toBe("Rows 1–10 of 30");
    expect(await page.locator("table.lab-grid thead th").allTextContents()).toEqual([
      "sepal",
      "petal",
      "code",
      "species",
    ]);
    expect((await firstColumn(3)).slice(0, 3)).toEqual(SPECIES);

    await page.getByRole("button", { name: "Next" }).click();
    await expect.poll(gridStatus).toBe("Rows 11–20 of 30");
    expect((await firstColumn(0))[0]).toBe("5.6"); // row 11: 4.5 + 1 + 0.10

    // Sort by sepal: ascending, then descending (header button cycles).
    const sepal = page.locator("table.lab-grid thead th", { hasText: "sepal" });
    await sepal.getByRole("button").click();
    await expect.poll(() => sepal.getAttribute("aria-sort")).toBe("ascending");
    await expect.poll(gridStatus).toBe("Rows 1–10 of 30");
    await expect.poll(async () => (await firstColumn(0))[0]).toBe("4.5");
    await sepal.getByRole("button").click();
    await expect.poll(() => sepal.getAttribute("aria-sort")).toBe("descending");
    await expect.poll(async () => (await firstColumn(0))[0]).toBe("6.79");

    // Filter: species equals virginica → 10 rows, all virginica.
    const filter = page.getByRole("form", { name: "Add a filter" });
    await filter.getByLabel("Column").selectOption("species");
    await filter.getByLabel("Operator").selectOption("equals");
    await filter.getByLabel("Value").fill("virginica");
    await filter.getByRole("button", { name: "Add filter" }).click();
    await expect.poll(gridStatus).toBe("Rows 1–10 of 10");
    expect(new Set(await firstColumn(3))).toEqual(new Set(["virginica"]));
    const exportLink = page.getByRole("link", { name: "Export this view as CSV" });
    const href = (await exportLink.getAttribute("href"))!;
    const exported = await page.evaluate(async (h) => (await fetch(h)).text(), href);
    expect(exported.trim().split("\n")).toHaveLength(11);
    await shot("02-grid");
    await page.getByRole("button", { name: /^Remove filter species/ }).click();
    await expect.poll(gridStatus).toBe("Rows 1–10 of 30");
  });

  it.skipIf(!withBrowser)(
    "changes a column's type, refuses one that does not fit, renames a column",
    async () => {
      const { dash } = clients(t);
      const id = Number(new URL(page.url()).pathname.split("/").pop());
      const code = page.locator('tr[data-column="code"]');
      await expect.poll(() => code.getByRole("combobox").inputValue()).toBe("integer");
      await code.getByRole("combobox").selectOption("categorical");
      await page.getByText("Column “code” is now categorical").waitFor();
      await expect.poll(() => code.locator("td.mono").textContent()).toBe("category");
      expect((await dash.get(`/api/v1/dataset/${id}/types`)).body.code.type).toBe("categorical");

      const species = page.locator('tr[data-column="species"]');
      await species.getByRole("combobox").selectOption("float");
      await expect
        .poll(() => page.locator('section[aria-labelledby="lab-columns-title"] [role="alert"]').textContent())
        .toBe('column "species": value "setosa" in row 1 is not a float');
      expect(await species.getByRole("combobox").inputValue()).toBe("categorical");
      expect((await dash.get(`/api/v1/dataset/${id}/types`)).body.species.type).toBe("categorical");
      problems.splice(0, problems.length, ...problems.filter((p) => !p.includes("422")));

      await page.getByRole("button", { name: "Rename petal" }).click();
      await page.getByLabel("New name for petal").fill("petal_len");
      await page.getByRole("button", { name: "Save" }).click();
      await page.getByText("Column “petal” renamed to “petal_len”").waitFor();
      await expect.poll(() => page.locator("table.lab-grid thead th").nth(1).textContent()).toBe("petal_len");
      expect(
        (await dash.get(`/api/v1/dataset/${id}/info`)).body.columns.map((c: { name: string }) => c.name),
      ).toEqual(["sepal", "petal_len", "code", "species"]);
      await shot("03-columns");
    },
  );

  it.skipIf(!withBrowser)("creates a model session from the components' tasks and metrics", async () => {
    await labNav().getByRole("link", { name: "Model sessions" }).click();
    await page.getByRole("heading", { name: "New model session" }).waitFor();
    expect(new URL(page.url()).pathname).toBe("/dashboard/lab/sessions");
    const form = page.locator('form[aria-labelledby="lab-session-title"]');
    await form.getByLabel("Name").fill("flower-species");
    await form.getByLabel("Task").selectOption("TabularClassificationTask");
    await form.getByLabel("Output column").selectOption("species");
    // The metrics offered are the classification task's, all ticked by default.
    const testMetrics = form.locator("fieldset", { hasText: "Metrics on test" });
    await expect.poll(() => testMetrics.getByRole("checkbox").count()).toBeGreaterThan(3);
    await expect.poll(() => testMetrics.getByText("MAE", { exact: true }).count()).toBe(0);
    // An output column that cannot be a class: the server's 422 names it.
    await form.getByLabel("Output column").selectOption("sepal");
    await form.getByRole("button", { name: "Create session" }).click();
    await expect
      .poll(() => form.locator('[role="alert"]').textContent())
      .toMatch(/Output column "sepal" is float/);
    problems.splice(0, problems.length, ...problems.filter((p) => !p.includes("422")));
    await form.getByLabel("Output column").selectOption("species");
    await form.getByRole("checkbox", { name: "petal_len " }).check();
    await form.getByRole("checkbox", { name: "sepal " }).check();
    await form.getByRole("checkbox", { name: "code " }).uncheck();
    await form.getByRole("button", { name: "Create session" }).click();
    await form.getByText("Session “flower-species” created (18 / 6 / 6 rows)").waitFor();
    const row = page.locator('tr[data-lab-session="flower-species"]');
    await expect.poll(() => row.locator("td").nth(2).textContent()).toBe("sepal, petal_len → species");
    const { dash } = clients(t);
    const sessions = (await dash.get("/api/v1/model-session/")).body;
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({
      name: "flower-species",
      task_name: "TabularClassificationTask",
      input_columns: ["sepal", "petal_len"],
      output_columns: ["species"],
    });
    await shot("04-sessions");
  });

  it.skipIf(!withBrowser)("is readable at phone width (375 px): nothing overflows sideways", async () => {
    await page.setViewportSize({ width: 375, height: 800 });
    const { dash } = clients(t);
    const flowers = (await dash.get("/api/v1/dataset/")).body[0];
    for (const [path, ready] of [
      ["lab", "table.lab-datasets"],
      [`lab/datasets/${flowers.id}`, "table.lab-grid tbody tr"],
      ["lab/sessions", "table.lab-sessions"],
      ["lab/jobs", "table.lab-jobs"],
    ] as const) {
      await page.goto(`${t.url}/dashboard/${path}`);
      await page.locator(ready).first().waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      const culprits = await page.evaluate(() =>
        [...document.querySelectorAll("body *")]
          .filter(
            (el) => el.getBoundingClientRect().right > window.innerWidth + 1 && !el.closest(".table-wrap"),
          )
          .slice(0, 5)
          .map((el) => `${el.tagName}.${el.className}`),
      );
      expect(overflow, `${path} overflows by ${overflow}px: ${culprits.join(", ")}`).toBeLessThanOrEqual(0);
      await shot(`08-phone-${path.replace(/\W+/g, "-")}`);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it.skipIf(!withBrowser)(
    "lists every job with its progress, and nothing went wrong on the way",
    async () => {
      await labNav().getByRole("link", { name: "Jobs" }).click();
      const rows = page.locator("table.lab-jobs tbody tr");
      await rows.first().waitFor();
      // Newest first: the label import, then the upload; both finished at 100 %.
      expect(
        await rows.evaluateAll((trs) => trs.map((tr) => tr.querySelector("td")!.firstChild!.textContent)),
      ).toEqual(["DatasetJob", "DatasetJob"]);
      for (let i = 0; i < 2; i++) {
        expect(await rows.nth(i).getAttribute("data-status")).toBe("finished");
        expect(await rows.nth(i).locator("progress").getAttribute("value")).toBe("100");
      }
      await shot("06-jobs");
      expect(problems).toEqual([]);
      expect(foreign).toEqual([]);
    },
  );
});
