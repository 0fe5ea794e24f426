// The "Crowd vs models" and "Tuner results" sections of /dashboard/bench in headless Chromium (Debian's package,
// playwright-core), against the LLM stand-in: the bench admin makes a labeling suite from a guard dataset, runs
// two models on it and reads the crowd-vs-model table (the crowd's row beside each model's accuracy, agreement,
// cost per 1,000 labels); then opens a param tune ranked by score and a prompt tune's generations with its best
// prompt. No console errors, no request leaving the server. Screenshots: test-artifacts/bench/crowd-*.png.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDataset } from "../guard/helpers.js";
import { chromiumAvailable, launchChromium } from "../support/browser.js";
import { type LlmStandin, type StandinChat, startLlmStandin } from "../support/llm-standin.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { registerUser, request, type SignedInUser } from "./helpers.js";
import { openEventStream } from "./sse.js";

const withBrowser = chromiumAvailable("the browser tests of bench/crowd-pages.test.ts");
const ARTIFACTS = join(process.cwd(), "test-artifacts", "bench");
const PASSWORD = "correct horse battery";

let t: TestServer;
let standin: LlmStandin;
let browser: Browser;
let page: Page;
let admin: SignedInUser;
const problems: string[] = [];
const foreign: string[] = [];

function script(chat: StandinChat) {
  if (chat.model === "meta")
    return {
      text: JSON.stringify({ prompts: [{ style: "plain", prompt: "Call get_time for time questions." }] }),
    };
  if (chat.tools.length) return { toolCalls: [{ name: "get_time", arguments: { zone: "UTC" } }] };
  // Labels: "good" is right on both items, "poor" says "no" to everything.
  const text = chat.prompt.split("Text:\n")[1] ?? "";
  if (chat.model === "good") return { text: text.includes("sunny") ? "yes" : "no" };
  return { text: "no" };
}

const shot = (name: string) =>
  page.screenshot({ path: join(ARTIFACTS, `crowd-${name}.png`), fullPage: true });
const section = (name: string) =>
  page.getByRole("navigation", { name: "Benchmark sections" }).getByRole("button", { name }).click();

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  standin = await startLlmStandin({ behaviour: { ttftMs: 5, tokensPerSecond: 2000, reply: script } });
  t = await startTestServer({ env: { TRUSTED_PROXIES: "loopback" } });
  admin = await registerUser(t, "crowd-admin@example.com", PASSWORD); // the first user: admin
  const post = (path: string, body: unknown) => request(t, "POST", path, { token: admin.token, body });
  await post("/api/config/provider", {
    provider_key: "local",
    display_name: "Local",
    kind: "openai_compatible",
    model_id_prefix: "local",
    api_base: standin.baseUrl,
  });
  for (const id of ["good", "poor", "meta"])
    await post("/api/config/model", {
      provider_key: "local",
      id,
      input_cost_per_mtok: 0,
      output_cost_per_mtok: 1000,
    });

  // A guard dataset with two finalized labels, three votes (two agree) and its voters' gold record (3 / 4).
  const dataset = await createDataset(t, { name: "Is it sunny", modality: "text", choices: ["yes", "no"] });
  const prisma = t.server.deps.db.prisma;
  const ids: string[] = [];
  for (const [text, label, confidence] of [
    ["a sunny day", "yes", 1],
    ["rain all day", "no", 0.5],
  ] as const) {
    const item = await prisma.item.create({
      data: { datasetId: dataset.id, dataRef: text, modality: "text", state: "labeled" },
    });
    await prisma.label.create({
      data: { itemId: item.id, datasetId: dataset.id, label, confidence, solverCount: 2, voteCount: 2 },
    });
    ids.push(item.id);
  }
  await prisma.dataset.update({ where: { id: dataset.id }, data: { itemCount: 2 } });
  await prisma.vote.createMany({
    data: [
      { itemId: ids[0]!, solverId: "p1", answer: "yes" },
      { itemId: ids[0]!, solverId: "p2", answer: "yes" },
      { itemId: ids[1]!, solverId: "p2", answer: "yes" },
    ],
  });
  await prisma.solver.createMany({
    data: [
      { id: "p1", gtCorrect: 2, gtTotal: 2 },
      { id: "p2", gtCorrect: 1, gtTotal: 2 },
    ],
  });

  // A param tune and a prompt tune, run the way another client (curl) would.
  const suite = await post("/api/tool-eval/import", {
    name: "clock",
    tools: [
      { type: "function", function: { name: "get_time", parameters: { type: "object", properties: {} } } },
    ],
    test_cases: [
      { prompt: "What time is it in UTC?", expected_tool: "get_time", expected_params: { zone: "UTC" } },
    ],
  });
  const param = await openEventStream(t, admin.token, "/api/tool-eval/param-tune", {
    suite_id: suite.body.suite_id,
    models: ["local/good"],
    search_space: { temperature: [0, 0.7] },
  });
  await param.ended;
  const prompt = await openEventStream(t, admin.token, "/api/tool-eval/prompt-tune", {
    suite_id: suite.body.suite_id,
    target_models: ["local/good"],
    meta_model: "local/meta",
    config: { population_size: 1 },
  });
  await prompt.ended;

  if (!withBrowser) return;
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
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
    if (message.text().includes("willReadFrequently")) return;
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

