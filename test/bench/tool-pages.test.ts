// The tool-calling pages of the dashboard's benchmark section in headless Chromium, against the stand-in playing
// the evaluated models and the judge (test/bench/judge-script.ts): a bench user imports the example suite from
// JSON, edits and adds cases (a bad JSON refused beside its field), runs an eval of two models with a live judge
// and watches results and verdicts arrive (one verdict unparsed), drills into one case, then reads the judge's
// report with its prompt and raw answer, compares the two models, and deletes a report; then imports tools from a
// real MCP server (the SDK's, over Streamable HTTP) as a suite. No console errors, no request leaving the server. Screenshots: test-artifacts/bench/tools-*.png (gitignored).
import { mkdirSync, readFileSync } from "node:fs";
import type { Server as HttpServer } from "node:http";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumAvailable, launchChromium } from "../support/browser.js";
import { type LlmStandin, startLlmStandin } from "../support/llm-standin.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { request, userWithStandin } from "./helpers.js";
import { judgeScript, UNPARSABLE } from "./judge-script.js";
import { serveMcpHttp, weatherServer } from "./mcp-servers.js";

const withBrowser = chromiumAvailable("the browser tests of bench/tool-pages.test.ts");
const ARTIFACTS = join(process.cwd(), "test-artifacts", "bench");
const PASSWORD = "correct horse battery";
const example = readFileSync("docs/bench-tool-suite.example.json", "utf8");

let t: TestServer;
let standin: LlmStandin;
let browser: Browser;
let page: Page;
let token: string;
const problems: string[] = [];
const foreign: string[] = [];
const refusals: string[] = [];
const mcpServers: HttpServer[] = [];

const shot = (name: string) =>
  page.screenshot({ path: join(ARTIFACTS, `tools-${name}.png`), fullPage: true });
const section = (name: string) =>
  page.getByRole("navigation", { name: "Benchmark sections" }).getByRole("button", { name }).click();

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  standin = await startLlmStandin({ behaviour: { ttftMs: 5, tokensPerSecond: 2000, reply: judgeScript } });
  t = await startTestServer();
  const user = await userWithStandin(t, standin, ["good", "bad", "judge"]);
  token = user.token;
  if (!withBrowser) return;
  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
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
    if (message.text().startsWith("Failed to load resource: the server responded with a status of 4")) return;
    if (message.type() === "error" || message.type() === "warning")
      problems.push(`console.${message.type()}: ${message.text()}`);
  });
  await page.goto(`${t.url}/dashboard/bench`);
  await page.getByLabel("Email").fill(user.email);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.locator('[data-bench="user"]').waitFor();
}, 120_000);

afterAll(async () => {
  for (const http of mcpServers) {
    http.closeAllConnections();
    http.close();
  }
  await browser?.close();
  await t?.close();
  await standin?.close();
});

