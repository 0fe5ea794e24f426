// A machine without Chromium (issue 17, point 1): the browser tests skip with one line saying how to install
// it, and CI (`.ci/run` sets HIVEGUARD_REQUIRE_BROWSER=1) fails instead of skipping.
import { afterEach, describe, expect, it, vi } from "vitest";
import { chromiumAvailable } from "../support/browser.js";

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe("a missing Chromium", () => {
  it("skips the browser tests with one line saying how to install it", () => {
    vi.stubEnv("CHROMIUM_PATH", "/nonexistent/chromium");
    vi.stubEnv("HIVEGUARD_REQUIRE_BROWSER", "");
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    expect(chromiumAvailable("the probe")).toBe(false);
    expect(warn.mock.calls).toEqual([
      ["SKIPPED the probe: Chromium is not installed (apt-get install -y chromium)"],
    ]);
  });

  it("fails where HIVEGUARD_REQUIRE_BROWSER=1, as in CI", () => {
    vi.stubEnv("CHROMIUM_PATH", "/nonexistent/chromium");
    vi.stubEnv("HIVEGUARD_REQUIRE_BROWSER", "1");
    expect(() => chromiumAvailable("the probe")).toThrow(
      "Chromium is missing at /nonexistent/chromium (apt-get install -y chromium)",
    );
  });
});
