// The bench plain routes that are not JSON procedures: /healthz, /robots.txt, /sitemap.xml (public).
import { z } from "zod";
import { defineRoute, type Route } from "../../../platform/http/route.js";
import type { AppDeps } from "../../../platform/module.js";

const healthSchema = z.object({ status: z.literal("ok"), version: z.string() });

export function siteRoutes(deps: AppDeps): Route[] {
  return [
    defineRoute({
      method: "GET",
      path: "/healthz",
      auth: "public",
      openapi: {
        operationId: "bench-healthz",
        tags: ["bench: settings"],
        summary: "Liveness of the benchmarking API, with the server version",
        security: [],
        responses: { 200: { description: "Up", content: { "application/json": { schema: healthSchema } } } },
      },
      handler: async () => ({ status: "ok", version: deps.version }),
    }),
    defineRoute({
      method: "GET",
      path: "/robots.txt",
      auth: "public",
      openapi: {
        operationId: "bench-robots",
        tags: ["bench: settings"],
        summary: "robots.txt: the API and the dashboard are not for crawlers",
        security: [],
        responses: { 200: { description: "robots.txt", content: { "text/plain": { schema: z.string() } } } },
      },
      handler: async (_input, request, reply) =>
        reply
          .type("text/plain; charset=utf-8")
          .send(
            `User-agent: *\nDisallow: /api/\nDisallow: /trpc/\nDisallow: /graphql\nDisallow: /dashboard/\nAllow: /\n\nSitemap: ${origin(request.protocol, request.host)}/sitemap.xml\n`,
          ),
    }),
    defineRoute({
      method: "GET",
      path: "/sitemap.xml",
      auth: "public",
      openapi: {
        operationId: "bench-sitemap",
        tags: ["bench: settings"],
        summary: "sitemap.xml: the public pages",
        security: [],
        responses: {
          200: { description: "Sitemap", content: { "application/xml": { schema: z.string() } } },
        },
      },
      handler: async (_input, request, reply) => {
        const base = origin(request.protocol, request.host);
        const urls = ["/", "/docs"]
          .map((path) => `  <url><loc>${escapeXml(base + path)}</loc></url>`)
          .join("\n");
        return reply
          .type("application/xml; charset=utf-8")
          .send(
            `<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n${urls}\n</urlset>\n`,
          );
      },
    }),
  ];
}

/** The site's origin as the client addressed it (the Host header is checked to be a plain host[:port]). */
function origin(protocol: string, host: string): string {
  const safeHost = /^[A-Za-z0-9.-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$/.test(host)
    ? host
    : "localhost";
  return `${protocol}://${safeHost}`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