describe("crowd vs models and tuner results in Chromium", { timeout: 90_000 }, () => {
  it.skipIf(!withBrowser)(
    "makes a labeling suite, runs two models, and shows them beside the crowd",
    async () => {
      await page.goto(`${t.url}/dashboard/bench`);
      await page.getByLabel("Email").fill(admin.email);
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Sign in", exact: true }).click();
      await page.locator('[data-bench="user"]').waitFor();
      await section("Crowd vs models");

      const make = page.locator("form", { has: page.getByRole("heading", { name: "New labeling suite" }) });
      await make.getByLabel("Dataset").selectOption({ label: "Is it sunny (text, 2 items)" });
      await make.getByRole("button", { name: "Make suite" }).click();
      const runForm = page.locator("form", {
        has: page.getByRole("heading", { name: "Score models against the crowd" }),
      });
      await runForm.waitFor();
      expect(await runForm.getByLabel("Labeling suite").locator("option").allTextContents()).toEqual([
        "Is it sunny (2 text items)",
      ]);
      await runForm.getByRole("button", { name: "Label with models" }).click();
      expect(await runForm.locator(".field-error").textContent()).toBe("Choose at least one model");
      await runForm.getByLabel("good").check();
      await runForm.getByLabel("poor").check();
      await runForm.getByRole("button", { name: "Label with models" }).click();

      const table = page.locator('table[data-bench="crowd-vs-models"]');
      await table.waitFor();
      expect(await runForm.getByRole("progressbar").getAttribute("value")).toBe("4");
      const row = async (labeler: string) =>
        (await table.locator(`tr[data-labeler="${labeler}"] td`).allTextContents()).map((s) => s.trim());
      // The crowd: 2 of 3 votes agree with the consensus; its voters got 3 of 4 gold answers right.
      expect(await row("crowd")).toEqual([
        "Human crowd (2 people, 3 votes)",
        "66.7 %",
        "75.0 % mean confidence",
        "75.0 % (3 / 4 gold answers)",
        "—",
        "—",
        "—",
      ]);
      const good = await row("local/good");
      expect(good.slice(0, 5)).toEqual(["local/good · Local", "100.0 % (2 / 2)", "100.0 %", "—", "$1.0000"]);
      const poor = await row("local/poor");
      // "no" is right only on the rain item (confidence 0.5 of 1.5 in all).
      expect(poor.slice(0, 5)).toEqual(["local/poor · Local", "50.0 % (1 / 2)", "33.3 %", "—", "$1.0000"]);
      expect(Number(good[5])).toBeGreaterThan(0);
      await shot("table");
    },
  );

  it.skipIf(!withBrowser)(
    "shows a param tune ranked and a prompt tune's generations with its best prompt",
    async () => {
      await section("Tuner results");
      const paramList = page.locator("section", {
        has: page.getByRole("heading", { name: "Parameter tunes" }),
      });
      await paramList.getByRole("button", { name: /clock · 2 combinations/ }).click();
      const ranked = page.locator('table[data-bench="param-tune"] tbody tr');
      await expect.poll(() => ranked.count()).toBe(2);
      expect((await ranked.first().locator("td").allTextContents()).slice(0, 4)).toEqual([
        "1",
        "local/good",
        "temperature=0",
        "100.0 %",
      ]);

      const promptList = page.locator("section", {
        has: page.getByRole("heading", { name: "Prompt tunes" }),
      });
      await promptList.getByRole("button", { name: /clock · quick · 1 \/ 1 prompts/ }).click();
      await expect
        .poll(() => page.locator('[data-bench="best-prompt"]').textContent())
        .toBe("Call get_time for time questions.");
      expect(
        (await page.locator('table[data-generation="1"] tbody tr td').allTextContents()).map((s) => s.trim()),
      ).toEqual(["0", "plain", "Call get_time for time questions.", "100.0 %", "best"]);
      await shot("tuners");
      expect(foreign).toEqual([]);
      expect(problems).toEqual([]);
    },
  );
});
