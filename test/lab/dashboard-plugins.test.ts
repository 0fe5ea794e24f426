// The lab's plugins page in headless Chromium against the real server: a signed-in admin installs the example
// plugin (examples/lab-plugin-example) from the available list and sees its components, disables and enables
// it, uninstalls it (back to available); installs it from an `npm pack` .tgz by its path; installs a plugin
// that throws at load and sees it listed with its error while the page and server keep working. Each step is
// checked against the registry (GET /api/v1/component/). Screenshots are decoded and checked (not blank).
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromiumAvailable } from "../support/browser.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { clients, openLabPage, screenshotPixels, signInAt } from "./helpers.js";

const withBrowser = chromiumAvailable("the browser tests of lab/dashboard-plugins.test.ts");

const ARTIFACTS = join(process.cwd(), "test-artifacts", "lab-dashboard");
const EXAMPLE = join(import.meta.dirname, "../../examples/lab-plugin-example");
const THROWS = join(import.meta.dirname, "../fixtures/lab/plugins/throws");
const NAME = "hiveguard-lab-plugin-example";
const MODEL = "NearestCentroidClassifier";
let t: TestServer;
let browser: Browser;
let page: Page;
let problems: string[] = [];
let foreign: string[] = [];

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  t = await startTestServer();
  if (!withBrowser) return;
  ({ browser, page, problems, foreign } = await openLabPage(t));
  page.setDefaultTimeout(15_000);
  await signInAt(t, page, "/dashboard/lab/plugins");
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await t?.close();
});

const row = (name: string) => page.locator(`tr[data-lab-plugin="${name}"]`);
const registered = async (name: string) =>
  (await clients(t).dash.get(`/api/v1/component/${name}/`)).status === 200;

async function shot(name: string) {
  const png = await page.screenshot({ fullPage: true });
  writeFileSync(join(ARTIFACTS, `${name}.png`), png);
  const pixels = await screenshotPixels(page, png);
  expect(pixels.colours).toBeGreaterThan(8);
  expect(pixels.inked).toBeGreaterThan(0.01);
}

describe("lab plugins page in Chromium", { timeout: 120_000 }, () => {
  it.skipIf(!withBrowser)("installs, disables, enables and uninstalls the example plugin", async () => {
    const example = row(NAME);
    await expect.poll(() => example.getAttribute("data-status"), { timeout: 10_000 }).toBe("available");
    expect(await registered(MODEL)).toBe(false);

    await example.getByRole("button", { name: `Install ${NAME}` }).click();
    await expect.poll(() => example.getAttribute("data-status"), { timeout: 10_000 }).toBe("installed");
    expect(await example.locator("td").nth(1).textContent()).toContain(MODEL);
    await page
      .getByRole("status")
      .filter({ hasText: `Installed ${NAME}` })
      .waitFor();
    expect(await registered(MODEL)).toBe(true);
    await shot("40-plugins-installed");

    await example.getByRole("button", { name: `Disable ${NAME}` }).click();
    await expect.poll(() => example.getAttribute("data-status"), { timeout: 10_000 }).toBe("disabled");
    expect(await registered(MODEL)).toBe(false);
    await example.getByRole("button", { name: `Enable ${NAME}` }).click();
    await expect.poll(() => example.getAttribute("data-status"), { timeout: 10_000 }).toBe("installed");
    expect(await registered(MODEL)).toBe(true);

    await example.getByRole("button", { name: `Uninstall ${NAME}` }).click();
    const dialog = page.getByRole("dialog", { name: "Uninstall plugin?" });
    await dialog.getByRole("button", { name: "Uninstall" }).click();
    await expect.poll(() => example.getAttribute("data-status"), { timeout: 10_000 }).toBe("available");
    expect(await example.getByRole("button", { name: `Install ${NAME}` }).isVisible()).toBe(true);
    expect(await registered(MODEL)).toBe(false);
    expect(problems).toEqual([]);
    expect(foreign).toEqual([]);
  });

  it.skipIf(!withBrowser)(
    "installs from an npm pack .tgz path, and shows a plugin that failed to load",
    async () => {
      const out = mkdtempSync(join(tmpdir(), "lab-plugin-page-"));
      const file = execFileSync("npm", ["pack", EXAMPLE, "--pack-destination", out, "--silent"], {
        encoding: "utf8",
      }).trim();
      const form = page.getByRole("form", { name: "Install a plugin from the server" });
      await form.getByLabel(/^Install from a path/).fill(join(out, file));
      await form.getByRole("button", { name: "Install" }).click();
      const example = row(NAME);
      await expect.poll(() => example.getAttribute("data-status"), { timeout: 10_000 }).toBe("installed");
      expect(await example.textContent()).toContain(join(out, file));
      expect(await registered(MODEL)).toBe(true);

      await form.getByLabel(/^Install from a path/).fill(THROWS);
      await form.getByRole("button", { name: "Install" }).click();
      const broken = row("lab-plugin-that-throws");
      await expect.poll(() => broken.getAttribute("data-status"), { timeout: 10_000 }).toBe("error");
      expect(await broken.locator(".lab-plugin-error").textContent()).toContain("boom at load");
      await page.getByRole("alert").filter({ hasText: "failed to load: " }).waitFor();
      // The rest keeps working: the example is still installed and registered.
      expect(await example.getAttribute("data-status")).toBe("installed");
      expect(await registered(MODEL)).toBe(true);

      // A path that is not a plugin: the server's 422 reason is shown.
      await form.getByLabel(/^Install from a path/).fill("/nonexistent/plugin");
      await form.getByRole("button", { name: "Install" }).click();
      await page.getByRole("alert").filter({ hasText: "No file or folder at that path" }).waitFor();
      // Chromium logs the refused request (422) on the console: that one is expected.
      problems.splice(0, problems.length, ...problems.filter((p) => !p.includes("422")));
      await shot("41-plugins-error");

      await broken.getByRole("button", { name: /^Uninstall / }).click();
      await page
        .getByRole("dialog", { name: "Uninstall plugin?" })
        .getByRole("button", { name: "Uninstall" })
        .click();
      await expect.poll(() => broken.count(), { timeout: 10_000 }).toBe(0);
      expect(problems).toEqual([]);
      expect(foreign).toEqual([]);
    },
  );
});
