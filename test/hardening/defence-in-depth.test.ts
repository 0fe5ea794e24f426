// Defence in depth: X-Forwarded-Host believed only from trusted proxies, the API description readable only
// by operators when configured so, and slow clients that cannot hold the listener that fronts the site.
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, send } from "../guard/helpers.js";
import { startUpstream, type Upstream } from "../proxy/helpers.js";
import { startTestServer, type TestServer } from "../support/server.js";

async function sessionCookie(t: TestServer): Promise<string> {
  const res = await call(
    t,
    "/dashboard/login",
    send("POST", { username: "admin", password: t.shared.dashboardPassword }),
  );
  expect(res.status).toBe(200);
  return res.headers.get("set-cookie")!.split(";")[0]!;
}

/** A change made with the session cookie from a page on evil.example that also claims that host. */
async function forgedHostChange(t: TestServer, cookie: string) {
  return call(t, "/dashboard/api/config", {
    method: "POST",
    headers: {
      cookie,
      "content-type": "application/json",
      "x-requested-with": "XMLHttpRequest",
      origin: "http://evil.example",
      "x-forwarded-host": "evil.example",
    },
    body: JSON.stringify({ risk_threshold: 0.42 }),
  });
}

describe("X-Forwarded-Host in the CSRF Origin check", () => {
  let direct: TestServer;
  let behindProxy: TestServer;
  beforeAll(async () => {
    direct = await startTestServer();
    behindProxy = await startTestServer({ env: { TRUSTED_PROXIES: "loopback" } });
  });
  afterAll(async () => {
    await behindProxy?.close();
    await direct?.close();
  });

  it("is ignored from a peer that is not a trusted proxy", async () => {
    const res = await forgedHostChange(direct, await sessionCookie(direct));
    expect(res.status).toBe(403);
    expect(res.body.detail).toMatch(/Cross-origin/);
    const config = await call(direct, "/dashboard/api/config", {
      headers: { authorization: direct.dashboardAuth },
    });
    expect(config.body.risk_threshold).not.toBe(0.42);
  });

  it("is believed from a trusted proxy (the host the browser really used)", async () => {
    const res = await forgedHostChange(behindProxy, await sessionCookie(behindProxy));
    expect(res.status).toBe(200);
  });
});

describe("API_DOCS", () => {
  let open: TestServer;
  let closed: TestServer;
  beforeAll(async () => {
    // One after the other: two start-ups at once on a loaded 2-core machine can exceed plugin timeouts.
    open = await startTestServer();
    closed = await startTestServer({ env: { API_DOCS: "dashboard" } });
  });
  afterAll(async () => {
    await Promise.all([open?.close(), closed?.close()]);
  });

  const introspect = (t: TestServer, headers: Record<string, string> = {}) =>
    call(t, "/graphql", send("POST", { query: "{ __schema { queryType { name } } }" }, headers));

  it("public (the default outside production): anyone reads /openapi.json, /docs and the schema", async () => {
    expect((await call(open, "/openapi.json")).status).toBe(200);
    expect((await call(open, "/docs/")).status).toBe(200);
    expect((await introspect(open)).body.data.__schema.queryType.name).toBe("Query");
  });

  it("dashboard (the default in production): only operators do", async () => {
    for (const path of ["/openapi.json", "/docs", "/docs/", "/docs/static/index.html"]) {
      const res = await call(closed, path);
      expect(res.status, path).toBe(401);
      expect(res.body, path).toEqual({ detail: "Unauthorized" });
    }
    const auth = { authorization: closed.dashboardAuth };
    expect((await call(closed, "/openapi.json", { headers: auth })).body.openapi).toMatch(/^3\./);
    expect((await call(closed, "/docs/", { headers: auth })).status).toBe(200);

    const anonymous = await introspect(closed);
    expect(anonymous.body.data ?? null).toBeNull();
    expect(JSON.stringify(anonymous.body.errors)).toMatch(/introspection/i);
    expect((await introspect(closed, auth)).body.data.__schema.queryType.name).toBe("Query");
    // Health stays public either way.
    expect((await call(closed, "/api/v1/health")).status).toBe(200);
  });
});

