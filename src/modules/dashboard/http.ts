// The web dashboard: the login/logout endpoints of its session cookie, and the single-page app itself,
// built by Vite into clients/dashboard/dist at install time (`npm run build:dashboard`, run by postinstall)
// and served from there by this server: no CDN, the product works offline.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join, relative } from "node:path";
import type { FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { SESSION_COOKIE, SESSION_TTL_SEC, sessionCookie } from "../../platform/auth.js";
import { ForbiddenError } from "../../platform/errors.js";
import { defineRoute, type Route } from "../../platform/http/route.js";
import type { AppDeps } from "../../platform/module.js";
import { packagePath } from "../../platform/paths.js";

export const DASHBOARD_DIST = packagePath("clients/dashboard/dist") + "/";

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
};

interface Asset {
  body: Buffer;
  type: string;
}

/** Every file of the build, read once (the build is small and immutable while the server runs). */
function loadBuild(dir: string): Map<string, Asset> | null {
  if (!existsSync(join(dir, "index.html"))) return null;
  const files = new Map<string, Asset>();
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else
        files.set(relative(dir, path).split("\\").join("/"), {
          body: readFileSync(path),
          type: TYPES[extname(name)] ?? "application/octet-stream",
        });
    }
  };
  walk(dir);
  return files;
}

const loginSchema = z
  .object({ username: z.string().max(200), password: z.string().max(1000) })
  .strict()
  .meta({ id: "DashboardLogin" });

function cookie(request: FastifyRequest, value: string, maxAge: number): string {
  const secure = request.protocol === "https" ? "; Secure" : "";
  return `${SESSION_COOKIE}=${value}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${secure}`;
}

const errorContent = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/HTTPError" } } },
});
const tags = ["dashboard"];

/** The session endpoints of the web dashboard and the app itself. */
export function dashboardRoutes(deps: AppDeps, distDir = DASHBOARD_DIST): Route[] {
  const auth = deps.auth.dashboard;
  return [
    defineRoute({
      method: "POST",
      path: "/dashboard/login",
      auth: "public",
      body: loginSchema,
      openapi: {
        operationId: "dashboardLogin",
        tags,
        summary: "Sign in to the web dashboard: sets the session cookie (HttpOnly, SameSite=Strict)",
        description:
          "Failed attempts count towards the same per-IP limit as HTTP Basic. With the cookie, dashboard " +
          "mutations also need the X-Requested-With header.",
        responses: {
          200: {
            description: "Signed in",
            content: {
              "application/json": { schema: z.object({ username: z.string(), expires_in: z.int() }) },
            },
          },
          401: errorContent("Wrong username or password"),
          429: errorContent("Too many failed attempts from this IP"),
        },
      },
      handler: async ({ body }, request, reply) => {
        // Wrong credentials count towards the same per-IP limit as HTTP Basic (429 with Retry-After beyond it).
        const principal = await auth.login(body.username, body.password, request.ip);
        const token = await auth.sessions.create((principal as { username: string }).username);
        return reply
          .header("set-cookie", cookie(request, token, SESSION_TTL_SEC))
          .header("cache-control", "no-store")
          .send({ username: body.username, expires_in: SESSION_TTL_SEC });
      },
    }),

    defineRoute({
      method: "POST",
      path: "/dashboard/logout",
      auth: "public",
      openapi: {
        operationId: "dashboardLogout",
        tags,
        summary: "Sign out: deletes the session (needs X-Requested-With)",
        responses: {
          204: { description: "Signed out" },
          403: errorContent("X-Requested-With missing"),
        },
      },
      handler: async (_input, request, reply) => {
        // Signing out is a change too: a cross-site form must not be able to do it.
        if (!request.headers["x-requested-with"])
          throw new ForbiddenError("Signing out needs the X-Requested-With header (CSRF protection)");
        const token = sessionCookie(request.headers.cookie);
        if (token) await auth.sessions.destroy(token);
        return reply
          .header("set-cookie", cookie(request, "", 0))
          .code(204)
          .send();
      },
    }),

    defineRoute({
      method: "GET",
      path: "/dashboard/session",
      auth: "public",
      openapi: {
        operationId: "dashboardSession",
        tags,
        summary: "Who is signed in with the session cookie (`username` null when nobody)",
        description: 'Always 200: the app asks on start-up, and "not signed in" is an answer, not an error.',
        responses: {
          200: {
            description: "The signed-in user, or null",
            content: { "application/json": { schema: z.object({ username: z.string().nullable() }) } },
          },
        },
      },
      handler: async (_input, request, reply) => {
        const token = sessionCookie(request.headers.cookie);
        const username = token ? await auth.sessions.lookup(token) : null;
        reply.header("cache-control", "no-store");
        return { username };
      },
    }),

    ...appRoutes(distDir),
  ];
}

/** The single-page app: its assets, and the same shell for every other path (client-side routing). */
function appRoutes(distDir: string): Route[] {
  let build: Map<string, Asset> | null | undefined;
  const serve = async (request: FastifyRequest, reply: FastifyReply) => {
    const path = (request.params as { "*"?: string })["*"] ?? "";
    if (path === "api" || path.startsWith("api/"))
      return reply.code(404).send({ detail: `Not found: ${request.method} ${request.url.split("?")[0]}` });
    build ??= loadBuild(distDir);
    if (!build)
      return reply
        .code(503)
        .type("text/plain; charset=utf-8")
        .send("The dashboard is not built: run `npm run build:dashboard` (npm install does it).");
    const asset = path.startsWith("assets/") ? build.get(path) : undefined;
    if (path.startsWith("assets/") && !asset)
      return reply.code(404).send({ detail: `Not found: ${request.method} ${request.url.split("?")[0]}` });
    if (asset)
      return reply
        .type(asset.type)
        .header("cache-control", "public, max-age=31536000, immutable")
        .header("x-content-type-options", "nosniff")
        .send(asset.body);
    const file = build.get(path);
    if (file && path !== "index.html" && path !== "")
      return reply.type(file.type).header("cache-control", "no-cache").send(file.body);
    // Every other path is a page of the app (client-side routing): the same shell.
    return reply
      .type("text/html; charset=utf-8")
      .header("cache-control", "no-cache")
      .header("content-security-policy", CSP)
      .header("x-content-type-options", "nosniff")
      .header("referrer-policy", "same-origin")
      .send(build.get("index.html")!.body);
  };
  const route = (path: string) =>
    defineRoute({
      method: "GET",
      path,
      auth: "public",
      openapi: false,
      handler: (_input, request, reply) => serve(request, reply),
    });
  return [route("/dashboard"), route("/dashboard/*")];
}
