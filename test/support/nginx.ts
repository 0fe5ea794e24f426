// Debian's nginx, started by a test on a free port with a config of the test's own. Where nginx is not
// installed the test skips with one line saying how to install it; `.ci/run` installs it and sets
// HIVEGUARD_REQUIRE_NGINX=1, which turns a missing nginx into a failure.
import { type ChildProcess, spawn } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const NGINX_BIN = process.env.NGINX_BIN ?? "/usr/sbin/nginx";

/** True when nginx can be started; otherwise prints why the caller skips (or throws where it is required). */
export function nginxAvailable(what: string): boolean {
  if (existsSync(NGINX_BIN)) return true;
  if (process.env.HIVEGUARD_REQUIRE_NGINX === "1")
    throw new Error(`nginx is missing at ${NGINX_BIN} (apt-get install -y nginx-light)`);
  console.warn(`SKIPPED ${what}: nginx is not installed (apt-get install -y nginx-light)`);
  return false;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface Nginx {
  url: string;
  port: number;
  /** The prefix directory (holds the config, logs and whatever the test writes there). */
  dir: string;
  close(): Promise<void>;
}

/**
 * Starts nginx with `serverBlock` (the inside of one `server {}`: `listen` is added) in a directory of
 * its own; `{{dir}}` in the block stands for that directory.
 */
export async function startNginx(
  serverBlock: (dir: string) => string,
  prepare?: (dir: string) => void,
): Promise<Nginx> {
  return startNginxHttp(
    (dir, port) => `  server {
    listen 127.0.0.1:${port};
${serverBlock(dir)}
  }`,
    prepare,
  );
}

/** Starts nginx with `httpBlock` as the inside of `http {}` (it must listen on 127.0.0.1:`port`). */
export async function startNginxHttp(
  httpBlock: (dir: string, port: number) => string,
  prepare?: (dir: string) => void,
): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), "hiveguard-nginx-"));
  // Started as root, nginx's workers run as nobody: they must be able to read what the test serves.
  chmodSync(dir, 0o755);
  prepare?.(dir);
  const port = await freePort();
  writeFileSync(
    join(dir, "nginx.conf"),
    `worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;
  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
${httpBlock(dir, port)}
}
`,
  );
  const child: ChildProcess = spawn(
    NGINX_BIN,
    ["-p", dir, "-e", join(dir, "error.log"), "-c", join(dir, "nginx.conf"), "-g", "daemon off;"],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    try {
      await (await fetch(`${url}/`)).arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`nginx did not start: ${stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return {
    url,
    port,
    dir,
    async close() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await new Promise((resolve) => child.once("exit", resolve));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
