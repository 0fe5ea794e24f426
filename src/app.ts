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
  LogController,
} from "fastify";
import type { Logger } from "pino";
import { registerGraphQL } from "./graphql/plugin.js";
import { listenerOptions } from "./platform/http/listener.js";
import { quoteNonFiniteTokens } from "./platform/http/non-finite-json.js";
import { peerTrusted } from "./platform/http/trusted-proxies.js";
import { registerRoutes, routesOpenApiPaths } from "./platform/http/route.js";
import {
  type FrontHandler,
  type ModuleDefinition,
  type ModuleInstance,
  type OwnPath,
  ownPathMatcher,
} from "./platform/module.js";
import {
  errorMessageOf,
  findNul,
  NUL_MESSAGE,
  toWireError,
  ValidationError,
  type WireError,
} from "./platform/errors.js";
import { trackAllowedMethods } from "./platform/method-not-allowed.js";
import { type AppDeps, createContext } from "./trpc/context.js";
import { buildOpenApiDocument } from "./trpc/openapi.js";
import { registerRestFacade, requestInfo } from "./trpc/rest.js";
import { type AppRouter, appRouter } from "./trpc/router.js";

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;
const BODY_LIMIT = 10 * 1024 * 1024;

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface AppModules {
  modules: { definition: ModuleDefinition; instance: ModuleInstance }[];
  /** Takes the requests on paths no module owns (the reverse proxy), when a module gives one. */
  front?: FrontHandler;
  /** Receives Fastify's own request handler, for the front's own port to hand HiveGuard's paths to. */
  onFastifyHandler?(handler: NodeHandler): void;
}

/** The platform's own paths, beside the modules'. */
export const PLATFORM_PATHS: OwnPath[] = [
  { path: "/trpc", match: "segment" },
  { path: "/graphql", match: "segment" },
  { path: "/docs", match: "segment" },
  { path: "/openapi.json", match: "segment" },
];

/**
 * Composes the HTTP surface: REST facade, /trpc, /graphql, the OpenAPI document and its docs page, each
 * module's plain routes, and in front of them the front handler (the reverse proxy): the node:http server
 * hands every path that is not HiveGuard's own straight to it, so proxied requests never go through
 * Fastify's routing and hooks.
 */
