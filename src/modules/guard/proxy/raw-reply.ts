import type { Duplex } from "node:stream";

/** A complete HTTP/1.1 answer written on a raw socket (upgrade requests have no ServerResponse). */
export function rawReply(socket: Duplex, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  const reason =
    {
      400: "Bad Request",
      401: "Unauthorized",
      404: "Not Found",
      502: "Bad Gateway",
      503: "Service Unavailable",
      504: "Gateway Timeout",
    }[status] ?? "Error";
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`,
    );
  } else socket.destroy();
}
