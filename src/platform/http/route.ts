// Plain HTTP routes (streams, files, pages, form posts: what a JSON procedure cannot carry), declared once
// with zod inputs and the same auth levels as procedures; the route is validated, authenticated and given
// its OpenAPI entry from that one declaration.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { type z } from "zod";
import type {
  ZodOpenApiOperationObject,
  ZodOpenApiPathsObject,
  ZodOpenApiResponsesObject,
} from "zod-openapi";
import type { Authenticators, DashboardAuthenticator, UserPrincipal } from "../auth.js";
import { UnauthorizedError, ValidationError, zodIssuesToDetail } from "../errors.js";

type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/**
 * `public`: anyone. `dashboard`: HTTP Basic with the dashboard credentials or the session cookie (writes
 * with the cookie also need X-Requested-With), as dashboard procedures. `dashboardBasic`: HTTP Basic only.
 * `user`: `Authorization: Bearer <JWT>` verified by the user authenticator (bench), as user procedures; the
 * handler gets the user in `input.user`.
 */
export type RouteAuth = "public" | "dashboard" | "dashboardBasic" | "user";

type ZodObjectLike = z.ZodType<Record<string, unknown>>;

export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** The signed-in user of a `user` route (undefined on the other levels). */
  user?: UserPrincipal;
}

export interface RouteSpec<P extends ZodObjectLike, Q extends ZodObjectLike, B extends z.ZodType> {
  method: HttpMethod;
  /** OpenAPI form (`/runs/{run}`); Fastify's `:run` form is derived. */
  path: string;
  auth: RouteAuth;
  params?: P;
  query?: Q;
  /** A JSON (or form) body parsed by zod; routes that read the raw stream leave it out. */
  body?: B;
  bodyLimit?: number;
  /**
   * An HTML page: a browser that is not signed in is sent (303) to this sign-in page, with `return=` the
   * page it asked for, instead of getting the Basic prompt of a 401.
   */
  signInPage?: string;
  /** The OpenAPI operation, less what the declaration already says; `false` keeps it out of the document. */
  openapi:
    | false
    | (Omit<ZodOpenApiOperationObject, "responses" | "operationId"> & {
        operationId: string;
        /** Success and route-specific error answers; the standard ones (401, 422, 429...) are added. */
        responses: ZodOpenApiResponsesObject;
      });
  handler(
    input: RouteInput<z.infer<P>, z.infer<Q>, z.infer<B>>,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<unknown>;
}

export type Route = RouteSpec<ZodObjectLike, ZodObjectLike, z.ZodType>;

export function defineRoute<
  P extends ZodObjectLike = z.ZodObject<Record<string, never>>,
  Q extends ZodObjectLike = z.ZodObject<Record<string, never>>,
  B extends z.ZodType = z.ZodUndefined,
>(spec: RouteSpec<P, Q, B>): Route {
  return spec as unknown as Route;
}

/** Parses one part of a request with zod; a failure is a 422 naming the fields (`["query", "fmt"]`). */
export function parseRequestPart<T extends z.ZodType>(
  schema: T,
  value: unknown,
  where: "path" | "query" | "body",
): z.infer<T> {
  // A missing part is an empty one, so the 422 names each required field.
  const result = schema.safeParse(value ?? {});
  if (!result.success)
    throw new ValidationError(
      where === "body"
        ? zodIssuesToDetail(result.error.issues)
        : zodIssuesToDetail(result.error.issues, (path) => [where, ...path.map(String)]),
    );
  return result.data;
}

const READS = new Set(["GET", "HEAD"]);

/** A person's browser loading a page (not a script or a client asking for JSON). */
function isBrowserNavigation(request: FastifyRequest): boolean {
  return READS.has(request.method) && String(request.headers.accept ?? "").includes("text/html");
}

export const USER_UNAUTHENTICATED = "Not authenticated";

/** The user of a bearer JWT, or 401 (as `userProcedure` answers). */
export async function authenticateUser(
  verify: Authenticators["user"],
  authorization: string | undefined,
): Promise<UserPrincipal> {
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? "");
  const principal = match && verify ? await verify(match[1]!) : null;
  if (!principal) throw new UnauthorizedError(USER_UNAUTHENTICATED, { "WWW-Authenticate": "Bearer" });
  return principal;
}

/** Authenticates a request at one of the route auth levels (401/429 as the procedures answer). */
export async function authenticateRoute(
  auth: RouteAuth,
  dashboard: DashboardAuthenticator,
  request: FastifyRequest,
  user?: Authenticators["user"],
): Promise<UserPrincipal | undefined> {
  if (auth === "public") return;
  if (auth === "user") return authenticateUser(user, request.headers.authorization);
  if (auth === "dashboardBasic") {
    await dashboard.authenticate(request.headers.authorization, request.ip);
    return;
  }
  await dashboard.authenticateRequest(request.headers, request.ip, { write: !READS.has(request.method) });
}