export async function buildApp(deps: AppDeps, parts: AppModules): Promise<FastifyInstance> {
  const front = parts.front;
  const isOwn = ownPathMatcher(
    [...PLATFORM_PATHS, ...parts.modules.flatMap(({ definition }) => definition.ownPaths)],
    { siteOnMainPort: Boolean(deps.config.targetUrl) && deps.config.proxy.port === undefined },
  );
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    // request.ip (token binding on the hosted page) follows the same TRUSTED_PROXIES as the gateway.
    trustProxy: deps.config.proxy.trustedProxies.length > 0 ? deps.config.proxy.trustedProxies : false,
    ...(front && {
      serverFactory: (fastifyHandler: NodeHandler, options: FastifyServerOptions) => {
        parts.onFastifyHandler?.(fastifyHandler);
        const server = createServer(listenerOptions(deps.config.http), (req, res) => {
          const url = req.url ?? "/";
          // A site path goes to the front at the cost of one matcher call; of HiveGuard's own paths, the
          // front still answers the few it takes itself (forward auth), before Fastify.
          if (isOwn(url) && !front.takesOwnPath?.(url)) fastifyHandler(req, res);
          else front.handle(req, res);
        });
        // What Fastify applies to the servers it creates itself (timeouts: see listenerOptions).
        server.keepAliveTimeout = options.keepAliveTimeout ?? 72_000;
        server.setTimeout(options.connectionTimeout ?? 0);
        server.on("upgrade", (req: IncomingMessage, socket, head: Buffer) => {
          if (isOwn(req.url ?? "/"))
            socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
          else front.upgrade(req, socket, head);
        });
        return server;
      },
    }),
    bodyLimit: BODY_LIMIT,
    // One line per request at debug (the onResponse hook below), instead of Fastify's two at info.
    logController: new LogController({ disableRequestLogging: true }),
    // Keep-alive connections that sit idle are closed on shutdown; in-flight requests finish first.
    forceCloseConnections: "idle",
    // Accept a caller's request id when it is harmless, so logs can be followed across services.
    // Errors Node's HTTP parser raises before a request exists (oversized headers, malformed request
    // lines) are answered in the documented shape too.
    clientErrorHandler: (error, socket) => {
      const code = (error as { code?: string }).code;
      const status = code === "HPE_HEADER_OVERFLOW" ? 431 : code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
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

  const trustedPeer = peerTrusted(deps.config.proxy.trustedProxies);
  const allowedMethods = trackAllowedMethods(app);
  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
    // X-Forwarded-Host is believed only from TRUSTED_PROXIES (the CSRF Origin check compares with it).
    if (request.headers["x-forwarded-host"] !== undefined && !trustedPeer(request.socket.remoteAddress ?? ""))
      delete request.headers["x-forwarded-host"];
    if (deps.config.apiDocs === "dashboard" && isApiDocsPath(request.url)) {
      await deps.auth.dashboard.authenticateRequest(request.headers, request.ip, { write: false });
    }
  });
  // While shutting down, answers to in-flight requests close their connection, so keep-alive clients
  // do not hold the process open (new requests already get 503 from Fastify's return503OnClosing).
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
    deps.sse.endAll();
  });
  app.addHook("onResponse", async (request, reply) => {
    if (!(request.log as Logger).isLevelEnabled("debug")) return;
    // The path only: a query string may carry a token or a search a user typed.
    request.log.debug(
      {
        method: request.method,
        path: request.url.split("?")[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      "request",
    );
  });
  app.addHook("onSend", async (request, reply) => {
    if (closing) reply.header("connection", "close");
    securityHeaders(request.protocol, reply);
  });

  // Modules whose clients read the error message under another key (bench: `error`) get it beside `detail`.
  const messageFields = parts.modules
    .filter(({ definition }) => definition.errorMessageField)
    .map(({ definition }) => ({
      field: definition.errorMessageField!,
      owns: ownPathMatcher(definition.ownPaths, { siteOnMainPort: false }),
    }));
  if (messageFields.length > 0) {
    app.addHook("onSend", async (request, reply, payload) => {
      if (reply.statusCode < 400 || typeof payload !== "string") return payload;
      const field = messageFields.find(({ owns }) => owns(request.url))?.field;
      if (!field || !String(reply.getHeader("content-type") ?? "").startsWith("application/json"))
        return payload;
      return withErrorMessage(payload, field);
    });
  }

  // An empty JSON body means "no input" (e.g. POST /dashboard/api/ml/train), not a parse error.
  const defaultJsonParser = app.getDefaultJsonParser("error", "error");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    const text = body.toString();
    if (text.trim() === "") return done(null, undefined);
    const parse = (source: string, retry: boolean) =>
      defaultJsonParser(request, source, (error, parsed) => {
        // Python clients write NaN/±Infinity as bare tokens: read them as the strings the APIs accept.
        const quoted = error && retry ? quoteNonFiniteTokens(source) : null;
        if (quoted !== null) return parse(quoted, false);
        // Every JSON body, plain routes included: no string may hold NUL (the procedures check query
        // strings and tRPC inputs the same way).
        const nul = error ? null : findNul(parsed);
        if (nul) return done(ValidationError.field(["body", ...nul], NUL_MESSAGE, "string_nul"), undefined);
        done(error, parsed);
      });
    parse(text, true);
  });

  app.setErrorHandler((error, request, reply) => {
    const wire = fastifyErrorToWire(error as FastifyError) ?? toWireError(error, { log: request.log });
    return reply.code(wire.status).headers(wire.headers).send(wire.body);
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0];
    // A known path asked with another method: 405 with the methods it has (RFC 9110 §15.5.6).
    const allow = allowedMethods(request.method, request.url);
    if (allow.length > 0)
      return reply
        .code(405)
        .header("allow", allow.join(", "))
        .send({ detail: `Method not allowed: ${request.method} ${path} (allowed: ${allow.join(", ")})` });
    return reply.code(404).send({ detail: `Not found: ${request.method} ${path}` });
  });

  const moduleRoutes = parts.modules.map(({ definition, instance }) => ({
    definition,
    instance,
    routes: definition.routes?.(deps, instance) ?? [],
  }));
  const openApiDocument = buildOpenApiDocument(appRouter, {
    version: deps.version,
    extraPaths: Object.assign(
      {},
      ...moduleRoutes.map(({ definition, routes }) => ({
        ...routesOpenApiPaths(routes),
        ...definition.openApiPaths,
      })),
    ),
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
    // Swagger UI's own CSP lets same-origin pages frame the docs (nothing needs to), blocks the style
    // attributes its own components set, and upgrades requests to HTTPS (which breaks the docs on plain HTTP).
    transformStaticCSP: (header: string) =>
      header
        .replace("frame-ancestors 'self'", "frame-ancestors 'none'")
        .replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
        .replace(/\s*upgrade-insecure-requests;?/, ""),
    logo: { type: "image/svg+xml", content: DOCS_LOGO, href: "/docs", target: "_self" },
    theme: { title: "HiveGuard API" },
  });

  registerRestFacade(app, appRouter, deps);
  // Each module's plain routes in its own encapsulated scope: its parsers and hooks stay its own.
  for (const { definition, instance, routes } of moduleRoutes) {
    await app.register(async (scope) => {
      await definition.plugin?.(scope, deps, instance);
      registerRoutes(scope, routes, deps.auth.dashboard, deps.auth.user);
    });
  }

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
  return app;
}

/** The docs page's logo (Swagger UI shows its host's logo otherwise). */
const DOCS_LOGO = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="170" height="36" viewBox="0 0 170 36">' +
    '<path d="M18 2l14 8v16l-14 8-14-8V10z" fill="#d97706"/>' +
    '<path d="M12 18l4 4 8-9" stroke="#fff" stroke-width="3" fill="none" stroke-linecap="round"/>' +
    '<text x="40" y="25" font-family="system-ui,sans-serif" font-size="20" font-weight="700" fill="#fff">HiveGuard</text>' +
    "</svg>",
);

/** The API's description: with API_DOCS=dashboard, only operators may read it. */
function isApiDocsPath(url: string): boolean {
  const path = url.split("?")[0]!;
  return path === "/openapi.json" || path === "/docs" || path.startsWith("/docs/");
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

/** An error body (`{"detail": ...}`) with the message also under `field`; anything else unchanged. */
function withErrorMessage(payload: string, field: string): string {
  try {
    const body = JSON.parse(payload) as unknown;
    if (!body || typeof body !== "object" || Array.isArray(body) || !("detail" in body) || field in body)
      return payload;
    return JSON.stringify({ [field]: errorMessageOf((body as { detail: never }).detail), ...body });
  } catch {
    return payload;
  }
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
