// What each benchmark needs from the machine, checked before it starts: a missing tool ends that benchmark
// with one line naming it and the one command that installs it (never a spawn ENOENT stack trace).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { delimiter, join } from "node:path";

export interface Tool {
  name: string;
  /** An absolute path, or a command looked up on PATH. */
  bin: string;
  /** The Debian package that installs it. */
  pkg: string;
  /** Arguments that must exit 0 for the tool to count as installed (a module import, say). */
  probe?: string[];
}

export const WRK: Tool = { name: "wrk", bin: process.env.WRK_BIN ?? "/usr/bin/wrk", pkg: "wrk" };
export const NGINX: Tool = {
  name: "nginx",
  bin: process.env.NGINX_BIN ?? "/usr/sbin/nginx",
  pkg: "nginx-light",
};
/** Debian's python3 with scikit-learn (the pyenv python3 on PATH cannot import Debian's modules). */
export const SKLEARN: Tool = {
  name: "python3-sklearn",
  bin: process.env.SKLEARN_PYTHON ?? "/usr/bin/python3",
  pkg: "python3-sklearn",
  probe: ["-c", "import sklearn"],
};
export const PSQL: Tool = { name: "psql", bin: process.env.PSQL_BIN ?? "psql", pkg: "postgresql-client" };

export type Service = "postgres" | "redis";

export interface Needs {
  tools?: Tool[];
  /** Services the benchmark uses by default (DATABASE_URL / REDIS_URL, else the local ones). */
  services?: Service[];
}

const DEFAULT_URLS: Record<Service, { env: string; url: string; what: string }> = {
  postgres: { env: "DATABASE_URL", url: "postgresql://postgres@127.0.0.1:5432/test", what: "PostgreSQL" },
  redis: { env: "REDIS_URL", url: "redis://127.0.0.1:6379", what: "Redis" },
};

function installed(tool: Tool): boolean {
  if (tool.probe) return spawnSync(tool.bin, tool.probe, { stdio: "ignore", timeout: 30_000 }).status === 0;
  if (tool.bin.includes("/")) return existsSync(tool.bin);
  return (process.env.PATH ?? "")
    .split(delimiter)
    .some((dir) => dir !== "" && existsSync(join(dir, tool.bin)));
}

function reachable(url: string, timeoutMs = 1500): Promise<boolean> {
  const parsed = new URL(url);
  const port = Number(parsed.port || (parsed.protocol.startsWith("redis") ? 6379 : 5432));
  return new Promise((resolve) => {
    const socket = connect({ host: parsed.hostname || "127.0.0.1", port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/**
 * What `needs` names and this machine lacks, as lines to print (empty when everything is there). Missing
 * tools come with the one `apt-get install` command that installs all of them.
 */
export async function missing(needs: Needs): Promise<string[]> {
  const lines: string[] = [];
  const tools = (needs.tools ?? []).filter((tool) => !installed(tool));
  if (tools.length > 0) {
    lines.push(
      `missing ${tools.map((tool) => `${tool.name} (${tool.bin})`).join(", ")}; install with:`,
      `  ${installCommand(tools)}`,
    );
  }
  for (const service of needs.services ?? []) {
    const { env, url, what } = DEFAULT_URLS[service];
    const target = process.env[env] ?? url;
    if (!(await reachable(target)))
      lines.push(`${what} is not reachable at ${new URL(target).host} (${env}): start it, or set ${env}`);
  }
  return lines;
}

export function installCommand(tools: Tool[]): string {
  return `apt-get install -y ${[...new Set(tools.map((tool) => tool.pkg))].join(" ")}`;
}
