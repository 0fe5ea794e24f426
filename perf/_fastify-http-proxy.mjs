// The plain Node peer: Fastify with @fastify/http-proxy (reply-from + undici) in front of the upstream.
import cluster from "node:cluster";
import proxy from "@fastify/http-proxy";
import Fastify from "fastify";

const workers = Number(process.env.WORKERS ?? 1);
if (cluster.isPrimary && workers > 1) {
  let ready = 0;
  for (let i = 0; i < workers; i++)
    cluster.fork().on("message", (m) => m === "ready" && ++ready === workers && process.send?.("ready"));
  process.on("SIGTERM", () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.kill();
    process.exit(0);
  });
} else {
  const app = Fastify({ logger: false });
  await app.register(proxy, { upstream: process.env.TARGET_URL });
  await app.listen({ host: "127.0.0.1", port: Number(process.env.PORT) });
  process.send?.("ready");
}
