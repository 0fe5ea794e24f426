import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from "node:http";
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import { type FastifyTRPCPluginOptions, fastifyTRPCPlugin } from "@trpc/server/adapters/fastify";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyServerOptions,
} from "fastify";
import { registerGraphQL } from "./graphql/plugin.js";
import { dashboardExtraPaths, registerDashboardHttp } from "./modules/dashboard/http.js";
import { challengeExtraPaths, registerChallengeHttp } from "./modules/guard/challenges/http.js";
import { guardExtraPaths, registerGuardHttp } from "./modules/guard/labels/http.js";
import { mlExtraPaths, registerMlHttp } from "./modules/guard/ml/http.js";
import { registerTrackingRoutes } from "./modules/tracking/http.js";
import { trackingOpenApiPaths } from "./modules/tracking/openapi.js";
import type { Gateway } from "./modules/guard/proxy/gateway.js";
import { registerProxyHttp } from "./modules/guard/proxy/http.js";
import type { ProxyMetrics } from "./modules/guard/proxy/metrics.js";
import { ownPathMatcher } from "./modules/guard/proxy/paths.js";
import { toWireError, type WireError } from "./platform/errors.js";
import { type AppDeps, createContext } from "./trpc/context.js";
import { buildOpenApiDocument } from "./trpc/openapi.js";
import { registerRestFacade, requestInfo } from "./trpc/rest.js";
import { type AppRouter, appRouter } from "./trpc/router.js";

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
const BODY_LIMIT = 10 * 1024 * 1024;

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface ProxyParts {
  gateway: Gateway;
  metrics: ProxyMetrics;
  /** Receives Fastify's own request handler, for the PROXY_PORT listener to hand /_hiveguard/* to. */
  onFastifyHandler(handler: NodeHandler): void;
}

/**
 * Composes the HTTP surface: REST facade, /trpc, /graphql, the OpenAPI document and its docs page, and in
 * front of them the reverse proxy: the node:http server hands every path that is not HiveGuard's own
 * straight to the gateway, so proxied requests never go through Fastify's routing and hooks.
 */
