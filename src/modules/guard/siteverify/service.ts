import { isIP } from "node:net";
import type { Logger } from "pino";
import { safeEqual } from "../../../platform/auth.js";
import type { StateStore } from "../../../platform/state/index.js";
import { hashKey, type SiteOfSecret } from "../apikeys/service.js";
import { normalizeIp } from "../challenges/client.js";
import { hostnameAllowed } from "../challenges/service.js";
import type { TokenClaims, TokenService } from "../challenges/token.js";
import { isoDate } from "../shared.schema.js";
import type {
  SiteverifyAnswer,
  SiteverifyErrorCode,
  SiteverifyInput,
  SiteverifyReason,
} from "./siteverify.schema.js";

export interface SiteverifyDeps {
  /** The site of a secret (ApiKeyService.siteForSecret). */
  sites: { siteForSecret(secret: string): Promise<SiteOfSecret | null> };
  tokens: TokenService;
  state: StateStore;
  log: Logger;
  now?: () => number;
}

/** A spent token is remembered this much longer than it lives (the token check tolerates 5 s of skew). */
const SPENT_MARGIN_MS = 30_000;

/**
 * Siteverify (issue 19): the site's server checks a widget token with its secret, as it would with hCaptcha,
 * Turnstile or reCAPTCHA. A token passes once: it must be signed by us and unexpired, issued for the secret's
 * site key, on one of the key's hostnames (when it has a list), to the `remoteip` (when given), and not spent:
 * the first check marks it spent in the state store with an atomic SET NX, so a second check on any instance
 * answers `timeout-or-duplicate` (unless it repeats the first call's `idempotency_key`).
 */
export class SiteverifyService {
  private readonly now: () => number;

  constructor(private readonly deps: SiteverifyDeps) {
    this.now = deps.now ?? Date.now;
  }

  async verify(input: SiteverifyInput): Promise<SiteverifyAnswer> {
    const missing: SiteverifyErrorCode[] = [];
    if (!input.secret) missing.push("missing-input-secret");
    if (!input.response) missing.push("missing-input-response");
    if (missing.length > 0) return failure(missing);
    const secret = input.secret!;
    const response = input.response!;

    const site = await this.deps.sites.siteForSecret(secret);
    if (!site) return failure(["invalid-input-secret"]);
    if (input.sitekey !== undefined && input.sitekey !== "") {
      if (!safeEqual(hashKey(input.sitekey), site.keyHash)) return failure(["sitekey-secret-mismatch"]);
    }
    let remoteHashes: string[] | null = null;
    if (input.remoteip !== undefined && input.remoteip !== "") {
      const ip = normalizeIp(input.remoteip);
      if (isIP(ip) === 0) return failure(["bad-request"]);
      remoteHashes = this.deps.tokens.ipHashes(ip);
    }

    const verdict = await this.deps.tokens.verifySigned(response);
    if (!verdict.valid) {
      return verdict.reason === "expired"
        ? refused("timeout-or-duplicate", "expired", site.keyId)
        : refused(
            "invalid-input-response",
            verdict.reason === "client" ? "claims" : verdict.reason,
            site.keyId,
          );
    }
    const claims = verdict.claims;
    // Tokens of the hosted page (no site key) are the proxy's cookie, never a site's.
    if (typeof claims.site !== "string")
      return refused("invalid-input-response", "not_a_site_token", site.keyId);
    if (!safeEqual(claims.site, site.keyId))
      return refused("invalid-input-response", "other_site", site.keyId);
    const hostname = typeof claims.hn === "string" ? claims.hn : "";
    if (!hostnameAllowed(hostname, site.hostnames))
      return refused("invalid-input-response", "hostname", site.keyId);
    if (remoteHashes) {
      const bound = typeof claims.iph === "string" ? claims.iph : "";
      // Every candidate compared (current and previous SECRET_KEY), each in constant time.
      const matches = remoteHashes.map((hash) => safeEqual(hash, bound));
      if (!matches.includes(true)) return refused("invalid-input-response", "remoteip", site.keyId);
    }

    // Single use across instances: the first check spends the token (SET NX, until it would expire anyway).
    const idempotencyKey = input.idempotencyKey ?? "";
    const spentKey = `siteverify:spent:${claims.jti}`;
    const ttlMs = Math.max(1000, claims.exp * 1000 - this.now() + SPENT_MARGIN_MS);
    const first = await this.deps.state.set(spentKey, `k:${idempotencyKey}`, { ttlMs, ifNotExists: true });
    if (!first) {
      const stored = idempotencyKey ? await this.deps.state.get(spentKey) : null;
      if (stored === null || !safeEqual(stored, `k:${idempotencyKey}`))
        return refused("timeout-or-duplicate", "duplicate", site.keyId);
      return success(claims, hostname, true);
    }
    return success(claims, hostname, false);
  }
}

function success(claims: TokenClaims, hostname: string, replayed: boolean): SiteverifyAnswer {
  return {
    success: true,
    challenge_ts: isoDate(new Date(claims.iat * 1000)),
    hostname,
    "error-codes": [],
    score: typeof claims.score === "number" ? claims.score : null,
    action: "",
    cdata: "",
    hiveguard: {
      site_key_id: claims.site ?? null,
      tier: typeof claims.tier === "number" ? claims.tier : null,
      bypass: typeof claims.bypass === "string" ? claims.bypass : null,
      expires_at: isoDate(new Date(claims.exp * 1000)),
      reason: null,
      replayed,
    },
  };
}

/** A refusal before the secret is known: the error codes alone. */
export function failure(codes: SiteverifyErrorCode[]): SiteverifyAnswer {
  return { success: false, "error-codes": codes };
}

/** A token refused for a known site: the code, and the reason under our extras (the site holds the secret). */
function refused(code: SiteverifyErrorCode, reason: SiteverifyReason, siteKeyId: string): SiteverifyAnswer {
  return {
    success: false,
    "error-codes": [code],
    hiveguard: {
      site_key_id: siteKeyId,
      tier: null,
      bypass: null,
      expires_at: null,
      reason,
      replayed: false,
    },
  };
}
