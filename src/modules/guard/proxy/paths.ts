/** Where HiveGuard's own surface lives; everything else on the main port is the protected site. */
export const HIVEGUARD_PREFIX = "/_hiveguard";
export const CHALLENGE_PAGE = "/_hiveguard/challenge";
export const PROMETHEUS_PATH = "/_hiveguard/metrics";

/** `url` is `prefix` or continues it with `/` or `?` (so `/docsite` is not `/docs`). */
function underSegment(url: string, prefix: string): boolean {
  if (!url.startsWith(prefix)) return false;
  const next = url.charCodeAt(prefix.length);
  return Number.isNaN(next) || next === 47 /* / */ || next === 63; /* ? */
}

/** `/_hiveguard/*`: HiveGuard's on every listener (challenge page, widget, metrics). */
export function isHiveGuardPath(url: string): boolean {
  return url.charCodeAt(1) === 95 /* _ */ && underSegment(url, HIVEGUARD_PREFIX);
}

/**
 * HiveGuard's own paths on the main port: `/api/v1/*`, `/dashboard*`, `/trpc`, `/graphql`, `/docs`,
 * `/openapi.json`, `/_hiveguard/*`, and the experiment-tracking API (`/api/projects/*`, `/tracker/*`).
 * Dispatched on the second character so the common case (a site path) costs one comparison.
 */
export function isOwnPath(url: string): boolean {
  switch (url.charCodeAt(1)) {
    case 97 /* a */:
      return underSegment(url, "/api/v1") || underSegment(url, "/api/projects");
    case 100 /* d */:
      return url.startsWith("/dashboard") || underSegment(url, "/docs");
    case 116 /* t */:
      return underSegment(url, "/trpc") || underSegment(url, "/tracker");
    case 103 /* g */:
      return underSegment(url, "/graphql");
    case 111 /* o */:
      return underSegment(url, "/openapi.json");
    case 95 /* _ */:
      return underSegment(url, HIVEGUARD_PREFIX);
    default:
      return false;
  }
}

/** Where a challenged browser goes, returning to `url` (path and query) once solved. */
export function challengeUrl(url: string): string {
  return `${CHALLENGE_PAGE}?return=${encodeURIComponent(url)}`;
}

/**
 * The tracking pages (`/`, `/projects/*`) sit where a protected site has its own pages. They are
 * HiveGuard's on the main port unless that port fronts a real site (TARGET_URL set and no PROXY_PORT);
 * then `/` and `/projects/*` are the site's. With PROXY_PORT set, the site is served on that port and the
 * tracking pages stay on the main port.
 */
export function isTrackingPage(url: string): boolean {
  return url === "/" || url.charCodeAt(1) === 63 /* ? */ || underSegment(url, "/projects");
}

export function ownPathMatcher(options: { siteOnMainPort: boolean }): (url: string) => boolean {
  if (options.siteOnMainPort) return isOwnPath;
  return (url) => isOwnPath(url) || isTrackingPage(url);
}
