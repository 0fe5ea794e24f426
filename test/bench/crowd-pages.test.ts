// The "Crowd vs models" and "Tuners" sections of /dashboard/bench in headless Chromium (Debian's package,
// playwright-core), against the LLM stand-in: the bench admin makes a labeling suite from a guard dataset, runs
// two models on it and reads the crowd-vs-model table (the crowd's row beside each model's accuracy, agreement,
// cost per 1,000 labels); then opens a param tune ranked by score and a prompt tune's generations with its best
// prompt; then starts a temperature tune from the page (the grid's size shown as it is typed, progress live,
// the combinations ranked), cancels a slow one, and starts a prompt tune only once its estimate is shown.
// No console errors, no request leaving the server. Screenshots: test-artifacts/bench/crowd-*.png.
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
let suiteId: string;
const problems: string[] = [];
const foreign: string[] = [];

function script(chat: StandinChat) {
  if (chat.model === "meta")
    return {
      text: JSON.stringify({ prompts: [{ style: "plain", prompt: "Call get_time for time questions." }] }),
    };
  // "picky" gets the zone right only at temperature 0.5: a tune must find that.
  const zone = chat.model === "picky" && chat.body.temperature !== 0.5 ? "CET" : "UTC";
  if (chat.tools.length) return { toolCalls: [{ name: "get_time", arguments: { zone } }] };
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
  standin = await startLlmStandin({
    behaviour: { ttftMs: 5, tokensPerSecond: 2000, reply: script },
    models: { slow: { ttftMs: 3000 } },
  });
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
  for (const id of ["good", "poor", "meta", "picky", "slow"])
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
  suiteId = suite.body.suite_id;
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
      await section("Tuners");
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
    },
  );

  it.skipIf(!withBrowser)(
    "starts a temperature tune from the page and shows the combinations ranked; cancels a slow one",
    async () => {
      const form = page.locator("form", { has: page.getByRole("heading", { name: "Tune parameters" }) });
      const gridSize = form.locator('[data-bench="grid-size"]');
      // The user's param_tuner settings (0 to 1 step 0.5) prefill the temperature.
      const temperature = form.getByLabel("temperature", { exact: true });
      expect(await temperature.inputValue()).toBe("0 to 1 step 0.5");
      expect(await gridSize.textContent()).toBe("3 combinations (the whole grid), each run on every model");
      // Every documented numeric parameter can be searched, the providers' extras too.
      for (const name of ["top_p", "top_k", "frequency_penalty", "presence_penalty", "seed", "min_p"])
        await form.getByLabel(name, { exact: true }).waitFor();
      await form.getByLabel("top_p", { exact: true }).fill("0.5, 0.9, 1");
      expect(await gridSize.textContent()).toBe("9 combinations (the whole grid), each run on every model");
      await form.getByLabel("Combinations at most").fill("4");
      expect(await gridSize.textContent()).toBe("9 combinations in the grid: 4 of them drawn at random");
      await form.getByLabel("Combinations at most").fill("");
      await form.getByLabel("top_p", { exact: true }).fill("");
      await temperature.fill("1 to 0 step 0.5");
      await form.getByLabel("picky").check();
      await form.getByRole("button", { name: "Start tune" }).click();
      expect(await form.locator(".field-error").allTextContents()).toEqual([
        "the end must not be below the start",
      ]);
      await temperature.fill("0 to 1 step 0.5");
      await form.getByRole("button", { name: "Start tune" }).click();

      await expect
        .poll(() => form.locator('[role="status"]').last().textContent())
        .toBe("Tune complete: best local/picky with temperature=0.5 (100.0 %)");
      expect(await form.getByRole("progressbar", { name: "Tune progress" }).getAttribute("value")).toBe("3");
      const rows = form.locator('table[data-bench="param-tune-live"] tbody tr');
      const cells = async () =>
        Promise.all(
          (await rows.all()).map(async (r) => (await r.locator("td").allTextContents()).map((c) => c.trim())),
        );
      // Best first; the two 60 % combinations (right tool, wrong zone) keep their order.
      expect(await cells()).toEqual([
        ["1", "local/picky", "temperature=0.5", "100.0 %", "100.0 %", "100.0 %", "1 / 1"],
        ["2", "local/picky", "temperature=0", "60.0 %", "100.0 %", "0.0 %", "0 / 1"],
        ["3", "local/picky", "temperature=1", "60.0 %", "100.0 %", "0.0 %", "0 / 1"],
      ]);
      // The tune reached the stand-in with each temperature, and is listed with the stored tunes.
      const temps = standin.requests.filter((r) => r.model === "picky").map((r) => r.body?.temperature);
      expect(temps).toEqual([0, 0.5, 1]);
      const list = page.locator("section", { has: page.getByRole("heading", { name: "Parameter tunes" }) });
      await list.getByRole("button", { name: /clock · 3 combinations/ }).waitFor();
      expect(await list.locator("li").first().textContent()).toMatch(
        /clock · 3 combinations best 100\.0 % \(completed\)$/,
      );
      await shot("param-tune");

      // A slow model: progress is shown while it runs, and Cancel stops the call in flight.
      await form.getByLabel("picky").uncheck();
      await form.getByLabel("slow").check();
      const disconnects = standin.disconnects.length;
      await form.getByRole("button", { name: "Start tune" }).click();
      const progress = form.getByRole("progressbar", { name: "Tune progress" });
      await expect.poll(() => progress.getAttribute("max")).toBe("3");
      expect(await progress.getAttribute("value")).toBe("0");
      expect(await form.getByRole("button", { name: "Start tune" }).isDisabled()).toBe(true);
      await standin.waitFor(() => standin.activeStreams.length > 0);
      await form.getByRole("button", { name: "Cancel tune" }).click();
      await expect.poll(() => form.locator('[role="status"]').last().textContent()).toBe("Tune cancelled");
      await standin.waitFor(() => standin.disconnects.length > disconnects);
      expect(await form.locator('table[data-bench="param-tune-live"]').count()).toBe(0);
      await expect
        .poll(() => list.locator("li").first().textContent())
        .toMatch(/clock · 3 combinations best — \(cancelled\)$/);
    },
  );

  it.skipIf(!withBrowser)(
    "starts a prompt tune only once its estimate is shown, and shows the best prompt",
    async () => {
      const form = page.locator("form", {
        has: page.getByRole("heading", { name: "Tune the system prompt" }),
      });
      await form.getByLabel("Meta model").selectOption({ label: "local/meta (Local)" });
      await form.getByRole("group", { name: "Target models" }).getByLabel("local/good (Local)").check();
      await form.getByLabel("Prompts per generation").fill("2");
      const start = form.getByRole("button", { name: "Start prompt tune" });
      expect(await start.isDisabled()).toBe(true);
      await form.getByRole("button", { name: "Estimate" }).click();
      const estimate = form.locator('[data-bench="prompt-estimate"] dd');
      await estimate.first().waitFor();
      // As the REST estimate says it (1 case, 1 target model, quick mode: 2 scoring calls and 1 meta call).
      const rest = await request(
        t,
        "GET",
        `/api/tool-eval/prompt-tune/estimate?suite_id=${suiteId}&mode=quick&population_size=2&generations=1` +
          `&target_models=local/good&meta_model=local/meta`,
        { token: admin.token },
      );
      expect(rest.body.total_api_calls).toBe(3);
      expect((await estimate.allTextContents()).map((s) => s.trim())).toEqual([
        "3 (2 scoring, 1 meta) for 2 prompts",
        `~${rest.body.estimated_input_tokens.toLocaleString("en-US")} in, ~${rest.body.estimated_output_tokens.toLocaleString("en-US")} out`,
        `about $${rest.body.estimated_cost.toFixed(4)}`,
        "about 9 s",
      ]);
      expect(await start.isDisabled()).toBe(false);
      // Any change makes the estimate stale: it must be asked again before starting.
      await form.getByLabel("Prompts per generation").fill("1");
      expect(await estimate.count()).toBe(0);
      expect(await start.isDisabled()).toBe(true);
      await form.getByRole("button", { name: "Estimate" }).click();
      await expect.poll(() => estimate.first().textContent()).toBe("2 (1 scoring, 1 meta) for 1 prompts");
      await start.click();

      await expect
        .poll(() => form.locator('[role="status"]').last().textContent())
        .toBe("Tune complete: best prompt scored 100.0 %");
      expect(await form.locator('[data-bench="live-best-prompt"]').textContent()).toBe(
        "Call get_time for time questions.",
      );
      expect(await form.getByRole("progressbar", { name: "Prompts scored" }).getAttribute("value")).toBe("1");
      expect(
        (await form.locator('table[data-bench="prompt-tune-live"] tbody tr td').allTextContents()).map((s) =>
          s.trim(),
        ),
      ).toEqual(["1", "0", "plain", "Call get_time for time questions.", "100.0 %", "best"]);
      const list = page.locator("section", { has: page.getByRole("heading", { name: "Prompt tunes" }) });
      await expect.poll(() => list.locator("li").count()).toBe(2);
      await shot("prompt-tune");
      expect(foreign).toEqual([]);
      expect(problems).toEqual([]);
    },
  );
});
