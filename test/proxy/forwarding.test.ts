// Forwarding: streaming both ways, limits, timeouts, an unreachable upstream, header hygiene, client identity.
import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clients } from "../guard/helpers.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { http, solvedVisitor, startUpstream, type Upstream, withGtPool } from "./helpers.js";

const MiB = 1024 * 1024;
const BROWSER = { accept: "text/html", "user-agent": "Mozilla/5.0 browser" };

/** `total` bytes produced lazily in 64 KiB chunks (never held in memory at once). */
function bytes(total: number): Readable {
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  let left = total;
  return new Readable({
    read() {
      if (left <= 0) return this.push(null);
      const size = Math.min(left, chunk.length);
      left -= size;
      this.push(size === chunk.length ? chunk : chunk.subarray(0, size));
    },
  });
}

describe("streaming and limits", () => {
  let upstream: Upstream;
  let t: TestServer;
  const SIZE = 256 * MiB;
  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      if (req.url === "/download") {
        res.writeHead(200, { "content-type": "application/octet-stream" });
        void pipeline(bytes(SIZE), res).catch(() => {});
        return;
      }
      let count = 0;
      req.on("data", (chunk: Buffer) => (count += chunk.length));
      req.on("end", () =>
        res.end(JSON.stringify({ bytes: count, te: req.headers["transfer-encoding"] ?? null })),
      );
    });
    t = await startTestServer({ env: { TARGET_URL: upstream.url, PROXY_BODY_LIMIT: String(512 * MiB) } });
  });
  afterAll(async () => {
    await t?.close();
    await upstream?.close();
  });

  it("streams a 256 MiB download and a 256 MiB upload without buffering them", async () => {
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    try {
      const received = await new Promise<number>((resolve, reject) => {
        request(`${t.url}/download`, (res) => {
          expect(res.statusCode).toBe(200);
          let count = 0;
          res.on("data", (chunk: Buffer) => (count += chunk.length));
          res.on("end", () => resolve(count));
          res.on("error", reject);
        })
          .on("error", reject)
          .end();
      });
      expect(received).toBe(SIZE);

      const uploaded = await new Promise<any>((resolve, reject) => {
        const req = request(
          `${t.url}/upload`,
          { method: "POST", headers: { "content-type": "application/octet-stream" } },
          (res) => {
            let text = "";
            res.on("data", (chunk: Buffer) => (text += chunk.toString()));
            res.on("end", () => resolve({ status: res.statusCode, body: JSON.parse(text) }));
          },
        );
        req.on("error", reject);
        void pipeline(bytes(SIZE), req).catch(reject);
      });
      expect(uploaded.status).toBe(200);
      expect(uploaded.body.bytes).toBe(SIZE);
    } finally {
      clearInterval(sampler);
    }
    // Everything (client, HiveGuard, upstream) is in this process: buffering either body would add ≥ 256 MiB.
    expect(peak - before).toBeLessThan(96 * MiB);
  });

  it("answers 413 for a declared or a streamed body over PROXY_BODY_LIMIT", async () => {
    const small = await startTestServer({ env: { TARGET_URL: upstream.url, PROXY_BODY_LIMIT: "1000" } });
    try {
      await withGtPool(small);
      await clients(small).dash.post("/dashboard/api/proxy-rules", {
        pattern: "/upload",
        match_type: "exact",
      });
      const declared = await http(`${small.url}/upload`, { method: "POST", body: "x".repeat(1001) });
      expect(declared.status).toBe(413);
      expect(declared.json).toEqual({ detail: "Request body too large" });
      const fits = await http(`${small.url}/upload`, { method: "POST", body: "x".repeat(1000) });
      expect(fits.json.bytes).toBe(1000);

      const streamed = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = request(
          `${small.url}/upload`,
          { method: "POST", headers: { "transfer-encoding": "chunked" } },
          (res) => {
            let text = "";
            res.on("data", (chunk: Buffer) => (text += chunk.toString()));
            res.on("end", () => resolve({ status: res.statusCode!, text }));
          },
        );
        req.on("error", reject);
        req.write("y".repeat(600));
        setTimeout(() => req.end("y".repeat(600)), 50);
      });
      expect(streamed.status).toBe(413);
      expect(JSON.parse(streamed.text)).toEqual({ detail: "Request body too large" });
    } finally {
      await small.close();
    }
  });
});

