import { SESSION_COOKIE } from "../../../platform/auth.js";
import { TOKEN_COOKIE } from "../challenges/token.js";

export const COOKIE_PREFIX = `${TOKEN_COOKIE}=`;
/** The web dashboard's session cookie: an operator credential, never for the upstream site's eyes. */
export const SESSION_PREFIX = `${SESSION_COOKIE}=`;

/** The token cookie's value and the Cookie header without HiveGuard's own cookies (token, dashboard session). */
export function splitTokenCookie(header: string): { found: string | undefined; rest: string } {
  let found: string | undefined;
  const kept: string[] = [];
  for (const part of header.split(";")) {
    const pair = part.trim();
    if (pair.startsWith(COOKIE_PREFIX)) found ??= pair.slice(COOKIE_PREFIX.length);
    else if (pair !== "" && !pair.startsWith(SESSION_PREFIX)) kept.push(pair);
  }
  return { found, rest: kept.join("; ") };
}
