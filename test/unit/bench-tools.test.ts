// Issue 20, part 4: a benchmark whose tools are missing says so and how to install them, instead of dying
// with a spawnSync ENOENT stack trace. Runs `npm run bench -- proxy`'s entry point with tools that do not exist.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { installCommand, missing, NGINX, WRK } from "../../perf/tools.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

function bench(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", "perf/run.ts", ...args],
      { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 },
      (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out: stdout, err: stderr }),
    );
  });
}

describe("benchmark tool checks", () => {
  it("skips the proxy benchmark with the one command that installs what is missing, no stack trace", async () => {
    const result = await bench(["proxy"], {
      WRK_BIN: "/nonexistent/wrk",
      NGINX_BIN: "/nonexistent/nginx",
      DATABASE_URL: "postgresql://postgres@127.0.0.1:1/none",
      REDIS_URL: "redis://127.0.0.1:1",
    });
    expect(result.code).toBe(1);
    expect(result.out).toContain("SKIPPED: missing wrk (/nonexistent/wrk), nginx (/nonexistent/nginx)");
    expect(result.out).toContain("\n    apt-get install -y wrk nginx-light\n");
    expect(result.out).toContain("PostgreSQL is not reachable at 127.0.0.1:1 (DATABASE_URL)");
    expect(result.out).toContain("Redis is not reachable at 127.0.0.1:1 (REDIS_URL)");
    expect(result.out + result.err).not.toMatch(/ENOENT|\n\s+at /);
  });

  it("finds tools by path or on PATH, and names each Debian package once", async () => {
    expect(await missing({ tools: [{ name: "node", bin: process.execPath, pkg: "nodejs" }] })).toEqual([]);
    expect(await missing({ tools: [{ name: "sh", bin: "sh", pkg: "dash" }] })).toEqual([]);
    expect(installCommand([WRK, NGINX, WRK])).toBe("apt-get install -y wrk nginx-light");
  });
});
