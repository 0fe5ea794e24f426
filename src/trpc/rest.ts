import type { AnyRouter, TRPCError } from "@trpc/server";
import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from "fastify";
import { createOpenApiNodeHttpHandler } from "trpc-to-openapi";
import { toWireError } from "../platform/errors.js";
import { type AppDeps, createContext, type RequestInfo } from "./context.js";
import { inputSchemaOf, listProcedures, type ProcedureInfo } from "./procedures.js";

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
    responseMeta: ({ paths, errors }) =>
      errors.length === 0 && paths?.[0] ? { status: successStatus.get(paths[0]) ?? 200 } : {},
    onError: ({ error, req }) => {
      (req as unknown as RequestShim).error = error;
    },
  });

  const procedures = listProcedures(router);
  lockBodyCoercion(procedures);
  for (const { path, meta } of procedures) {
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

type ZodNode = { _zod: { def: Record<string, unknown> & { type: string } } };
const COERCIBLE = new Set(["number", "boolean", "bigint", "date"]);

/** Every zod node reachable from `schema` the way trpc-to-openapi's coercion walks it. */
function walkSchema(schema: unknown, visit: (node: ZodNode) => void, seen = new Set<unknown>()): void {
  if (!schema || typeof schema !== "object" || !("_zod" in schema) || seen.has(schema)) return;
  seen.add(schema);
  const node = schema as ZodNode;
  const def = node._zod.def;
  visit(node);
  const next = (child: unknown) => walkSchema(child, visit, seen);
  switch (def.type) {
    case "object":
      for (const child of Object.values(def.shape as Record<string, unknown>)) next(child);
      break;
    case "array":
      next(def.element);
      break;
    case "optional":
    case "nullable":
    case "default":
    case "prefault":
    case "readonly":
    case "nonoptional":
    case "catch":
      next(def.innerType);
      break;
    case "lazy":
      next((def.getter as () => unknown)());
      break;
    case "pipe":
      next(def.in);
      next(def.out);
      break;
    case "union":
      for (const option of def.options as unknown[]) next(option);
      break;
  }
}

/**
 * trpc-to-openapi switches on zod's `coerce` for every number/boolean/date in an input schema, on every
 * call, JSON bodies included, and for good (the flag is set on the shared schema). For query strings that
 * is what we want (`?limit=10`); for JSON bodies it would turn `"false"` into `true` and `null` into `0`.
 * So the coercible nodes of body-carrying procedures are locked to "no coercion" (unless a query-string
 * procedure shares the same node): a JSON body must carry JSON types, as the contract documents.
 */
function lockBodyCoercion(procedures: ProcedureInfo[]): void {
  const queryNodes = new Set<unknown>();
  const bodyNodes = new Set<ZodNode>();
  for (const { meta, procedure } of procedures) {
    const method = meta.openapi?.method;
    if (!method) continue;
    const into = BODY_METHODS.has(method)
      ? (node: ZodNode) => bodyNodes.add(node)
      : (node: ZodNode) => queryNodes.add(node);
    walkSchema(inputSchemaOf(procedure), into);
  }
  for (const node of bodyNodes) {
    if (!COERCIBLE.has(node._zod.def.type) || queryNodes.has(node)) continue;
    Object.defineProperty(node._zod.def, "coerce", { get: () => false, set: () => {}, configurable: true });
  }
}
