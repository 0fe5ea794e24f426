// Helpers for the lab tests: DashAI's two-request upload (create, then a DatasetJob form), job polling, and
// the Chromium page of the dashboard tests.
import type { Browser, Page } from "playwright-core";
import { expect } from "vitest";
import { call, clients } from "../guard/helpers.js";
import { launchChromium } from "../support/browser.js";
import type { TestServer } from "../support/server.js";

export { call, clients };

/** POST /api/v1/job/ as DashAI's frontend sends it (multipart, `filename` header). */
export async function enqueueForm(
  t: TestServer,
  fields: Record<string, string>,
  file?: { name: string; content: string | Buffer | Uint8Array; type?: string },
) {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) form.append(key, value);
  const headers: Record<string, string> = { authorization: t.dashboardAuth };
  if (file) {
    form.append("file", new Blob([file.content as BlobPart], { type: file.type ?? "text/csv" }), file.name);
    headers.filename = encodeURIComponent(file.name);
  }
  return call(t, "/api/v1/job/", { method: "POST", headers, body: form });
}

/** Polls a job until it ends (finished, error, cancelled). */
export async function waitForJob(t: TestServer, id: string, timeoutMs = 20_000) {
  const { dash } = clients(t);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await dash.get(`/api/v1/job/status/${id}`);
    expect(res.status).toBe(200);
    if (["finished", "error", "cancelled"].includes(res.body.status)) return res.body;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${res.body.status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Creates a dataset and loads a file into it the way DashAI's frontend does; returns the dataset. */
export async function uploadDataset(
  t: TestServer,
  name: string,
  file: { name: string; content: string | Buffer | Uint8Array; type?: string },
  params: Record<string, unknown> = { dataloader: "CSVDataLoader", name },
) {
  const { dash } = clients(t);
  const created = await dash.post("/api/v1/dataset/", { name });
  expect(created.status).toBe(201);
  expect(created.body.status).toBe(0);
  const job = await enqueueForm(
    t,
    {
      job_type: "DatasetJob",
      kwargs: JSON.stringify({ dataset_id: created.body.id, notebook_id: null, url: "", params }),
    },
    file,
  );
  expect(job.status, job.text).toBe(201);
  const done = await waitForJob(t, job.body.id);
  expect(done.status, JSON.stringify(done)).toBe("finished");
  const dataset = await dash.get(`/api/v1/dataset/${created.body.id}`);
  expect(dataset.body.status).toBe(3);
  return dataset.body as {
    id: number;
    name: string;
    file_path: string;
    total_rows: number;
    total_columns: number;
  };
}

export interface LabPage {
  browser: Browser;
  page: Page;
  /** Page errors, console errors and warnings (a test ends by expecting none). */
  problems: string[];
  /** Requests to another origin: aborted and listed (a test ends by expecting none). */
  foreign: string[];
}

/** Chromium with a 1280×900 page for the test server's dashboard; requests leaving the server are refused. */
export async function openLabPage(t: TestServer): Promise<LabPage> {
  const browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const problems: string[] = [];
  const foreign: string[] = [];
  const origin = new URL(t.url).origin;
  await page.route("**/*", (route) => {
    const url = route.request().url();
    if (!url.startsWith(origin) && !url.startsWith("data:") && !url.startsWith("blob:")) {
      foreign.push(url);
      return route.abort();
    }
    return route.continue();
  });
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning")
      problems.push(`console.${message.type()}: ${message.text()}`);
  });
  return { browser, page, problems, foreign };
}

/** Opens `path` and signs in with the dashboard's login form (session cookie, no Basic). */
export async function signInAt(t: TestServer, page: Page, path: string): Promise<void> {
  await page.goto(`${t.url}${path}`);
  await page.getByLabel("Username").fill("admin");
  await page.getByLabel("Password").fill(t.shared.dashboardPassword);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** What a screenshot shows, counted by Chromium's own PNG decoder (a canvas in `page`): no image library. */
export interface ScreenshotPixels {
  width: number;
  height: number;
  /** Distinct colours (RGB quantized to 4 bits a channel). */
  colours: number;
  /** Share of pixels that are not near-white (the page's content, not its background). */
  inked: number;
  /** Share of clearly red pixels (r > 180, g and b < 80). */
  red: number;
}

export async function screenshotPixels(page: Page, png: Buffer): Promise<ScreenshotPixels> {
  return page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const canvas = document.createElement("canvas");
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    const g = canvas.getContext("2d")!;
    g.drawImage(img, 0, 0);
    const data = g.getImageData(0, 0, canvas.width, canvas.height).data;
    const colours = new Set<number>();
    let inked = 0;
    let red = 0;
    const n = data.length / 4;
    for (let i = 0; i < data.length; i += 4) {
      const [r, gr, b] = [data[i]!, data[i + 1]!, data[i + 2]!];
      colours.add(((r >> 4) << 8) | ((gr >> 4) << 4) | (b >> 4));
      if (r < 235 || gr < 235 || b < 235) inked++;
      if (r > 180 && gr < 80 && b < 80) red++;
    }
    return {
      width: canvas.width,
      height: canvas.height,
      colours: colours.size,
      inked: inked / n,
      red: red / n,
    };
  }, png.toString("base64"));
}
