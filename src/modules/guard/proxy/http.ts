import type { FastifyInstance } from "fastify";
import type { ProxyMetrics } from "./metrics.js";
import { PROMETHEUS_PATH } from "./paths.js";

/** `/_hiveguard/metrics`: Prometheus text (request counts by decision, upstream latency, challenge outcomes). */
export function registerProxyHttp(app: FastifyInstance, metrics: ProxyMetrics): void {
  app.get(PROMETHEUS_PATH, { schema: { hide: true } }, async (_request, reply) => {
    const { contentType, body } = await metrics.text();
    return reply.header("content-type", contentType).header("cache-control", "no-store").send(body);
  });
}
