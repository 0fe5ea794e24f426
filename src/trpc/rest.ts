import type { AnyRouter, TRPCError } from "@trpc/server";
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from "fastify";
import { createOpenApiNodeHttpHandler } from "trpc-to-openapi";
import { toWireError } from "../platform/errors.js";
import { type AppDeps, type Context, createContext, type RequestInfo } from "./context.js";
import { listProcedures } from "./procedures.js";

const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);

export function requestInfo(request: FastifyRequest): RequestInfo {
  return { id: request.id, ip: request.ip, headers: request.headers };
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
 * Mounts every procedure that has an `openapi` meta as a Fastify route at its documented path. The call
 * itself goes through trpc-to-openapi's handler (input merging, query coercion, the tRPC caller); we only
 * translate its answer: the documented success status, and errors in the documented `{"detail": ...}` shape.
 */
export function registerRestFacade(app: FastifyInstance, router: AnyRouter, deps: AppDeps): void {
  const successStatus = new Map<string, number>();
  const handler = createOpenApiNodeHttpHandler({
    router,
    createContext: ({ req }) => {
      const shim = req as unknown as RequestShim;
      return createContext(deps, requestInfo(shim.fastifyRequest), shim.fastifyRequest.log);
    },
    responseMeta: ({ paths, errors, ctx }) => {
      if (errors.length > 0 || !paths?.[0]) return {};
      const response = (ctx as Context | undefined)?.response;
      return {
        status: response?.status ?? successStatus.get(paths[0]) ?? 200,
        headers: response?.headers ?? {},
      };
    },
    onError: ({ error, req }) => {
      (req as unknown as RequestShim).error = error;
    },
  });

  for (const { path, meta } of listProcedures(router)) {
    const openapi = meta.openapi;
    if (!openapi || openapi.enabled === false) continue;
    successStatus.set(path, meta.httpStatus ?? 200);
    const pathParams = [...openapi.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!);
    const locFor = locator(openapi.method, pathParams);

    app.route({
      method: openapi.method as HTTPMethods,
      url: openapi.path.replace(/\{(\w+)\}/g, ":$1"),
      handler: (request, reply) => callProcedure(handler, request, reply, locFor),
    });
  }
}

interface RequestShim {
  fastifyRequest: FastifyRequest;
  error?: TRPCError;
}

type OpenApiHandler = ReturnType<typeof createOpenApiNodeHttpHandler>;

async function callProcedure(
  handler: OpenApiHandler,
  request: FastifyRequest,
  reply: FastifyReply,
  locFor: (path: PropertyKey[]) => (string | number)[],
): Promise<void> {
  const raw = request.raw;
  const headers = { ...request.headers };
  // A POST without a body (e.g. "start training") is a call with no input, not a wrong content type.
  if (request.body === undefined && !headers["content-type"]) headers["content-type"] = "application/json";

  const reqShim = {
    fastifyRequest: request,
    method: request.method,
    url: request.url,
    headers,
    body: request.body,
    query: request.query,
    socket: raw.socket,
    readableEnded: true,
    once: raw.once.bind(raw),
    on: raw.on.bind(raw),
    off: raw.off.bind(raw),
  } as RequestShim & Record<string, unknown>;

  const answer = await new Promise<{ status: number; body: string | undefined }>((resolve) => {
    const resShim = {
      statusCode: 200,
      writableEnded: false,
      setHeader: (name: string, value: string) => void reply.header(name, value),
      end(body?: string) {
        resShim.writableEnded = true;
        resolve({ status: resShim.statusCode, body });
      },
      once: reply.raw.once.bind(reply.raw),
      on: reply.raw.on.bind(reply.raw),
      off: reply.raw.off.bind(reply.raw),
    };
    void handler(reqShim as never, resShim as never);
  });

  if (answer.status >= 400) {
    const wire = toWireError(reqShim.error, { log: request.log, locFor });
    await reply.code(wire.status).headers(wire.headers).type("application/json").send(wire.body);
    return;
  }
  if (answer.status === 204) {
    reply.removeHeader("content-type");
    await reply.code(204).send();
    return;
  }
  await reply.code(answer.status).type("application/json").send(answer.body);
}
