// The lab's generative chat page in headless Chromium against the real server and the LLM stand-in (a real
// HTTP server speaking OpenAI's streamed chat completions and /v1/images/generations): a signed-in user makes
// a text-to-text session from an endpoint (base URL, model, key), sends a prompt and watches the answer grow
// while it is produced (part of it on screen before the process finishes), then the whole answer; edits a
// parameter (the history shows the change, the next call uses it); makes a session from a bench provider
// model; and a text-to-image session whose image is shown. Screenshots are decoded and checked (not blank;
// the stand-in's red image is red on screen). No console errors, no request leaving the server.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addStandinProvider, registerUser } from "../bench/helpers.js";
import { chromiumAvailable } from "../support/browser.js";
import { type LlmStandin, startLlmStandin } from "../support/llm-standin.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { call, clients, openLabPage, screenshotPixels, signInAt } from "./helpers.js";

const withBrowser = chromiumAvailable("the browser tests of lab/dashboard-generative.test.ts");

const ARTIFACTS = join(process.cwd(), "test-artifacts", "lab-dashboard");
const KEY = "sk-lab-page-secret-5678";
const WORDS = 40;
let t: TestServer;
let standin: LlmStandin;
let browser: Browser;
let page: Page;
let problems: string[] = [];
let foreign: string[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  // 40 one-token words at 16 a second: about 2.5 s of visible streaming.
  standin = await startLlmStandin({ apiKey: KEY, behaviour: { outputTokens: WORDS, tokensPerSecond: 16 } });
  t = await startTestServer();
  if (!withBrowser) return;
  ({ browser, page, problems, foreign } = await openLabPage(t));
  page.setDefaultTimeout(15_000);
  await signInAt(t, page, "/dashboard/lab/generative");
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
  await standin?.close();
});

const words = (text: string) => text.trim().split(/\s+/).filter(Boolean).length;

async function shot(name: string) {
  const png = await page.screenshot({ fullPage: true });
  writeFileSync(join(ARTIFACTS, `${name}.png`), png);
  return screenshotPixels(page, png);
}

async function createSession(fields: {
  name: string;
  task?: string;
  endpoint?: { baseUrl: string; model: string; key: string };
  bench?: { user: string; model: string };
}) {
  await page.getByRole("navigation", { name: "Lab" }).getByRole("link", { name: "Generative" }).click();
  const form = page.locator('form[aria-labelledby="lab-generative-new"]');
  await form.getByLabel("Name").fill(fields.name);
  if (fields.task) await form.getByLabel("Task").selectOption({ label: fields.task });
  if (fields.endpoint) {
    await form.getByLabel("Base URL").fill(fields.endpoint.baseUrl);
    await form.getByLabel("Model", { exact: true }).fill(fields.endpoint.model);
    await form.getByLabel(/^API key/).fill(fields.endpoint.key);
  } else if (fields.bench) {
    await form.getByLabel("a bench provider model").check();
    await form.getByLabel("Bench user (email)").fill(fields.bench.user);
    await form.getByLabel(/^Bench model/).fill(fields.bench.model);
  }
  await form.getByRole("button", { name: "Create session" }).click();
  const created = page.getByRole("heading", { name: fields.name, level: 2 });
  await created.or(form.getByRole("alert").filter({ hasText: /./ })).waitFor();
  if (!(await created.isVisible())) throw new Error(`not created: ${await form.textContent()}`);
  expect(page.url()).toMatch(/\/dashboard\/lab\/generative\/\d+$/);
}

async function prompt(text: string, button = "Send") {
  const chat = page.getByRole("region", { name: "Chat" });
  await chat.getByLabel("Prompt").fill(text);
  await chat.getByRole("button", { name: button }).click();
  const exchange = chat.locator("li.lab-exchange").filter({ hasText: text }).last();
  await exchange.waitFor();
  return exchange;
}

