// Helpers for the proxy tests: a real upstream HTTP server, raw HTTP requests with exact headers, and
// visitors that earn real tokens by solving real challenges.
import { once } from "node:events";
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { expect } from "vitest";
import { answersFor, configure, type Seeded, seed, visitor } from "../guard/challenge-helpers.js";
import { STACK_TRACE } from "../guard/helpers.js";
import type { TestServer } from "../support/server.js";

export interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  rawHeaders: string[];
}

export interface Upstream {
  url: string;
  port: number;
  server: Server;
  /** Requests the upstream received, oldest first. */
  seen: Seen[];
  close(): Promise<void>;
}

/** A real upstream: by default it answers every request with a JSON echo of what it received. */
export async function startUpstream(
  handler?: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<Upstream> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders });
    if (handler) return handler(req, res);
    let bytes = 0;
    req.on("data", (chunk: Buffer) => (bytes += chunk.length));
    req.on("end", () => {
      const body = JSON.stringify({ method: req.method, url: req.url, headers: req.headers, bytes });
      res.writeHead(200, { "content-type": "application/json", "x-upstream": "yes" });
      res.end(body);
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    seen,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface Reply {
  status: number;
  headers: IncomingMessage["headers"];
  text: string;
  json: any;
}

/** One request with exactly these headers (node:http adds only Host and Connection). */
export function http(
  url: string,
  opts: { method?: string; headers?: Record<string, string | string[]>; body?: string | Buffer } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    // The request target goes out exactly as written (a URL object would resolve `..` and `//`).
    const [, host, port, path] = /^http:\/\/([^:/]+):(\d+)(.*)$/.exec(url) ?? [];
    if (!host) throw new Error(`http(): not an http://host:port URL: ${url}`);
    const target = { host, port: Number(port), path: path || "/" };
    const req = request(
      { ...target, method: opts.method ?? "GET", headers: opts.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          expect(text).not.toMatch(STACK_TRACE);
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode!, headers: res.headers, text, json });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}

/** Seeds a ground-truth pool (so requests without a token are challenged) and lifts the rate limits. */
export async function withGtPool(t: TestServer, settings: Record<string, unknown> = {}): Promise<Seeded> {
  await configure(t, settings);
  const seeded = await seed(t, { gt: 4, unknown: 2 });
  // The gateway learns about the new pool through pub/sub (eventually, by design): wait until a request
  // without a token is challenged instead of let through with X-HiveGuard-Bypass. (A loop, not
  // expect.poll, because beforeAll hooks call this too.)
  const deadline = Date.now() + 10_000;
  for (;;) {
    const probe = await fetch(`${t.url}/__pool-probe`, { headers: { accept: "application/json" } });
    await probe.arrayBuffer();
    if (probe.status === 401) break;
    if (Date.now() > deadline)
      throw new Error(`the gateway never saw the GT pool (last status ${probe.status})`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return seeded;
}

/** A visitor that solved a real challenge through the public API: its User-Agent and its token. */
export async function solvedVisitor(
  t: TestServer,
  seeded: Seeded,
  userAgent?: string,
): Promise<{ userAgent: string; token: string }> {
  const v = visitor(t, seeded.key, userAgent);
  const generated = await v.generate();
  expect(generated.status).toBe(200);
  const submitted = await v.submit(answersFor(generated.body, seeded));
  expect(submitted.body).toMatchObject({ passed: true });
  return { userAgent: v.userAgent, token: submitted.body.token };
}
