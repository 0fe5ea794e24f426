import type { ServerResponse } from "node:http";

/** A browser navigation (a GET that accepts HTML): it gets pages and redirects, anything else JSON. */
export function wantsHtml(method: string | undefined, accept: string | undefined): boolean {
  return (method === "GET" || method === "HEAD") && accept !== undefined && accept.includes("text/html");
}

/** Headers on every page HiveGuard writes itself on the proxy path: no framing, no sniffing, no scripts. */
export const OWN_PAGE_HEADERS = {
  "content-security-policy":
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
} as const;

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${escapeHtml(title)}</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}code{background:#f3f3f3;padding:0 .2rem}</style></head><body>${body}</body></html>`;
}

/**
 * An error HiveGuard answers for itself (the upstream is down or slow, the body is too large, the pool is
 * empty with fail_mode closed): a plain page for browsers, `{"detail": ...}` for everything else.
 */
export function sendError(
  res: ServerResponse,
  status: number,
  detail: string,
  html: boolean,
  extra: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = html
    ? page(
        detail,
        `<h1>${status} · ${escapeHtml(detail)}</h1><p>HiveGuard could not complete this request.</p>`,
      )
    : JSON.stringify({ detail, ...extra });
  res.writeHead(status, {
    "content-type": html ? "text/html; charset=utf-8" : "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    ...OWN_PAGE_HEADERS,
  });
  res.end(body);
}

/**
 * Stands in for the site when TARGET_URL is not set, so a first run shows the whole flow: this page is
 * protected like any upstream page would be.
 */
export function sendDemoPage(res: ServerResponse, method: string | undefined, url: string): void {
  const body = page(
    "HiveGuard demo site",
    `<h1>You are through.</h1><p>This page stands in for your site: HiveGuard let this request reach it at <code>${escapeHtml(url)}</code>.</p><p>Set <code>TARGET_URL</code> to put HiveGuard in front of your own site.</p>`,
  );
  res.writeHead(200, {
    "content-type": "text/html; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    ...OWN_PAGE_HEADERS,
  });
  res.end(method === "HEAD" ? undefined : body);
}
