// Token renewal on the proxy path (issue 17, point 3): a visitor who keeps using the site keeps a valid
// cookie, so a form filled in slowly is not lost to an expired token. docs/proxy.md, "Token renewal".
import type { TokenClaims } from "../challenges/token.js";

/**
 * Share of a token's life after which a proxied response carries a fresh cookie: past half its life
 * (150 s of the default 300 s `challenge_token_ttl`), a request with the cookie gets a new token.
 */
export const RENEW_SHARE = 0.5;

/**
 * When a verified token's renewal becomes due, in ms since the epoch; `Infinity` for the tokens that are
 * never renewed: bypass tokens (issued without a challenge while the pool was empty, they must meet a
 * challenge once the pool is back) and tokens bound to a site for siteverify (`site`, `hn`, `iph`: they are
 * the site's server's business, not a cookie's).
 */
export function renewalDue(claims: TokenClaims): number {
  if (claims.bypass !== undefined || claims.site !== undefined || claims.hn !== undefined) return Infinity;
  if (claims.iph !== undefined || typeof claims.iat !== "number" || typeof claims.exp !== "number")
    return Infinity;
  return (claims.iat + (claims.exp - claims.iat) * RENEW_SHARE) * 1000;
}
