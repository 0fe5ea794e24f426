// `npm run bench -- proxy`: requests/s through nginx, @fastify/http-proxy and HiveGuard (valid token on
// every request) in front of the same small upstream, all on this machine in the same run, plus the p99
// latency HiveGuard adds over direct access at half its peak rate. Starts everything, cleans up after.
import { type ChildProcess, execFileSync, fork, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { createClient } from "redis";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const NGINX = process.env.NGINX_BIN ?? "/usr/sbin/nginx";
const WRK = process.env.WRK_BIN ?? "/usr/bin/wrk";
const USER_AGENT = "hiveguard-bench";

interface Options {
  duration: number;
  connections: number;
  threads: number;
  workers: number;
  peerWorkers: number;
  rounds: number;
}

function parseArgs(args: string[]): Options {
  const get = (name: string, fallback: number) => {
    const i = args.indexOf(`--${name}`);
    return i === -1 ? fallback : Number(args[i + 1]);
  };
  const workers = get("workers", cpus().length);
  return {
    duration: get("duration", 10),
    connections: get("connections", 64),
    threads: get("threads", 2),
    workers,
    peerWorkers: get("peer-workers", 1),
    rounds: get("rounds", 3),
  };
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });

async function waitFor(url: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {
      // not up yet
    }
    if (Date.now() > until) throw new Error(`${url} did not come up`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface WrkResult {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

function ms(value: string, unit: string): number {
  const n = Number(value);
  return unit === "us" ? n / 1000 : unit === "s" ? n * 1000 : unit === "m" ? n * 60_000 : n;
}

function wrk(
  url: string,
  headers: string[],
  opts: { duration: number; connections: number; threads: number; script?: string },
): WrkResult {
  const args = [
    "-t",
    String(opts.threads),
    "-c",
    String(opts.connections),
    "-d",
    `${opts.duration}s`,
    "--latency",
  ];
  for (const header of headers) args.push("-H", header);
  if (opts.script) args.push("-s", opts.script);
  args.push(url);
  const out = execFileSync(WRK, args, { encoding: "utf8" });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0);
  const pct = (p: string) => {
    const m = new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m)`, "m").exec(out);
    return m ? ms(m[1]!, m[2]!) : Number.NaN;
  };
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const errors = non2xx + (socketErrors ? socketErrors.slice(1).reduce((s, v) => s + Number(v), 0) : 0);
  return { rps, p50: pct("50"), p99: pct("99"), errors };
}

export default async function main(args: string[]): Promise<void> {
  const opts = parseArgs(args);
  const databaseUrl = process.env.DATABASE_URL ?? "postgresql://postgres@127.0.0.1:5432/test";
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const tmp = mkdtempSync(join(tmpdir(), "hiveguard-bench-"));
  const children: ChildProcess[] = [];
  const schema = `bench_proxy_${randomBytes(4).toString("hex")}`;
  const redisPrefix = `hiveguard-bench-${randomBytes(4).toString("hex")}`;
  const log = (line: string) => process.stdout.write(`${line}\n`);

  const cleanup = async () => {
    for (const child of children) {
      try {
        if (child.pid) process.kill(-child.pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
    await new Promise((r) => setTimeout(r, 500));
    for (const child of children) {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    const db = new pg.Client({ connectionString: databaseUrl });
    await db
      .connect()
      .then(() => db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`))
      .catch(() => {})
      .finally(() => db.end().catch(() => {}));
    const redis = createClient({ url: redisUrl });
    await redis
      .connect()
      .then(async () => {
        for await (const keys of redis.scanIterator({ MATCH: `${redisPrefix}:*`, COUNT: 1000 }))
          if (keys.length > 0) await redis.del(keys);
      })
      .catch(() => {})
      .finally(() => redis.quit().catch(() => {}));
    rmSync(tmp, { recursive: true, force: true });
  };
  process.once("SIGINT", () => void cleanup().then(() => process.exit(130)));

  try {
    const [upstreamPort, nginxPort, peerPort, hgPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const upstreamUrl = `http://127.0.0.1:${upstreamPort}`;
    const start = (child: ChildProcess) => {
      children.push(child);
      child.stderr?.on("data", (d: Buffer) => process.stderr.write(d));
      return child;
    };

    log(
      `HiveGuard proxy benchmark: wrk -t${opts.threads} -c${opts.connections} -d${opts.duration}s, ${cpus().length} cores`,
    );
    start(
      fork(join(ROOT, "bench/_upstream.mjs"), {
        env: { ...process.env, PORT: String(upstreamPort) },
        detached: true,
        stdio: ["ignore", "ignore", "pipe", "ipc"],
      }),
    );
    await waitFor(upstreamUrl);

    writeFileSync(
      join(tmp, "nginx.conf"),
      `worker_processes 1;
pid ${tmp}/nginx.pid;
error_log ${tmp}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${tmp}/body; proxy_temp_path ${tmp}/proxy; fastcgi_temp_path ${tmp}/fcgi;
  uwsgi_temp_path ${tmp}/uwsgi; scgi_temp_path ${tmp}/scgi;
  upstream site { server 127.0.0.1:${upstreamPort}; keepalive 128; }
  server {
    listen 127.0.0.1:${nginxPort};
    location / {
      proxy_pass http://site;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
  }
}
`,
    );
    start(
      spawn(
        NGINX,
        ["-p", tmp, "-e", join(tmp, "error.log"), "-c", join(tmp, "nginx.conf"), "-g", "daemon off;"],
        { detached: true, stdio: ["ignore", "ignore", "pipe"] },
      ),
    );
    await waitFor(`http://127.0.0.1:${nginxPort}/`);

    start(
      fork(join(ROOT, "bench/_fastify-http-proxy.mjs"), {
        env: {
          ...process.env,
          PORT: String(peerPort),
          TARGET_URL: upstreamUrl,
          WORKERS: String(opts.peerWorkers),
        },
        detached: true,
        stdio: ["ignore", "ignore", "pipe", "ipc"],
      }),
    );
    await waitFor(`http://127.0.0.1:${peerPort}/`);

    const password = randomBytes(12).toString("hex");
    const hgUrl = `http://127.0.0.1:${hgPort}`;
    start(
      spawn(process.execPath, ["--import", "tsx", join(ROOT, "src/main.ts")], {
        cwd: ROOT,
        env: {
          ...process.env,
          NODE_ENV: "production",
          HOST: "127.0.0.1",
          PORT: String(hgPort),
          TARGET_URL: upstreamUrl,
          WORKERS: String(opts.workers),
          DATABASE_URL: `${databaseUrl}${databaseUrl.includes("?") ? "&" : "?"}schema=${schema}`,
          REDIS_URL: redisUrl,
          REDIS_PREFIX: redisPrefix,
          SECRET_KEY: randomBytes(32).toString("hex"),
          DASHBOARD_USERNAME: "admin",
          DASHBOARD_PASSWORD: password,
          HIVEGUARD_DATA_DIR: join(tmp, "data"),
          LOG_LEVEL: "warn",
        },
        detached: true,
        stdio: ["ignore", "ignore", "pipe"],
      }),
    );
    await waitFor(`${hgUrl}/api/v1/ready`, 120_000);
    // Every worker must be serving before the measurement (the primary starts them one by one).
    await new Promise((r) => setTimeout(r, 3000));
    const token = await earnToken(hgUrl, password);
    const headers = [`User-Agent: ${USER_AGENT}`, `Cookie: hiveguard_token=${token}`];

    // Sanity: HiveGuard lets the token through (not a challenge, not a bypass).
    const check = await fetch(`${hgUrl}/`, {
      headers: { "user-agent": USER_AGENT, cookie: `hiveguard_token=${token}` },
    });
    if (check.status !== 200 || check.headers.get("x-hiveguard-bypass"))
      throw new Error(`token not accepted: ${check.status}`);
    await check.arrayBuffer();

    const targets = [
      ["direct upstream", `${upstreamUrl}/`],
      ["nginx (1 worker, keepalive)", `http://127.0.0.1:${nginxPort}/`],
      [
        `@fastify/http-proxy (${opts.peerWorkers} process${opts.peerWorkers > 1 ? "es" : ""})`,
        `http://127.0.0.1:${peerPort}/`,
      ],
      [`HiveGuard (WORKERS=${opts.workers}, token checked)`, `${hgUrl}/`],
    ] as const;
    const results: WrkResult[] = [];
    for (const [name, url] of targets) {
      wrk(url, headers, { ...opts, duration: 2 }); // warm-up (JIT, keep-alive pools)
      const result = wrk(url, headers, opts);
      results.push(result);
      log(
        `  ${name.padEnd(44)} ${result.rps.toFixed(0).padStart(8)} req/s   p50 ${result.p50.toFixed(2)} ms   p99 ${result.p99.toFixed(2)} ms${result.errors ? `   ${result.errors} errors` : ""}`,
      );
    }
    const [direct, nginx, peer, hg] = results as [WrkResult, WrkResult, WrkResult, WrkResult];

    // Added latency at half of HiveGuard's peak rate: each connection waits a fixed delay between requests.
    // On a shared machine the load of other jobs moves p99 by several ms from one 10 s run to the next, so
    // one direct run followed by one HiveGuard run mostly measures that drift: the runs are interleaved
    // (direct, nginx, HiveGuard, then the reverse order) for several rounds, each round's difference is
    // taken against that round's direct run, and the median round is the figure; nginx's added p99 in the
    // same rounds shows what a proxy hop costs on the machine at that moment.
    const rate = Math.round(hg.rps / 2);
    const delayMs = 10;
    const connections = Math.max(1, Math.round((rate * delayMs) / 1000));
    const script = join(tmp, "paced.lua");
    writeFileSync(script, `function delay() return ${delayMs} end\n`);
    const paced = (url: string) =>
      wrk(url, headers, { duration: opts.duration, connections, threads: opts.threads, script });
    const hgAdded: number[] = [];
    const nginxAdded: number[] = [];
    const hgAchieved: number[] = [];
    log("");
    for (let round = 0; round < opts.rounds; round++) {
      const directPaced = paced(`${upstreamUrl}/`);
      let nginxPaced: WrkResult;
      let hgPaced: WrkResult;
      if (round % 2 === 0) {
        nginxPaced = paced(`http://127.0.0.1:${nginxPort}/`);
        hgPaced = paced(`${hgUrl}/`);
      } else {
        hgPaced = paced(`${hgUrl}/`);
        nginxPaced = paced(`http://127.0.0.1:${nginxPort}/`);
      }
      hgAdded.push(hgPaced.p99 - directPaced.p99);
      nginxAdded.push(nginxPaced.p99 - directPaced.p99);
      hgAchieved.push(hgPaced.rps);
      log(
        `  paced round ${round + 1}: p99 direct ${directPaced.p99.toFixed(2)} ms, nginx ${nginxPaced.p99.toFixed(2)} ms, HiveGuard ${hgPaced.p99.toFixed(2)} ms` +
          ` (HiveGuard achieved ${hgPaced.rps.toFixed(0)} req/s)`,
      );
    }
    const added = median(hgAdded);
    const ratioNginx = hg.rps / nginx.rps;
    const ratioPeer = hg.rps / peer.rps;
    log("");
    log(
      `  HiveGuard / nginx:                ${ratioNginx.toFixed(2)}x   (target >= 0.50)  ${ratioNginx >= 0.5 ? "met" : "NOT met"}`,
    );
    log(
      `  HiveGuard / @fastify/http-proxy:  ${ratioPeer.toFixed(2)}x   (target >= 1.20)  ${ratioPeer >= 1.2 ? "met" : "NOT met"}`,
    );
    log(`  nginx / direct:                   ${(nginx.rps / direct.rps).toFixed(2)}x`);
    log(
      `  p99 added over direct at ~${rate} req/s (${connections} connections, ${delayMs} ms apart), median of ${opts.rounds} rounds: ${added.toFixed(2)} ms` +
        `   (rounds: ${hgAdded.map((v) => v.toFixed(2)).join(", ")}; nginx adds ${median(nginxAdded).toFixed(2)} ms; HiveGuard achieved ${median(hgAchieved).toFixed(0)} req/s)  ${added <= 2 ? "met" : "NOT met"} (target <= 2 ms)`,
    );
  } finally {
    await cleanup();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A real visitor's token: seed one GT item, take a challenge through the public API, answer it. */
async function earnToken(base: string, password: string): Promise<string> {
  const dash = {
    authorization: `Basic ${Buffer.from(`admin:${password}`).toString("base64")}`,
    "content-type": "application/json",
  };
  const post = async (path: string, body: unknown, headers: Record<string, string>) => {
    const res = await fetch(`${base}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
    const json = (await res.json()) as any;
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  await post("/dashboard/api/config", { challenge_token_ttl: 3600 }, dash);
  const dataset = await post(
    "/dashboard/api/item-datasets",
    { name: "bench", modality: "image", prompt: "Cat?" },
    dash,
  );
  const key = (await post("/dashboard/api/apikeys", { label: "bench" }, dash)).raw_key as string;
  const api = { "x-hiveguard-key": key, "user-agent": USER_AGENT, "content-type": "application/json" };
  await post(
    "/api/v1/data/items",
    {
      items: [
        {
          dataset_id: dataset.id,
          data_ref: "https://example.com/1.jpg",
          modality: "image",
          ground_truth: "yes",
        },
      ],
    },
    api,
  );
  const res = await fetch(`${base}/api/v1/challenge/generate`, { headers: api });
  const challenge = (await res.json()) as any;
  if (res.status !== 200) throw new Error(`generate: ${res.status} ${JSON.stringify(challenge)}`);
  const submitted = await post(
    "/api/v1/challenge/submit",
    {
      challenge_id: challenge.challenge_id,
      responses: challenge.items.map((item: any) => ({ item_id: item.id, answer: "yes" })),
    },
    api,
  );
  if (!submitted.passed) throw new Error("could not pass the challenge");
  return submitted.token as string;
}
