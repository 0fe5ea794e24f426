// Debian's Chromium driven by playwright-core, for every browser test. Where Chromium is not installed the
// browser tests skip with one line saying how to install it; `.ci/run` installs it and sets
// HIVEGUARD_REQUIRE_BROWSER=1, which turns a missing browser into a failure (CI never skips them).
import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { expect } from "vitest";

/** Where Chromium is: `CHROMIUM_PATH`, else Debian's path (read at each call, so a test can change it). */
const chromiumPath = () => process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
// Without the background-networking flags Chromium keeps trying hosts this closed network refuses.
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** True when Chromium can be launched; otherwise prints why `what` is skipped (or throws where it is required). */
export function chromiumAvailable(what: string): boolean {
  const executable = chromiumPath();
  if (existsSync(executable)) return true;
  if (process.env.HIVEGUARD_REQUIRE_BROWSER === "1")
    throw new Error(`Chromium is missing at ${executable} (apt-get install -y chromium)`);
  console.warn(`SKIPPED ${what}: Chromium is not installed (apt-get install -y chromium)`);
  return false;
}

export async function launchChromium(): Promise<Browser> {
  const executable = chromiumPath();
  if (!existsSync(executable))
    throw new Error(`Chromium is missing at ${executable} (apt-get install -y chromium)`);
  return chromium.launch({ executablePath: executable, args: ARGS });
}

/**
 * Answers a rendered challenge (widget or hosted page) the way a person who reads it would: right on
 * ground truth (`gt` maps an item's text to its answer), "no" otherwise; keyboard only.
 */
export async function solveChallenge(page: Page, gt: Map<string, unknown>): Promise<void> {
  const sets = page.locator("fieldset");
  await expect.poll(() => sets.count(), { timeout: 10_000 }).toBeGreaterThan(0);
  for (let i = 0; i < (await sets.count()); i++) {
    const set = sets.nth(i);
    const text = (await set.locator("blockquote").textContent())!;
    const answer = (gt.get(text) as string | undefined) ?? "no";
    await set.getByRole("radio", { name: answer }).focus();
    await page.keyboard.press("Space");
  }
  await page.getByRole("button", { name: "Verify" }).focus();
  await page.keyboard.press("Enter");
}