export async function buildApp(deps: AppDeps, proxy?: ProxyParts): Promise<FastifyInstance> {
  const isOwn = ownPathMatcher({
    siteOnMainPort: Boolean(deps.config.targetUrl) && deps.config.proxy.port === undefined,
  });
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    // request.ip (token binding on the hosted page) follows the same TRUSTED_PROXIES as the gateway.
    trustProxy: deps.config.proxy.trustedProxies.length > 0 ? deps.config.proxy.trustedProxies : false,
    ...(proxy && {
      serverFactory: (fastifyHandler: NodeHandler, options: FastifyServerOptions) => {
        proxy.onFastifyHandler(fastifyHandler);
        const server = createServer((req, res) => {
          if (isOwn(req.url ?? "/")) fastifyHandler(req, res);
          else proxy.gateway.handle(req, res);
        });
        // What Fastify applies to the servers it creates itself.
        server.keepAliveTimeout = options.keepAliveTimeout ?? 72_000;
        server.requestTimeout = options.requestTimeout ?? 0;
        server.setTimeout(options.connectionTimeout ?? 0);
        server.on("upgrade", (req: IncomingMessage, socket, head: Buffer) => {
          if (isOwn(req.url ?? "/"))
            socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
          else proxy.gateway.upgrade(req, socket, head);
        });
        return server;
      },
    }),
    bodyLimit: BODY_LIMIT,
    // Keep-alive connections that sit idle are closed on shutdown; in-flight requests finish first.
    forceCloseConnections: "idle",
    // Accept a caller's request id when it is harmless, so logs can be followed across services.
    // Errors Node's HTTP parser raises before a request exists (oversized headers, malformed request
    // lines) are answered in the documented shape too.
    clientErrorHandler: (error, socket) => {
      const code = (error as { code?: string }).code;
      const status = code === "HPE_HEADER_OVERFLOW" ? 431 : 400;
      const body = JSON.stringify({ detail: STATUS_CODES[status] });
      if (socket.writable) {
        socket.end(
          `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      } else {
        socket.destroy(error);
      }
    },
    genReqId: (req) => {
      const incoming = req.headers["x-request-id"];
      return typeof incoming === "string" && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
  });

  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
  });
  // While shutting down, answers to in-flight requests close their connection, so keep-alive clients
  // do not hold the process open (new requests already get 503 from Fastify's return503OnClosing).
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", async (request, reply) => {
    if (closing) reply.header("connection", "close");
    securityHeaders(request.protocol, reply);
  });

  // An empty JSON body means "no input" (e.g. POST /dashboard/api/ml/train), not a parse error.
  const defaultJsonParser = app.getDefaultJsonParser("error", "error");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    const text = body.toString();
    if (text.trim() === "") return done(null, undefined);
    defaultJsonParser(request, text, done);
  });

  app.setErrorHandler((error, request, reply) => {
    const wire = fastifyErrorToWire(error as FastifyError) ?? toWireError(error, { log: request.log });
    return reply.code(wire.status).headers(wire.headers).send(wire.body);
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ detail: `Not found: ${request.method} ${request.url.split("?")[0]}` }),
  );

  const openApiDocument = buildOpenApiDocument(appRouter, {
    version: deps.version,
    extraPaths: {
      ...guardExtraPaths,
      ...challengeExtraPaths,
      ...mlExtraPaths,
      ...trackingOpenApiPaths,
      ...dashboardExtraPaths,
    },
  });
  app.get("/openapi.json", { schema: { hide: true } }, async () => openApiDocument);
  await app.register(fastifySwagger, {
    mode: "static",
    specification: { document: openApiDocument as never },
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: "/docs",
    uiConfig: { docExpansion: "list", deepLinking: true, tryItOutEnabled: true },
    staticCSP: true,
    // Swagger UI's own CSP lets same-origin pages frame the docs; nothing needs to.
    transformStaticCSP: (header: string) =>
      header.replace("frame-ancestors 'self'", "frame-ancestors 'none'"),
  });

  registerRestFacade(app, appRouter, deps);
  registerGuardHttp(app, deps);
  registerDashboardHttp(app, deps);
  registerChallengeHttp(app, deps);
  await registerMlHttp(app, deps);
  if (proxy) registerProxyHttp(app, proxy.metrics);

  await app.register(fastifyTRPCPlugin, {
    prefix: "/trpc",
    trpcOptions: {
      router: appRouter,
      createContext: ({ req }) => createContext(deps, requestInfo(req), req.log),
      onError: ({ error, req }) => {
        if (error.code === "INTERNAL_SERVER_ERROR")
          req.log.error({ err: error.cause ?? error }, "tRPC call failed");
      },
    } satisfies FastifyTRPCPluginOptions<AppRouter>["trpcOptions"],
  });

  registerGraphQL(app, appRouter, deps);
  await registerTrackingRoutes(app, deps);
  return app;
}

/** HSTS lifetime sent on HTTPS answers (one year; without includeSubDomains, which is the site's call). */
export const HSTS = "max-age=31536000";

/**
 * Headers on every answer HiveGuard gives from its own paths (the proxied site's answers are the site's):
 * - `X-Content-Type-Options: nosniff` everywhere;
 * - HTML pages cannot be framed by another origin (clickjacking of the challenge page, the docs, the tracking
 *   pages, GraphiQL): `frame-ancestors 'none'` is added to a page's own CSP, or is the CSP when it has none,
 *   plus `X-Frame-Options: DENY` for old browsers; Swagger UI's CSP allows 'self' framing, which is tightened;
 * - `Strict-Transport-Security` when the request came over HTTPS (directly, or per X-Forwarded-Proto from a
 *   peer listed in TRUSTED_PROXIES): never on plain HTTP, where it would be ignored anyway.
 */
function securityHeaders(protocol: string, reply: FastifyReply): void {
  reply.header("x-content-type-options", "nosniff");
  if (protocol === "https") reply.header("strict-transport-security", HSTS);
  const type = String(reply.getHeader("content-type") ?? "");
  if (!type.startsWith("text/html")) return;
  const csp = reply.getHeader("content-security-policy");
  if (typeof csp === "string" && csp.trim() !== "") {
    const directives = csp
      .split(";")
      .map((d) => d.trim())
      .filter((d) => d !== "" && !d.startsWith("frame-ancestors"));
    reply.header("content-security-policy", [...directives, "frame-ancestors 'none'"].join("; "));
  } else {
    reply.header("content-security-policy", "frame-ancestors 'none'");
  }
  reply.header("x-frame-options", "DENY");
}

/** Fastify's own request errors (body parsing, limits) in the documented shapes. */
function fastifyErrorToWire(error: FastifyError): WireError | null {
  const status = error.statusCode;
  if (!status || status >= 500 || !error.code?.startsWith("FST_")) {
    return error instanceof SyntaxError && status === 400 ? jsonInvalid() : null;
  }
  switch (error.code) {
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return jsonInvalid();
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return {
        status: 422,
        body: { detail: [{ loc: ["body"], msg: "Unsupported Content-Type", type: "content_type" }] },
        headers: {},
      };
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return { status: 413, body: { detail: "Request body too large" }, headers: {} };
    default:
      return { status, body: { detail: STATUS_CODES[status] ?? "Bad request" }, headers: {} };
  }
}

function jsonInvalid(): WireError {
  return {
    status: 422,
    body: { detail: [{ loc: ["body"], msg: "Body is not valid JSON", type: "json_invalid" }] },
    headers: {},
  };
}
