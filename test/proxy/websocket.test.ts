// WebSocket pass-through: allowed clients get a working tunnel, others the same answers as plain requests.
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import type { Seeded } from "../guard/challenge-helpers.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { solvedVisitor, withGtPool } from "./helpers.js";

/** Opens a WebSocket; resolves with the socket, or with the HTTP status the handshake was refused with. */
function connect(url: string, headers: Record<string, string>): Promise<WebSocket | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
    });
    ws.once("error", reject);
  });
}

describe("WebSocket pass-through", () => {
  let upstream: Server;
  let wss: WebSocketServer;
  let t: TestServer;
  let seeded: Seeded;
  const upgrades: Record<string, string | string[] | undefined>[] = [];
  beforeAll(async () => {
    upstream = createServer((_req, res) => res.end("plain"));
    wss = new WebSocketServer({ server: upstream });
    wss.on("connection", (socket, req) => {
      upgrades.push(req.headers);
      socket.on("message", (data, isBinary) => socket.send(isBinary ? data : `echo:${data.toString()}`));
    });
    upstream.listen(0, "127.0.0.1");
    await once(upstream, "listening");
    const port = (upstream.address() as AddressInfo).port;
    t = await startTestServer({ env: { TARGET_URL: `http://127.0.0.1:${port}` } });
    seeded = await withGtPool(t);
  });
  afterAll(async () => {
    await t?.close();
    for (const client of wss?.clients ?? []) client.terminate();
    wss?.close();
    upstream?.closeAllConnections();
    await new Promise<void>((resolve) => upstream?.close(() => resolve()));
  });

  const wsUrl = (path: string) => `${t.url.replace(/^http/, "ws")}${path}`;

  it("tunnels a WebSocket for a visitor with a valid token, both ways, text and binary", async () => {
    const { userAgent, token } = await solvedVisitor(t, seeded);
    const ws = await connect(wsUrl("/live?room=1"), {
      "user-agent": userAgent,
      cookie: `hiveguard_token=${token}; x=1`,
    });
    expect(ws).toBeInstanceOf(WebSocket);
    const socket = ws as WebSocket;
    const replies: string[] = [];
    socket.on("message", (data) => replies.push(data.toString()));
    socket.send("hello");
    socket.send(Buffer.from("bin"));
    await expect.poll(() => replies).toEqual(["echo:hello", "bin"]);
    socket.close();
    // The upstream saw the upgrade without the token.
    const seen = upgrades.at(-1)!;
    expect(seen.cookie).toBe("x=1");
    expect(JSON.stringify(seen)).not.toContain(token);
    expect(seen["x-forwarded-for"]).toBe("127.0.0.1");
  });

  it("refuses the handshake with 401 without a token, and 404 on HiveGuard's own paths", async () => {
    expect(await connect(wsUrl("/live"), {})).toBe(401);
    expect(await connect(wsUrl("/live"), { "x-hiveguard-token": "forged.token.value" })).toBe(401);
    expect(await connect(wsUrl("/api/v1/health"), {})).toBe(404);
  });
});
