/** Where HiveGuard's own surface lives; everything else on the main port is the protected site. */
export const HIVEGUARD_PREFIX = "/_hiveguard";
export const CHALLENGE_PAGE = "/_hiveguard/challenge";
export const PROMETHEUS_PATH = "/_hiveguard/metrics";
/** Forward auth (forward-auth.ts): answered by the gateway's node:http handler, not by Fastify. */
export const FORWARD_AUTH_PATH = "/_hiveguard/auth";

/** `url` is `prefix` or continues it with `/` or `?` (so `/docsite` is not `/docs`). */
function underSegment(url: string, prefix: string): boolean {
  if (!url.startsWith(prefix)) return false;
  const next = url.charCodeAt(prefix.length);
  return Number.isNaN(next) || next === 47 /* / */ || next === 63; /* ? */
}

/** `/_hiveguard/auth`, with or without a query (not a longer path). */
export function isForwardAuthPath(url: string): boolean {
  if (url.charCodeAt(1) !== 95 /* _ */ || !url.startsWith(FORWARD_AUTH_PATH)) return false;
  const next = url.charCodeAt(FORWARD_AUTH_PATH.length);
  return Number.isNaN(next) || next === 63; /* ? */
}

/**
 * `/_hiveguard/*`: Fastify's on every listener (challenge page, widget, metrics), except the forward-auth
 * endpoint, which the gateway answers itself.
 */
export function isHiveGuardPath(url: string): boolean {
  return url.charCodeAt(1) === 95 /* _ */ && underSegment(url, HIVEGUARD_PREFIX) && !isForwardAuthPath(url);
}

/** Where a challenged browser goes, returning to `url` (path and query) once solved. */
export function challengeUrl(url: string): string {
  return `${CHALLENGE_PAGE}?return=${encodeURIComponent(url)}`;
}
