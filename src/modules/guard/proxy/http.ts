import type { FastifyRequest } from "fastify";
import { z } from "zod";
import { safeEqual } from "../../../platform/auth.js";
import { UnauthorizedError } from "../../../platform/errors.js";
import { defineRoute, type Route } from "../../../platform/http/route.js";
import { peerTrusted } from "../../../platform/http/trusted-proxies.js";
import type { AppDeps } from "../../../platform/module.js";
import { PROMETHEUS_PATH } from "./paths.js";

/**
 * Prometheus metrics are the operators': a scraper sends METRICS_TOKEN as a bearer token, or runs on an
 * address in METRICS_ALLOW_FROM (default: loopback), or sends the dashboard credentials. Anyone else, a
 * visitor of the protected site on PROXY_PORT included, gets 401.
 */
function metricsAccess(deps: AppDeps): (request: FastifyRequest) => Promise<void> {
  const { token, allowFrom } = deps.config.metrics;
  const allowed = peerTrusted(allowFrom);
  return async (request) => {
    const authorization = request.headers.authorization ?? "";
    const bearer = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
    if (token && bearer && safeEqual(bearer, token)) return;
    if (/^Basic\s/i.test(authorization)) {
      await deps.auth.dashboard.authenticate(authorization, request.ip);
      return;
    }
    if (!bearer && allowed(request.ip)) return;
    throw new UnauthorizedError(
      "Metrics need METRICS_TOKEN as a bearer token, the dashboard credentials, or a client address in METRICS_ALLOW_FROM",
      { "WWW-Authenticate": 'Bearer realm="metrics"' },
    );
  };
}

/** `/_hiveguard/metrics`: Prometheus text (request counts by decision, upstream latency, challenge outcomes). */
export function prometheusRoutes(deps: AppDeps): Route[] {
  const authorize = metricsAccess(deps);
  return [
    defineRoute({
      method: "GET",
      path: PROMETHEUS_PATH,
      auth: "public",
      openapi: {
        operationId: "prometheusMetrics",
        tags: ["system"],
        summary: "Prometheus metrics of the proxy and the challenges (text exposition format)",
        description:
          "For operators: `Authorization: Bearer <METRICS_TOKEN>`, a client address in METRICS_ALLOW_FROM " +
          "(default: loopback) without credentials, or the dashboard credentials (HTTP Basic).",
        security: [{ metricsToken: [] }, { dashboardBasic: [] }, {}],
        responses: {
          200: { description: "Metrics", content: { "text/plain": { schema: z.string() } } },
          401: {
            description: "Not an operator: no or a wrong token, and an address outside METRICS_ALLOW_FROM",
            content: { "application/json": { schema: { $ref: "#/components/schemas/HTTPError" } } },
          },
        },
      },
      handler: async (_input, request, reply) => {
        await authorize(request);
        const { contentType, body } = await deps.services.proxyMetrics.text();
        return reply.header("content-type", contentType).header("cache-control", "no-store").send(body);
      },
    }),
  ];
}
