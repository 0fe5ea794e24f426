import { type IncomingMessage, request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { Logger } from "pino";
import { rawReply } from "./raw-reply.js";
import type { UpstreamError } from "./metrics.js";

export interface TunnelOptions {
  req: IncomingMessage;
  socket: Duplex;
  head: Buffer;
  upstream: URL;
  path: string;
  /** Cleaned request headers, flat, including Connection: upgrade and Upgrade. */
  headers: string[];
  timeoutMs: number;
  log: Logger;
  onError(kind: UpstreamError): void;
}

/**
 * A WebSocket (or any HTTP/1.1 upgrade) passed through: the handshake is replayed to the upstream, its
 * answer returned verbatim, and from then on bytes are piped both ways untouched. `proxy_timeout` bounds
 * the handshake only; an open tunnel lives as long as both sides keep it.
 */
export function tunnelUpgrade(options: TunnelOptions): void {
  const { req, socket, head, upstream } = options;
  const send = upstream.protocol === "https:" ? httpsRequest : httpRequest;
  const upstreamReq = send({
    protocol: upstream.protocol,
    hostname: upstream.hostname,
    port: upstream.port,
    method: req.method,
    path: options.path,
    headers: options.headers,
    agent: false,
  });
  let answered = false;
  const fail = (status: 502 | 504, kind: UpstreamError) => {
    if (answered) return;
    answered = true;
    options.onError(kind);
    rawReply(socket, status, { detail: status === 504 ? "Upstream timed out" : "Upstream unreachable" });
  };
  upstreamReq.setTimeout(options.timeoutMs, () => {
    fail(504, "timeout");
    upstreamReq.destroy();
  });
  upstreamReq.on("error", (error) => {
    options.log.warn({ code: (error as { code?: string }).code }, "WebSocket upstream error");
    fail(502, "unreachable");
  });
  socket.once("close", () => upstreamReq.destroy());

  upstreamReq.on("upgrade", (res, upstreamSocket, upstreamHead) => {
    answered = true;
    upstreamReq.setTimeout(0);
    (socket as Socket).setTimeout(0);
    socket.write(statusBlock(res));
    if (upstreamHead.length > 0) socket.write(upstreamHead);
    if (head.length > 0) upstreamSocket.write(head);
    upstreamSocket.on("error", () => socket.destroy());
    socket.on("error", () => upstreamSocket.destroy());
    upstreamSocket.once("close", () => socket.destroy());
    socket.once("close", () => upstreamSocket.destroy());
    upstreamSocket.pipe(socket);
    socket.pipe(upstreamSocket);
  });

  // The upstream declined the upgrade: its plain answer goes back as it is.
  upstreamReq.on("response", (res) => {
    answered = true;
    socket.write(statusBlock(res));
    res.pipe(socket);
  });
  upstreamReq.end();
}

function statusBlock(res: IncomingMessage): string {
  let block = `HTTP/1.1 ${res.statusCode} ${res.statusMessage ?? ""}\r\n`;
  const raw = res.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) block += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return `${block}\r\n`;
}
