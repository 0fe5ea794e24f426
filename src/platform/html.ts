// Server-rendered HTML: one escaper and one page shell for every page HiveGuard renders itself (the hosted
// challenge page, the tracking pages). The web dashboard is a built SPA and does not use it.
import type { FastifyReply } from "fastify";

const ENTITIES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Text or attribute value → HTML (both quote kinds escaped, so it is safe in either attribute style). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

export interface PageShell {
  /** Escaped here. */
  title: string;
  /** The page's language tag (default "en"). */
  lang?: string;
  /** Trusted markup for <head> after the title (stylesheets, robots). */
  head?: string;
  /** Trusted attribute markup for <body> (build values with escapeHtml). */
  bodyAttributes?: string;
  /** Trusted markup. */
  body: string;
}

export function htmlPage(page: PageShell): string {
  return `<!doctype html>
<html lang="${escapeHtml(page.lang ?? "en")}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)}</title>${page.head ? `\n${page.head}` : ""}
</head>
<body${page.bodyAttributes ? ` ${page.bodyAttributes}` : ""}>
${page.body}
</body>
</html>`;
}

/** Sends a page with its Content-Security-Policy (app.ts adds frame-ancestors and X-Frame-Options). */
export function sendHtml(
  reply: FastifyReply,
  html: string,
  options: { csp: string; cacheControl?: string },
): FastifyReply {
  reply.type("text/html; charset=utf-8").header("content-security-policy", options.csp);
  if (options.cacheControl) reply.header("cache-control", options.cacheControl);
  return reply.send(html);
}
