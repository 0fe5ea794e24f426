// Logs for people and for log shippers (issue 17, point 8): readable lines when stdout is a terminal, JSON
// lines otherwise, and JSON on a terminal too with LOG_FORMAT=json. The terminal is a real pseudo-terminal
// (util-linux's `script`, in every Debian base system).
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const SCRIPT = "/usr/bin/script";
const logger = fileURLToPath(new URL("../../src/platform/logger.ts", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "hiveguard-logger-"));
const probe = join(dir, "probe.ts");
writeFileSync(
  probe,
  `import { createLogger } from ${JSON.stringify(logger)};\n` +
    `createLogger("info").info({ path: "/x" }, "hello from the probe");\n`,
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(env: Record<string, string>, terminal: boolean): string {
  const node = [process.execPath, "--import", "tsx", probe];
  const options = { env: { ...process.env, ...env }, encoding: "utf8" as const, timeout: 30_000 };
  return terminal
    ? execFileSync(SCRIPT, ["-qfc", node.join(" "), "/dev/null"], options)
    : execFileSync(node[0]!, node.slice(1), options);
}

describe.skipIf(!existsSync(SCRIPT))("log format", () => {
  it("is a readable line on a terminal", () => {
    const out = run({ LOG_FORMAT: "" }, true);
    expect(out).toContain("hello from the probe");
    expect(out).toMatch(/INFO/);
    expect(out).not.toContain('"msg":');
  });

  it("is JSON when stdout is not a terminal, and on a terminal with LOG_FORMAT=json", () => {
    for (const out of [run({ LOG_FORMAT: "" }, false), run({ LOG_FORMAT: "json" }, true)]) {
      const line = JSON.parse(out.trim().split(/\r?\n/)[0]!) as Record<string, unknown>;
      expect(line).toMatchObject({ level: 30, msg: "hello from the probe", path: "/x" });
    }
  });
});