describe("upstream failures", () => {
  it("answers 504 when the upstream is slower than proxy_timeout, as a page for browsers", async () => {
    const slow = await startUpstream((_req, res) => {
      setTimeout(() => res.end("late"), 3000);
    });
    const t = await startTestServer({ env: { TARGET_URL: slow.url } });
    try {
      expect((await clients(t).dash.post("/dashboard/api/config", { proxy_timeout: 0.3 })).status).toBe(200);
      const started = Date.now();
      const api = await http(`${t.url}/slow`);
      expect(api.status).toBe(504);
      expect(api.json).toEqual({ detail: "Upstream timed out" });
      expect(Date.now() - started).toBeLessThan(2500);
      const page = await http(`${t.url}/slow`, { headers: BROWSER });
      expect(page.status).toBe(504);
      expect(page.headers["content-type"]).toContain("text/html");
      expect(page.text).toContain("Upstream timed out");

      expect((await clients(t).dash.post("/dashboard/api/config", { proxy_timeout: 10 })).status).toBe(200);
      const patient = await http(`${t.url}/slow`);
      expect(patient.status).toBe(200);
      expect(patient.text).toBe("late");
    } finally {
      await t.close();
      await slow.close();
    }
  });

  it("answers 502 when the upstream is unreachable: JSON for clients, a plain page for browsers", async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", () => resolve()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const t = await startTestServer({ env: { TARGET_URL: `http://127.0.0.1:${port}` } });
    try {
      const api = await http(`${t.url}/x`);
      expect(api.status).toBe(502);
      expect(api.json).toEqual({ detail: "Upstream unreachable" });
      const page = await http(`${t.url}/x`, { headers: BROWSER });
      expect(page.status).toBe(502);
      expect(page.headers["content-type"]).toContain("text/html");
      const metrics = await http(`${t.url}/_hiveguard/metrics`);
      expect(metrics.text).toMatch(/hiveguard_proxy_upstream_errors_total\{kind="unreachable"\} 2/);
      // HiveGuard itself still answers.
      expect((await http(`${t.url}/api/v1/health`)).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe("header hygiene and client identity", () => {
  let upstream: Upstream;
  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      res.writeHead(200, [
        "content-type",
        "application/json",
        "connection",
        "keep-alive, x-upstream-private",
        "keep-alive",
        "timeout=5",
        "x-upstream-private",
        "hop",
        "set-cookie",
        "a=1; Path=/",
        "set-cookie",
        "b=2; Path=/",
      ]);
      res.end(JSON.stringify({ url: req.url, headers: req.headers }));
    });
  });
  afterAll(async () => {
    await upstream?.close();
  });

  it("removes hop-by-hop headers both ways, sets X-Forwarded-*, keeps end-to-end headers and repeated ones", async () => {
    const t = await startTestServer({ env: { TARGET_URL: upstream.url } });
    try {
      const res = await http(`${t.url}/h`, {
        headers: {
          host: "shop.example",
          connection: "keep-alive, x-private-hop",
          "x-private-hop": "secret",
          "keep-alive": "timeout=99",
          "proxy-authorization": "Basic Zm9vOmJhcg==",
          te: "trailers",
          "x-forwarded-for": "6.6.6.6",
          "x-forwarded-host": "evil.example",
          "x-forwarded-proto": "https",
          "x-custom": "kept",
          authorization: "Bearer site-token",
        },
      });
      expect(res.status).toBe(200);
      const seen = res.json.headers;
      expect(seen["x-private-hop"]).toBeUndefined();
      expect(seen["keep-alive"]).toBeUndefined();
      expect(seen["proxy-authorization"]).toBeUndefined();
      expect(seen.te).toBeUndefined();
      expect(seen["x-custom"]).toBe("kept");
      expect(seen.authorization).toBe("Bearer site-token");
      // The peer (127.0.0.1) is not a trusted proxy: what the client claimed is replaced.
      expect(seen["x-forwarded-for"]).toBe("127.0.0.1");
      expect(seen["x-forwarded-host"]).toBe("shop.example");
      expect(seen["x-forwarded-proto"]).toBe("http");
      expect(seen.host).toBe("shop.example");

      expect(res.headers["x-upstream-private"]).toBeUndefined();
      expect(res.headers["keep-alive"]).not.toBe("timeout=77");
      expect(res.headers["set-cookie"]).toEqual(["a=1; Path=/", "b=2; Path=/"]);
    } finally {
      await t.close();
    }
  });

  it("rewrites Host to the upstream's when PROXY_HOST_HEADER=rewrite", async () => {
    const t = await startTestServer({ env: { TARGET_URL: upstream.url, PROXY_HOST_HEADER: "rewrite" } });
    try {
      const res = await http(`${t.url}/h`, { headers: { host: "shop.example" } });
      expect(res.json.headers.host).toBe(`127.0.0.1:${upstream.port}`);
      expect(res.json.headers["x-forwarded-host"]).toBe("shop.example");
    } finally {
      await t.close();
    }
  });

  it("believes X-Forwarded-For only from TRUSTED_PROXIES, and binds tokens to that client address", async () => {
    const t = await startTestServer({
      env: { TARGET_URL: upstream.url, TRUSTED_PROXIES: "127.0.0.1/8, ::1" },
    });
    try {
      const seeded = await withGtPool(t);
      const forwarded = await http(`${t.url}/h`, {
        headers: {
          "x-forwarded-for": "203.0.113.7",
          "x-forwarded-proto": "https",
          "x-forwarded-host": "shop.example",
        },
      });
      // No token: challenged.
      expect(forwarded.status).toBe(401);

      // A visitor behind the trusted proxy solves a challenge as 203.0.113.7 ...
      const userAgent = "Mozilla/5.0 behind-a-proxy";
      const viaProxy = { "x-forwarded-for": "203.0.113.7", "user-agent": userAgent };
      const fetchAs = (path: string, init: RequestInit = {}) =>
        fetch(`${t.url}${path}`, {
          ...init,
          headers: { ...viaProxy, "x-hiveguard-key": seeded.key, ...init.headers },
        });
      const challenge = await (await fetchAs("/api/v1/challenge/generate")).json();
      const { answersFor } = await import("../guard/challenge-helpers.js");
      const submitted = await (
        await fetchAs("/api/v1/challenge/submit", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(answersFor(challenge, seeded)),
        })
      ).json();
      expect(submitted.passed).toBe(true);

      // ... and passes from that address, the upstream seeing the whole chain.
      const pass = await http(`${t.url}/h`, {
        headers: { ...viaProxy, "x-forwarded-proto": "https", "x-hiveguard-token": submitted.token },
      });
      expect(pass.status).toBe(200);
      expect(pass.json.headers["x-forwarded-for"]).toBe("203.0.113.7, 127.0.0.1");
      expect(pass.json.headers["x-forwarded-proto"]).toBe("https");
      // The same token from another forwarded address is someone else's.
      const elsewhere = await http(`${t.url}/h`, {
        headers: { ...viaProxy, "x-forwarded-for": "198.51.100.1", "x-hiveguard-token": submitted.token },
      });
      expect(elsewhere.status).toBe(401);
    } finally {
      await t.close();
    }
  });

  it("ignores X-Forwarded-For from an untrusted peer for token binding", async () => {
    const t = await startTestServer({ env: { TARGET_URL: upstream.url } });
    try {
      const seeded = await withGtPool(t);
      const { userAgent, token } = await solvedVisitor(t, seeded);
      // The token was bound to 127.0.0.1; a spoofed X-Forwarded-For does not change who the client is.
      const res = await http(`${t.url}/h`, {
        headers: { "user-agent": userAgent, "x-forwarded-for": "10.9.9.9", "x-hiveguard-token": token },
      });
      expect(res.status).toBe(200);
    } finally {
      await t.close();
    }
  });
});

describe("configuration", () => {
  it("refuses a malformed TRUSTED_PROXIES or PROXY_HOST_HEADER at start-up", async () => {
    await expect(startTestServer({ env: { TRUSTED_PROXIES: "10.0.0.0/99" } })).rejects.toThrow(
      /TRUSTED_PROXIES/,
    );
    await expect(startTestServer({ env: { TRUSTED_PROXIES: "not-an-ip" } })).rejects.toThrow(
      /TRUSTED_PROXIES/,
    );
    await expect(startTestServer({ env: { PROXY_HOST_HEADER: "keep" } })).rejects.toThrow(
      /PROXY_HOST_HEADER/,
    );
  });
});
