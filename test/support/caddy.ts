// Debian's Caddy, started by a test on a free port with a Caddyfile of the test's own (admin endpoint off,
// plain HTTP). Where Caddy is not installed the test skips with one line saying how to install it; `.ci/run`
// installs it and sets HIVEGUARD_REQUIRE_CADDY=1, which turns a missing Caddy into a failure.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./nginx.js";

export const CADDY_BIN = process.env.CADDY_BIN ?? "/usr/bin/caddy";

export function caddyAvailable(what: string): boolean {
  if (existsSync(CADDY_BIN)) return true;
  if (process.env.HIVEGUARD_REQUIRE_CADDY === "1")
    throw new Error(`Caddy is missing at ${CADDY_BIN} (apt-get install -y caddy)`);
  console.warn(`SKIPPED ${what}: Caddy is not installed (apt-get install -y caddy)`);
  return false;
}

export interface Caddy {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Starts Caddy with `siteBody(port)`: a Caddyfile whose site address is http://127.0.0.1:`port`. */
export async function startCaddy(caddyfile: (port: number) => string): Promise<Caddy> {
  const dir = mkdtempSync(join(tmpdir(), "hiveguard-caddy-"));
  const port = await freePort();
  const file = join(dir, "Caddyfile");
  writeFileSync(file, caddyfile(port));
  const child: ChildProcess = spawn(CADDY_BIN, ["run", "--config", file, "--adapter", "caddyfile"], {
    // Caddy keeps its state under XDG_DATA_HOME / XDG_CONFIG_HOME: this test's directory.
    env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`caddy exited: ${stderr.slice(-2000)}`);
    try {
      await (await fetch(`${url}/_hiveguard/challenge`)).arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`caddy did not start: ${stderr.slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return {
    url,
    port,
    async close() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await new Promise((resolve) => child.once("exit", resolve));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