describe("tool suites, tool evals and judge reports in Chromium", { timeout: 90_000 }, () => {
  it.skipIf(!withBrowser)("imports a suite from JSON, edits a case and adds one", async () => {
    await section("Tool suites");
    await page.getByLabel("Suite JSON").fill(example);
    await page.getByRole("button", { name: "Import suite" }).click();
    const editor = page.locator("[data-suite-editor]");
    await editor.getByRole("heading", { name: "Test cases (4)" }).waitFor();

    // Edit the weather case's expected params.
    const weather = editor.locator("tr", { hasText: "What's the weather in Paris" });
    await weather.getByRole("button", { name: "Edit case" }).click();
    const edit = editor.getByRole("form", { name: "Edit case" });
    await edit.getByLabel("Expected params (JSON)").fill('{"city": "Paris"}');
    await edit.getByRole("button", { name: "Save case" }).click();
    await expect
      .poll(() => editor.locator("tr", { hasText: "What's the weather in Paris" }).textContent())
      .toContain('{"city":"Paris"}');

    // A new case: bad JSON is refused beside its field, then it is added, then deleted.
    const add = editor.getByRole("form", { name: "Add a case" });
    await add.getByLabel("Prompt").fill("Say hello");
    await add.getByLabel("Expected params (JSON)").fill("{nope");
    await add.getByRole("button", { name: "Add case" }).click();
    await expect.poll(() => add.locator(".field-error").textContent()).toMatch(/JSON object/);
    await add.getByLabel("Expected params (JSON)").fill("");
    await add.getByRole("button", { name: "Add case" }).click();
    await editor.getByRole("heading", { name: "Test cases (5)" }).waitFor();
    const hello = editor.locator("tr", { hasText: "Say hello" });
    expect(await hello.locator("td").nth(1).textContent()).toBe("no call");
    await shot("01-suite");
    await hello.getByRole("button", { name: "Delete case" }).click();
    await editor.getByRole("heading", { name: "Test cases (4)" }).waitFor();

    await page.getByRole("button", { name: "← All suites" }).click();
    const row = page.locator("tr[data-suite]");
    await expect
      .poll(() => row.locator("td").allTextContents())
      .toEqual([expect.stringContaining("Weather and calendar"), "3", "4", "EditDelete"]);
  });

  it.skipIf(!withBrowser)(
    "runs an eval of two models with a live judge, then drills into one case",
    async () => {
      await section("Tool evals");
      const form = page.locator("form", { has: page.getByRole("heading", { name: "Run a tool eval" }) });
      await form.getByRole("checkbox", { name: "local/good (Local)" }).check();
      await form.getByRole("checkbox", { name: "local/bad (Local)" }).check();
      await form.getByLabel(/^Judge mode(?!l)/).selectOption("live_inline");
      await form.getByLabel(/^Judge model/).selectOption({ label: "local/judge (Local)" });
      await form.getByRole("button", { name: "Run eval" }).click();
      await expect
        .poll(() => form.getByRole("status").textContent(), { timeout: 30_000 })
        .toBe("Eval complete");
      const rows = form.getByRole("table", { name: "Live eval results" }).locator("tbody tr");
      expect(await rows.count()).toBe(8);
      const judged = await rows.locator("td:nth-child(5)").allTextContents();
      // Every case got its verdict; the booking case's answer (prose) is shown as unparsed, never as a score.
      expect(judged.filter((v) => v === "unparsed")).toHaveLength(2);
      expect(judged.filter((v) => v === "pass 5/5").length).toBeGreaterThanOrEqual(3);
      expect(await form.getByRole("list", { name: "Model summaries" }).textContent()).toContain(
        "local/good: overall 100%",
      );
      expect(await form.getByLabel("Eval progress").getAttribute("value")).toBe("8");
      await shot("02-eval");

      const detail = page.getByRole("region", { name: "Eval detail" });
      await detail.getByRole("table", { name: "Per-case results" }).waitFor();
      const bad = detail.locator("tbody tr", { hasText: "local/bad" }).filter({ hasText: "Find Ada" });
      await bad.getByRole("button").click();
      const drill = page.getByRole("region", { name: "Case detail" });
      await expect.poll(() => drill.textContent()).toContain("search_contacts | create_event");
      expect(await drill.textContent()).toContain("get_weather");
      await drill.getByText("Raw request and response").click();
      expect(await drill.locator("pre").textContent()).toContain('"tool_calls"');
      await shot("03-drill-down");
    },
  );

  it.skipIf(!withBrowser)(
    "reads the judge's report with its prompt and raw answer, compares the two models, deletes a report",
    async () => {
      await section("Judge reports");
      const reports = page.locator("tr[data-report]");
      await expect.poll(() => reports.count()).toBe(1);
      expect(await reports.first().textContent()).toContain("live_inline");
      expect(await reports.first().locator("td").first().textContent()).toMatch(
        /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC$/,
      );
      await reports.first().getByRole("button", { name: "View report" }).click();
      const report = page.getByRole("region", { name: "Judge report" });
      await expect.poll(() => report.locator("[data-model-report]").count()).toBe(2);
      expect(await report.locator('[data-model-report="local/good"]').textContent()).toContain("A (95)");
      const unparsed = report.locator('tr[data-parsed="false"]');
      expect(await unparsed.count()).toBe(2);
      await unparsed.first().getByText("Judge prompt and answer").click();
      expect(await unparsed.first().getByLabel("Judge answer").textContent()).toBe(UNPARSABLE);
      await shot("04-report");

      // Compare: the one run twice, so its two models are compared.
      const compare = page.locator("form", { has: page.getByRole("heading", { name: "Compare two runs" }) });
      await compare.getByLabel(/^Judge model/).selectOption({ label: "local/judge (Local)" });
      await compare.getByRole("button", { name: "Compare runs" }).click();
      await expect.poll(() => reports.count(), { timeout: 30_000 }).toBe(2);
      await expect
        .poll(() => page.locator('[data-judge="winner"]').textContent())
        .toContain("Winner: local/good (90 vs 30)");
      expect(await page.getByRole("table", { name: "Case comparisons" }).locator("tbody tr").count()).toBe(4);
      await shot("05-compare");

      await reports.filter({ hasText: "comparative" }).getByRole("button", { name: "Delete report" }).click();
      await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
      await expect.poll(() => reports.count()).toBe(1);
      const api = await request(t, "GET", "/api/tool-eval/judge/reports", { token });
      expect(api.body.reports.map((r: { mode: string }) => r.mode)).toEqual(["live_inline"]);

      expect(problems).toEqual([]);
      expect(foreign).toEqual([]);
      expect(refusals).toEqual([]);
    },
  );

  it.skipIf(!withBrowser)(
    "imports tools from an MCP server (the SDK's weather server) as a suite with generated cases",
    async () => {
      const url = await serveMcpHttp(weatherServer, mcpServers);
      await section("Tool suites");
      const panel = page.locator("section", {
        has: page.getByRole("heading", { name: "Import from an MCP server" }),
      });
      // A stdio command this server never allowed (BENCH_MCP_STDIO_COMMANDS unset): refused beside its field.
      await panel.getByLabel("stdio command").check();
      await panel.getByLabel("Command", { exact: true }).fill("/bin/sh");
      await panel.getByRole("button", { name: "Discover tools" }).click();
      await expect
        .poll(() => panel.locator(".field-error").textContent())
        .toBe(
          'The command "/bin/sh" may not be started as an MCP server: no command is allowed on this server: ' +
            "an administrator lists the MCP servers users may start in BENCH_MCP_STDIO_COMMANDS",
        );

      await panel.getByLabel("Streamable HTTP").check();
      await panel.getByLabel("Server URL").fill(url);
      await panel.getByRole("button", { name: "Discover tools" }).click();
      await expect.poll(() => panel.getByRole("status").textContent()).toBe("weather-mcp: 3 tools");
      const tools = panel.getByRole("group", { name: "Tools" }).locator("label");
      expect((await tools.allTextContents()).map((s) => s.trim())).toEqual([
        "get_weather (2 parameters): Current weather for a city.",
        "files.read (2 parameters): Read a file",
        "ping (0 parameters): Are you there",
      ]);
      await panel.getByLabel("ping (0 parameters)").uncheck();
      await panel.getByLabel("Suite name").fill("Weather from MCP");
      await panel.getByRole("button", { name: "Import tools" }).click();

      // The new suite's editor: the two tools, one generated case each.
      const editor = page.locator("[data-suite-editor]");
      await editor.getByRole("heading", { name: "Test cases (2)" }).waitFor();
      const api = await request(t, "GET", "/api/tool-suites", { token });
      const suite = api.body.suites.find((x: { name: string }) => x.name === "Weather from MCP");
      expect([suite.tool_count, suite.test_case_count]).toEqual([2, 2]);
      expect(await editor.locator("tr", { hasText: "Use the files_read tool" }).count()).toBe(1);
      await shot("06-mcp");

      expect(problems).toEqual([]);
      expect(foreign).toEqual([]);
      expect(refusals).toEqual(["POST /api/mcp/discover 422"]);
    },
  );
});