describe("slow clients on the listener that fronts the site", () => {
  let upstream: Upstream;
  let t: TestServer;
  const HEADERS_MS = 1000;
  const REQUEST_MS = 3000;
  const SLOW = 50;
  beforeAll(async () => {
    upstream = await startUpstream();
    // No ground-truth pool: fail-open lets every request through to the upstream (no challenge needed).
    t = await startTestServer({
      env: {
        TARGET_URL: upstream.url,
        HTTP_HEADERS_TIMEOUT_MS: String(HEADERS_MS),
        HTTP_REQUEST_TIMEOUT_MS: String(REQUEST_MS),
      },
    });
  });
  afterAll(async () => {
    await t?.close();
    await upstream?.close();
  });

  function open(): Promise<Socket> {
    const { port } = new URL(t.url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), "127.0.0.1", () => resolve(socket));
      socket.on("error", reject);
    });
  }
  const closed = (socket: Socket) =>
    new Promise<number>((resolve) => {
      const started = Date.now();
      if (socket.destroyed) resolve(0);
      socket.on("close", () => resolve(Date.now() - started));
    });

  /** Opens `n` connections that each send `start` and then one more piece every 200 ms, for ever. */
  async function trickle(n: number, start: string, piece: string) {
    const sockets = await Promise.all(Array.from({ length: n }, open));
    const cut = sockets.map((socket) => {
      socket.on("error", () => {});
      // Read what the server answers (its 408 and FIN), so the socket closes when the server closes it.
      socket.resume();
      socket.write(start);
      return closed(socket);
    });
    const drip = setInterval(() => {
      for (const socket of sockets) if (!socket.destroyed) socket.write(piece);
    }, 200);
    return {
      /** Milliseconds until the last of them was closed by the server. */
      allCut: () => Promise.all(cut).then((times) => Math.max(...times)),
      stop() {
        clearInterval(drip);
        for (const socket of sockets) socket.destroy();
      },
    };
  }

  async function stillServed() {
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${t.url}/still-served`, { signal: AbortSignal.timeout(10_000) });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
  }

  it("cuts connections that trickle their headers (slowloris) and keeps serving everyone else", async () => {
    const slow = await trickle(SLOW, "GET /page HTTP/1.1\r\nHost: site\r\n", "X-a: b\r\n");
    try {
      await stillServed();
      const cutAfter = await slow.allCut();
      console.log(
        `${SLOW} slowloris connections cut after ${cutAfter} ms (headers timeout ${HEADERS_MS} ms)`,
      );
      expect(cutAfter).toBeGreaterThanOrEqual(HEADERS_MS - 100);
    } finally {
      slow.stop();
    }
  }, 30_000);

  it("cuts trickled request bodies at the request timeout; none reaches the upstream whole", async () => {
    const slow = await trickle(
      40,
      "POST /upload HTTP/1.1\r\nHost: site\r\nContent-Length: 100000\r\n\r\n",
      "x",
    );
    try {
      await stillServed();
      const cutAfter = await slow.allCut();
      console.log(`${SLOW} trickled bodies cut after ${cutAfter} ms (request timeout ${REQUEST_MS} ms)`);
      expect(cutAfter).toBeGreaterThanOrEqual(REQUEST_MS - HEADERS_MS);
    } finally {
      slow.stop();
    }
    const uploads = upstream.seen.filter((s) => s.url === "/upload");
    expect(uploads.length).toBeLessThanOrEqual(SLOW);
  }, 30_000);

  it("lets a slow but steady visitor finish (a 64 kB body over about 1.5 s)", async () => {
    let remaining = 8;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        await new Promise((resolve) => setTimeout(resolve, 180));
        controller.enqueue(new Uint8Array(8192).fill(97));
        if (--remaining === 0) controller.close();
      },
    });
    const steady = await fetch(`${t.url}/steady-upload`, {
      method: "POST",
      body,
      duplex: "half",
      signal: AbortSignal.timeout(10_000),
    } as RequestInit);
    expect(steady.status).toBe(200);
    expect(((await steady.json()) as { bytes: number }).bytes).toBe(8 * 8192);
  });
});
