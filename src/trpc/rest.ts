import type { AnyRouter } from "@trpc/server";
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from "fastify";
import { toWireError, ValidationError } from "../platform/errors.js";
import { type AppDeps, createContext, type RequestInfo } from "./context.js";
import { createCallerFactory } from "./init.js";
import { inputSchemaOf, listProcedures } from "./procedures.js";
import { coerceQuery, isVoidSchema } from "./query-coercion.js";

const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);

export function requestInfo(request: FastifyRequest): RequestInfo {
  return { id: request.id, ip: request.ip, headers: request.headers, protocol: request.protocol };
}

/** Which part of the request a zod issue path points at, for the `loc` of a 422 entry. */
function locator(method: string, pathParams: string[]) {
  return (path: PropertyKey[]): (string | number)[] => {
    const segments = path.map((segment) => (typeof segment === "number" ? segment : String(segment)));
    const first = segments[0];
    if (typeof first === "string" && pathParams.includes(first)) return ["path", ...segments];
    return [BODY_METHODS.has(method) ? "body" : "query", ...segments];
  };
}

/**
 * Mounts every procedure that has an `openapi` meta (the same meta trpc-to-openapi turns into the OpenAPI
 * document) as a Fastify route at its documented path. The input is the JSON body (POST/PUT/PATCH) or the
 * query string, plus the path parameters; the procedure runs through the tRPC caller, so validation, auth
 * and logic are exactly those of /trpc and /graphql. Query strings are coerced by looking at the schema,
 * never by mutating it (trpc-to-openapi's own handler flips zod's `coerce` flag on the shared schemas,
 * which would make `{"risk_threshold": false}` pass as 0 on every transport).
 */
export function registerRestFacade(app: FastifyInstance, router: AnyRouter, deps: AppDeps): void {
  const createCaller = createCallerFactory(router);
  // Cross-origin paths and their methods: one preflight route per path, answering every method it has.
  const preflights = new Map<string, Set<string>>();

  for (const { path, meta, procedure } of listProcedures(router)) {
    const openapi = meta.openapi;
    if (!openapi || openapi.enabled === false) continue;
    const method = openapi.method;
    const pathParams = [...openapi.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);
    const locFor = locator(method, pathParams);
    const inputSchema = inputSchemaOf(procedure);
    const takesInput = inputSchema !== undefined && !isVoidSchema(inputSchema);
    const successStatus = meta.httpStatus ?? 200;
    const segments = path.split(".");
    const url = openapi.path.replace(/\{(\w+)\}/g, ":$1");
    if (meta.cors) {
      const methods = preflights.get(url);
      if (methods) methods.add(method);
      else preflights.set(url, answerPreflight(app, url, method, meta.cors.exposeHeaders));
    }

    // A documented trailing slash (DashAI's `/api/v1/dataset/`) is served as written and without it: the
    // OpenAPI document lists the path without (trpc-to-openapi normalizes it).
    const urls = url.length > 1 && url.endsWith("/") ? [url, url.slice(0, -1)] : [url];
    for (const routeUrl of urls)
      app.route({
        method: method as HTTPMethods,
        url: routeUrl,
        // onRequest, so answers given before the handler (a body that is not JSON) carry the headers too.
        ...(meta.cors && { onRequest: corsHeaders(meta.cors.exposeHeaders) }),
        handler: async (request: FastifyRequest, reply: FastifyReply) => {
          const body = request.body;
          if (BODY_METHODS.has(method) && body !== undefined && !isPlainObject(body)) {
            const error = ValidationError.field(["body"], "Input should be a JSON object", "object_type");
            return reply.code(422).send({ detail: error.detail });
          }
          const params = coerceQuery(request.params as Record<string, string>, inputSchema);
          // A DELETE documents its input as query parameters, and also takes it as a JSON body (clients such
          // as LLM Benchmark Studio's frontend send `DELETE` with `{"provider_key": ...}`).
          const deleteBody = method === "DELETE" && isPlainObject(body) ? body : undefined;
          const input = takesInput
            ? BODY_METHODS.has(method)
              ? // A PATCH without a body takes its fields from the query (DashAI's model-session PATCH).
                method === "PATCH" && body === undefined
                ? {
                    ...coerceQuery(request.query as Record<string, string | string[]>, inputSchema),
                    ...params,
                  }
                : { ...(body as Record<string, unknown> | undefined), ...params }
              : {
                  ...coerceQuery(request.query as Record<string, string | string[]>, inputSchema),
                  ...deleteBody,
                  ...params,
                }
            : undefined;

          const ctx = createContext(deps, requestInfo(request), request.log);
          const caller = createCaller(ctx);
          const call = segments.reduce<unknown>(
            (node, key) => (node as Record<string, unknown>)[key],
            caller,
          ) as (input: unknown) => Promise<unknown>;
          try {
            const data = await call(input);
            // A procedure may choose another success status and add headers (e.g. 204 + X-HiveGuard-Bypass).
            const status = ctx.response.status ?? successStatus;
            reply.headers(ctx.response.headers);
            if (status === 204) return reply.code(204).send();
            return reply.code(status).type("application/json").send(JSON.stringify(data));
          } catch (error) {
            const wire = toWireError(error, { log: request.log, locFor });
            return reply.code(wire.status).headers(wire.headers).type("application/json").send(wire.body);
          }
        },
      });
  }
}

const corsHeaders = (exposeHeaders: string[]) => async (_request: FastifyRequest, reply: FastifyReply) => {
  reply.header("access-control-allow-origin", "*");
  reply.header("access-control-expose-headers", exposeHeaders.join(", "));
};

/** The preflight (OPTIONS) answer of a cross-origin path; returns the path's methods, to add to later. */
function answerPreflight(
  app: FastifyInstance,
  url: string,
  method: string,
  exposeHeaders: string[],
): Set<string> {
  const allowed = new Set([method]);
  app.options(
    url,
    { schema: { hide: true }, onRequest: corsHeaders(exposeHeaders) },
    async (_request, reply) =>
      reply
        .code(204)
        .header("access-control-allow-methods", [...allowed].join(", "))
        .header("access-control-allow-headers", "Content-Type, X-HiveGuard-Key")
        .header("access-control-max-age", "600")
        .send(),
  );
  return allowed;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
