// The small upstream every proxy in the benchmark forwards to: a fixed 13-byte body, keep-alive.
import { createServer } from "node:http";

const body = Buffer.from("Hello, world!");
const server = createServer((_req, res) => {
  res.writeHead(200, { "content-type": "text/plain", "content-length": body.length });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT), "127.0.0.1", () => process.send?.("ready"));