describe("lab generative chat page in Chromium", { timeout: 120_000 }, () => {
  it.skipIf(!withBrowser)(
    "streams the answer into the chat while it is produced, then shows all of it",
    async () => {
      await createSession({
        name: "chat",
        endpoint: { baseUrl: standin.baseUrl, model: "gpt-standin", key: KEY },
      });
      const exchange = await prompt("Tell me something");
      const answer = exchange.locator(".lab-answer-text");

      // Read what the user sees while the process runs: some text, but not all of it yet.
      let partial = "";
      const deadline = Date.now() + 15_000;
      while (Date.now() < deadline) {
        const status = await exchange.getAttribute("data-status");
        const text = (await answer.count()) ? ((await answer.textContent()) ?? "") : "";
        if (status === "generating" && words(text) > 0) {
          partial = text;
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(words(partial)).toBeGreaterThan(0);
      expect(words(partial)).toBeLessThan(WORDS);
      const midway = await shot("30-generative-streaming");
      expect(midway.colours).toBeGreaterThan(8);
      expect(midway.inked).toBeGreaterThan(0.01);

      await expect.poll(() => exchange.getAttribute("data-status"), { timeout: 20_000 }).toBe("finished");
      const final = (await answer.textContent()) ?? "";
      expect(words(final)).toBe(WORDS);
      expect(final.startsWith(partial)).toBe(true);
      // The page shows what the server stored.
      const { dash } = clients(t);
      const sessions = (await dash.get("/api/v1/generative-session/")).body as { id: number; name: string }[];
      const chat = sessions.find((s) => s.name === "chat")!;
      const stored = (await dash.get(`/api/v1/generative-process/session/${chat.id}`)).body;
      expect(stored).toHaveLength(1);
      expect(stored[0].output[0].data).toBe(final);
      const sent = standin.requests.find((r) => r.path === "/v1/chat/completions")!;
      expect(sent.headers.authorization).toBe(`Bearer ${KEY}`);
      expect(sent.body).toMatchObject({ model: "gpt-standin", stream: true, temperature: 0.7 });
      // The key typed into the form is never shown back.
      expect(await page.content()).not.toContain(KEY);

      // A parameter edit: PATCH, a snapshot in the history, the next prompt uses it.
      await page.getByText("Parameters and their history").click();
      const params = page.getByRole("form", { name: "Session parameters" });
      await params.getByLabel("Temperature").fill("0.2");
      await params.getByRole("button", { name: "Save parameters" }).click();
      await params.getByText("Saved: temperature").waitFor();
      const history = page.locator("table.lab-param-history tbody tr");
      await expect.poll(() => history.count()).toBe(2);
      expect(await history.nth(1).textContent()).toContain("temperature: 0.7 → 0.2");
      standin.configure({ tokensPerSecond: 200, outputTokens: 5 });
      standin.reset();
      const second = await prompt("And again");
      await expect.poll(() => second.getAttribute("data-status"), { timeout: 20_000 }).toBe("finished");
      const next = standin.requests.find((r) => r.path === "/v1/chat/completions")!;
      expect(next.body!.temperature).toBe(0.2);
      expect((next.body!.messages as { content: string }[]).map((m) => m.content)).toEqual([
        "Tell me something",
        final,
        "And again",
      ]);
      // Reloading the page shows the history of the session's processes.
      await page.reload();
      await expect.poll(() => page.locator("li.lab-exchange").count()).toBe(2);
      expect(await page.locator("li.lab-exchange").first().locator(".lab-answer-text").textContent()).toBe(
        final,
      );
      const after = await shot("31-generative-chat");
      expect(after.colours).toBeGreaterThan(8);
      expect(after.inked).toBeGreaterThan(0.01);
      expect(problems).toEqual([]);
      expect(foreign).toEqual([]);
    },
  );

  it.skipIf(!withBrowser)("a session can answer from a bench user's provider model", async () => {
    const user = await registerUser(t);
    await addStandinProvider(t, user, standin, ["bench-model"]);
    const keySet = await call(t, "/api/keys", {
      method: "PUT",
      headers: { authorization: `Bearer ${user.token}`, "content-type": "application/json" },
      body: JSON.stringify({ provider_key: "local", value: KEY }),
    });
    expect(keySet.status, keySet.text).toBe(200);
    await createSession({ name: "via bench", bench: { user: user.email, model: "local/bench-model" } });
    expect(await page.locator("p.hint").first().textContent()).toContain("local/bench-model");
    standin.reset();
    const exchange = await prompt("Hello bench");
    await expect.poll(() => exchange.getAttribute("data-status"), { timeout: 20_000 }).toBe("finished");
    expect(words((await exchange.locator(".lab-answer-text").textContent()) ?? "")).toBe(5);
    expect(standin.requests.find((r) => r.path === "/v1/chat/completions")!.body!.model).toBe("bench-model");
    expect(problems).toEqual([]);
  });

  it.skipIf(!withBrowser)("a text-to-image session shows the generated image", async () => {
    await createSession({
      name: "pictures",
      task: "Text to Image",
      endpoint: { baseUrl: standin.baseUrl, model: "img-standin", key: KEY },
    });
    standin.reset();
    const exchange = await prompt("a red square", "Generate");
    const image = exchange.getByRole("img", { name: "Image 1 for “a red square”" });
    await image.waitFor({ timeout: 20_000 });
    await expect
      .poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth))
      .toBe(8);
    expect(await exchange.getAttribute("data-status")).toBe("finished");
    expect(standin.requests.find((r) => r.path === "/v1/images/generations")!.body).toMatchObject({
      model: "img-standin",
      prompt: "a red square",
    });
    // What the user sees: the stand-in's red PNG, drawn red on screen.
    const drawn = await screenshotPixels(page, await image.screenshot());
    expect(drawn.red).toBeGreaterThan(0.8);
    const whole = await shot("32-generative-image");
    expect(whole.colours).toBeGreaterThan(8);
    expect(whole.red).toBeGreaterThan(0.01);
    expect(problems).toEqual([]);
    expect(foreign).toEqual([]);
  });
});
