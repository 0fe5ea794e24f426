// bin/hiveguard.js runs dist/ only when the build is current: a source newer than the build runs through tsx.
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compiledIsCurrent } from "../../bin/compiled.js";

function checkout(): string {
  const root = mkdtempSync(join(tmpdir(), "hiveguard-compiled-"));
  mkdirSync(join(root, "src/platform"), { recursive: true });
  writeFileSync(join(root, "src/platform/x.ts"), "export {};\n");
  return root;
}
const at = (path: string, seconds: number) => utimesSync(path, seconds, seconds);

describe("compiledIsCurrent", () => {
  it("is false without a finished build, true once built, false again when a source changes after", () => {
    const root = checkout();
    at(join(root, "src/platform/x.ts"), 1_000);
    expect(compiledIsCurrent(root)).toBe(false);

    mkdirSync(join(root, "dist"));
    writeFileSync(join(root, "dist/.built"), "");
    at(join(root, "dist/.built"), 2_000);
    expect(compiledIsCurrent(root)).toBe(true);

    at(join(root, "src/platform/x.ts"), 3_000);
    expect(compiledIsCurrent(root)).toBe(false);
  });

  it("is true for a packed install, which ships dist/ and no sources", () => {
    const root = mkdtempSync(join(tmpdir(), "hiveguard-compiled-"));
    mkdirSync(join(root, "dist"));
    writeFileSync(join(root, "dist/.built"), "");
    expect(compiledIsCurrent(root)).toBe(true);
  });
});