export function registerRoutes(
  scope: FastifyInstance,
  routes: readonly Route[],
  dashboard: DashboardAuthenticator,
  user?: Authenticators["user"],
): void {
  for (const route of routes) {
    scope.route({
      method: route.method,
      url: route.path.replace(/\{(\w+)\}/g, ":$1"),
      schema: { hide: true },
      ...(route.bodyLimit !== undefined && { bodyLimit: route.bodyLimit }),
      handler: async (request, reply) => {
        let principal: UserPrincipal | undefined;
        try {
          principal = await authenticateRoute(route.auth, dashboard, request, user);
        } catch (error) {
          if (!(route.signInPage && error instanceof UnauthorizedError && isBrowserNavigation(request)))
            throw error;
          const back = encodeURIComponent(request.url);
          return reply.code(303).header("location", `${route.signInPage}?return=${back}`).send();
        }
        const input = {
          params: route.params ? parseRequestPart(route.params, request.params, "path") : {},
          query: route.query ? parseRequestPart(route.query, request.query, "query") : {},
          body: route.body ? parseRequestPart(route.body, request.body, "body") : undefined,
          ...(principal && { user: principal }),
        };
        return route.handler(input, request, reply);
      },
    });
  }
}

// ── OpenAPI: the standard answers, shared with the procedures' document (trpc/openapi.ts) ─────────────

export const HTTP_ERROR_REF = "#/components/schemas/HTTPError";
export const HTTP_VALIDATION_ERROR_REF = "#/components/schemas/HTTPValidationError";

export const errorResponse = (description: string, ref = HTTP_ERROR_REF) => ({
  description,
  content: { "application/json": { schema: { $ref: ref } } },
});

export type DocumentedAuth = "public" | "dashboard" | "apiKey" | "user";

export const SECURITY_BY_AUTH: Record<DocumentedAuth, Record<string, string[]>[]> = {
  public: [],
  dashboard: [{ dashboardBasic: [] }],
  apiKey: [{ apiKey: [] }],
  user: [{ bearer: [] }],
};

/** The error answers every operation of this kind can give, by status. */
export function standardErrorResponses(options: {
  auth: DocumentedAuth;
  method: string;
  hasInput: boolean;
  hasPathParams: boolean;
}): Record<string, ReturnType<typeof errorResponse>> {
  const responses: Record<string, ReturnType<typeof errorResponse>> = {};
  if (options.hasInput) responses["422"] = errorResponse("Validation error", HTTP_VALIDATION_ERROR_REF);
  if (options.auth !== "public") responses["401"] = errorResponse("Missing or invalid credentials");
  if (options.auth === "dashboard") responses["429"] = errorResponse("Too many failed login attempts");
  if (options.auth === "dashboard" && !READS.has(options.method.toUpperCase()))
    responses["403"] = errorResponse(
      "Signed in with the dashboard's session cookie but without X-Requested-With (CSRF protection)",
    );
  if (options.hasPathParams) responses["404"] = errorResponse("Not found");
  return responses;
}

/** The routes' OpenAPI paths: the declared operation plus security, parameters and the standard errors. */
export function routesOpenApiPaths(routes: readonly Route[]): ZodOpenApiPathsObject {
  const paths: ZodOpenApiPathsObject = {};
  for (const route of routes) {
    if (!route.openapi) continue;
    const auth: DocumentedAuth =
      route.auth === "public" ? "public" : route.auth === "user" ? "user" : "dashboard";
    const { responses, ...operation } = route.openapi;
    const standard = standardErrorResponses({
      auth,
      method: route.method,
      // Documented parameters the route does not validate (requestParams) never answer 422.
      hasInput: Boolean(route.params || route.query || route.body || operation.requestBody),
      hasPathParams: route.path.includes("{"),
    });
    const documented: ZodOpenApiOperationObject = {
      ...operation,
      // A route that checks credentials of its own (e.g. a bearer token) says so itself.
      security: operation.security ?? SECURITY_BY_AUTH[auth],
      ...((route.params || route.query) && {
        requestParams: {
          ...operation.requestParams,
          ...(route.params && { path: route.params as never }),
          ...(route.query && { query: route.query as never }),
        },
      }),
      ...(route.body &&
        !operation.requestBody && {
          requestBody: { required: true, content: { "application/json": { schema: route.body } } },
        }),
      responses: { ...standard, ...responses },
    };
    paths[route.path] = { ...paths[route.path], [route.method.toLowerCase()]: documented };
  }
  return paths;
}
