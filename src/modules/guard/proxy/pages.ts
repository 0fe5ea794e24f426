import type { ServerResponse } from "node:http";
import { escapeHtml, htmlPage } from "../../../platform/html.js";

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

const STYLE =
  "<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#222}h1{font-size:1.4rem}code{background:#f3f3f3;padding:0 .2rem}</style>";

/** The platform's page shell (platform/html.ts) with this file's small inline style (no scripts). */
function page(title: string, body: string): string {
  return htmlPage({ title, head: STYLE, body });
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
export function sendDemoPage(
  res: ServerResponse,
  method: string | undefined,
  url: string,
  setCookie?: string,
): void {
  const body = page(
    "HiveGuard demo site",
    `<h1>You are through.</h1><p>This page stands in for your site: HiveGuard let this request reach it at <code>${escapeHtml(url)}</code>.</p><p>Set <code>TARGET_URL</code> to put HiveGuard in front of your own site.</p>`,
  );
  res.writeHead(200, {
    "content-type": "text/html; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    ...OWN_PAGE_HEADERS,
    ...(setCookie !== undefined && { "set-cookie": setCookie }),
  });
  res.end(method === "HEAD" ? undefined : body);
}

/**
 * A browser navigation that is not a GET or HEAD (a form's POST): it accepts HTML and, in browsers that say
 * so, is a navigation (`Sec-Fetch-Mode: navigate`), so a script's `fetch` asking for HTML still gets JSON.
 */
export function isFormNavigation(
  method: string | undefined,
  accept: string | undefined,
  fetchMode: string | undefined,
): boolean {
  return (
    method !== "GET" &&
    method !== "HEAD" &&
    accept !== undefined &&
    accept.includes("text/html") &&
    (fetchMode === undefined || fetchMode === "navigate")
  );
}

/**
 * What a form's POST (or any non-GET navigation) without a valid token gets instead of JSON: a page that
 * says the verification expired, that the form was not sent, and links to the challenge, which returns to
 * the page the form was on. Status 401: the request was not carried out. HiveGuard keeps nothing of the form.
 */
export function sendExpiredPage(res: ServerResponse, challengeTarget: string): void {
  const link = escapeHtml(challengeTarget);
  const body = page(
    "Verification expired",
    `<h1>Your verification expired</h1><p>What you sent was <strong>not</strong> received: the site needs a fresh check that you are human first.</p>` +
      `<p><a href="${link}">Verify, then return to the page</a>, where you will need to send the form again.</p>` +
      `<p>To keep what you typed: <a href="${link}" target="_blank" rel="noopener">verify in a new tab</a>, then come back to this tab, use your browser's Back button and send the form again (most browsers keep what was typed).</p>`,
  );
  res.writeHead(401, {
    "content-type": "text/html; charset=utf-8",
    "content-length": Buffer.byteLength(body),
    "cache-control": "no-store",
    ...OWN_PAGE_HEADERS,
  });
  res.end(body);
}
