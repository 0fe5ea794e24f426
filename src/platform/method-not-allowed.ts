import type { FastifyInstance } from "fastify";
import FindMyWay, { type HTTPMethod } from "find-my-way";

const noop = () => undefined;

/**
 * Answers "which methods does this path have?" for the not-found handler, so that a wrong method on a known
 * path is a 405 with `Allow` rather than a 404. Every route Fastify registers (including HEAD twins of GET
 * routes and routes inside plugins) is mirrored into a find-my-way router, the matcher Fastify itself uses,
 * so a path matches here exactly when Fastify would match it with the right method. Catch-all wildcard
 * routes (e.g. `GET /dashboard/*`, which answers 404 for paths it does not know) do not make a path known.
 *
 * Call before any route is registered (it installs an `onRoute` hook).
 */
export function trackAllowedMethods(app: FastifyInstance): (method: string, url: string) => string[] {
  const router = FindMyWay({ ignoreTrailingSlash: false, ignoreDuplicateSlashes: false });
  const methods = new Set<string>();
  app.addHook("onRoute", (route) => {
    const list = Array.isArray(route.method) ? route.method : [route.method];
    const url = route.url ?? route.path;
    if (!url || url.endsWith("*")) return;
    for (const method of list.map((m) => m.toUpperCase() as HTTPMethod)) {
      // A CORS preflight answer is not a method of the resource (Allow lists what a client may call).
      if (method === "OPTIONS") continue;
      if (router.hasRoute(method, url)) continue;
      router.on(method, url, noop);
      methods.add(method);
    }
  });
  return (method, url) => {
    const path = url.split("?")[0] ?? "/";
    return [...methods].filter((m) => m !== method && router.find(m as HTTPMethod, path) !== null).sort();
  };
}
