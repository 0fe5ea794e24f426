import { initTRPC, TRPCError } from "@trpc/server";
import type { OpenApiMeta } from "trpc-to-openapi";
import { ZodError, z } from "zod";
import { API_KEY_INVALID, type ApiKeyPrincipal, type ApiKeyScope } from "../platform/auth.js";
import {
  AppError,
  DependencyUnavailableError,
  type ErrorDetail,
  ForbiddenError,
  findNul,
  isDatabaseConnectionError,
  NUL_MESSAGE,
  UnauthorizedError,
  zodIssuesToDetail,
} from "../platform/errors.js";
import { authenticateUser } from "../platform/http/route.js";
import { type Context, headerValue } from "./context.js";

export type AuthLevel = "public" | "apiKey" | "dashboard" | "user";

export type Meta = OpenApiMeta<{
  /** Set by the procedure builders below; drives the OpenAPI security section and the GraphQL auth. */
  auth?: AuthLevel;
  /** API-key procedures: the scope the key must hold (403 otherwise). */
  scope?: ApiKeyScope;
  /** Success status on the REST facade when not 200 (201 for creates, 204 for deletes). */
  httpStatus?: 200 | 201 | 202 | 204;
  /** Further success answers a procedure may give on the REST facade (e.g. 204 with a reason header). */
  extraResponses?: Record<number, { description: string; headers?: Record<string, string> }>;
  /** GraphQL exposure: hidden procedures stay REST/tRPC only; `name` overrides the derived field name. */
  graphql?: {
    hidden?: boolean;
    name?: string;
    nest?: GraphQLNest;
    /** State-store pub/sub channels whose messages mean "read again" for live subscriptions (graphql/live.ts). */
    liveChannels?: string[];
  };
  /**
   * Callable from any web origin on the REST facade (the widget calls generate/submit from the site's own
   * pages): `Access-Control-Allow-Origin: *`, the listed response headers exposed, and a preflight answer.
   */
  cors?: { exposeHeaders: string[] };
}>;

/**
 * A batch procedure also exposed as a field of another GraphQL type (e.g. `Dataset.progress`): within one
 * request, the parents' `key` values are collected and the procedure is called once with them as
 * `batchArg`; each result goes to the parent whose key equals its `resultKey`. No N+1 where lists nest.
 */
export interface GraphQLNest {
  /** The GraphQL object type that gets the field (the zod schema's registered id). */
  on: string;
  field: string;
  /** Field of the parent object whose value identifies it (e.g. `id`). */
  key: string;
  /** Input field of the procedure that takes the list of keys (e.g. `ids`). */
  batchArg: string;
  /** Field of each result item that holds its parent's key (e.g. `dataset_id`). */
  resultKey: string;
}

const t = initTRPC
  .context<Context>()
  .meta<Meta>()
  .create({
    // Never send stack traces, whatever NODE_ENV says.
    isDev: false,
    errorFormatter({ shape, error }) {
      const internal = shape.data.code === "INTERNAL_SERVER_ERROR" && !(error.cause instanceof ZodError);
      let detail: ErrorDetail | undefined;
      if (error instanceof AppError) detail = error.detail;
      else if (error.cause instanceof ZodError)
        detail = zodIssuesToDetail(error.cause.issues, (path) => ["input", ...path.map(String)]);
      // Input validation answers 422 on /trpc too, as on REST, so every client sees one status per error kind.
      const httpStatus = error.cause instanceof ZodError ? 422 : shape.data.httpStatus;
      return {
        message: internal ? "Internal server error" : shape.message,
        code: shape.code,
        data: { code: shape.data.code, httpStatus, path: shape.data.path, detail },
      };
    },
  });

export const router = t.router;
export const mergeRouters = t.mergeRouters;
export const createCallerFactory = t.createCallerFactory;

/**
 * Every procedure starts here: a database that cannot be reached becomes 503 {"detail"} with Retry-After on
 * every transport (REST, tRPC, GraphQL) instead of a 500. (State-store failures already arrive as
 * DependencyUnavailableError from the store itself.)
 */
// A zod schema (not a hand-made ZodError) so the error travels through tRPC like any input error.
const noNulCharacter = z.unknown().superRefine((input, ctx) => {
  const path = findNul(input);
  if (path) ctx.addIssue({ code: "custom", path, message: NUL_MESSAGE });
});

const baseProcedure = t.procedure.use(async ({ next, getRawInput }) => {
  // No string anywhere in an input may hold NUL: PostgreSQL refuses it in text (22021/22P05), and no
  // honest name, tag or note needs it. Checked once here for every field of every procedure, on every
  // transport; the 422 names the field as a zod issue would.
  const nul = noNulCharacter.safeParse(await getRawInput());
  if (!nul.success) throw new TRPCError({ code: "BAD_REQUEST", cause: nul.error });
  const result = await next();
  if (!result.ok && !(result.error.cause instanceof AppError) && isDatabaseConnectionError(result.error)) {
    throw new DependencyUnavailableError("database", result.error.cause ?? result.error);
  }
  return result;
});

export const publicProcedure = baseProcedure.meta({ auth: "public" });

/**
 * HTTP Basic with the configured dashboard credentials (constant-time comparison, rate-limited failures),
 * or the login form's session cookie; with the cookie, mutations also need the X-Requested-With header.
 */
export const dashboardProcedure = baseProcedure
  .meta({ auth: "dashboard" })
  .use(async ({ ctx, next, type }) => {
    const principal = await ctx.deps.auth.dashboard.authenticateRequest(ctx.req.headers, ctx.req.ip, {
      write: type !== "query",
    });
    return next({ ctx: { principal } });
  });

/**
 * `X-HiveGuard-Key`, verified by the guard module's key service once it is registered; the key must hold
 * the procedure's `scope` (every API-key procedure names one).
 */
export const apiKeyProcedure = baseProcedure.meta({ auth: "apiKey" }).use(async ({ ctx, meta, next }) => {
  const rawKey = headerValue(ctx.req.headers, "x-hiveguard-key");
  const verify = ctx.deps.auth.apiKey;
  const principal = rawKey && verify ? await verify(rawKey, ctx.req.ip) : null;
  if (!principal) throw new UnauthorizedError(API_KEY_INVALID);
  const scope = meta?.scope;
  if (!scope || !principal.scopes.includes(scope)) {
    throw new ForbiddenError(`This API key lacks the "${scope ?? "unknown"}" scope`);
  }
  return next({ ctx: { principal: principal satisfies ApiKeyPrincipal } });
});

/** `Authorization: Bearer <JWT>`, verified by the bench module's user service once it is registered. */
export const userProcedure = baseProcedure.meta({ auth: "user" }).use(async ({ ctx, next }) => {
  const principal = await authenticateUser(ctx.deps.auth.user, headerValue(ctx.req.headers, "authorization"));
  return next({ ctx: { principal } });
});
