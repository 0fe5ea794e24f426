import { createHash, randomUUID } from "node:crypto";
import { errors, jwtVerify, SignJWT } from "jose";
import { safeEqual } from "../../../platform/auth.js";
import type { ClientHasher, ClientInfo } from "./client.js";

export const TOKEN_AUDIENCE = "hiveguard";
export const TOKEN_ISSUER = "hiveguard";
export const TOKEN_COOKIE = "hiveguard_token";
export const TOKEN_HEADER = "X-HiveGuard-Token";
const ALGORITHM = "HS256";

/**
 * The token cookie exactly as HiveGuard sets it, on the hosted challenge page and when the proxy renews it:
 * the whole site (Path=/), for the token's life, out of scripts' reach, sent on top-level navigations from
 * other sites but not on their subrequests (SameSite=Lax), and only over HTTPS when the visitor uses it.
 */
export function tokenCookie(token: string, ttlSec: number, secure: boolean): string {
  return `${TOKEN_COOKIE}=${token}; Path=/; Max-Age=${ttlSec}; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`;
}
/** Clock skew tolerated between instances when checking exp/nbf/iat. */
const CLOCK_TOLERANCE_SEC = 5;

export interface TokenClaims {
  /** Client hash (IP + User-Agent) the token is bound to. */
  sub: string;
  jti: string;
  exp: number;
  iat: number;
  /** Tier of the solved challenge; absent on bypass tokens. */
  tier?: number;
  /** Set when no challenge was solved because the pool was empty (fail-open). */
  bypass?: string;
  /** Siteverify binding (issue 19): the id of the API key (site key) the challenge was solved with. */
  site?: string;
  /** Hostname of the page the widget ran on (from the submit's Origin or Referer); "" when unknown. */
  hn?: string;
  /** Keyed hash of the solver's IP alone, so siteverify can check `remoteip` (the User-Agent is not sent). */
  iph?: string;
  /** Risk score of the solved session (1.0 = surely human). */
  score?: number;
}

/** What a token carries besides its client binding and lifetime (siteverify reads these). */
export interface SiteClaims {
  site?: string;
  hostname?: string;
  ipHash?: string;
  score?: number;
}

export type TokenVerdict =
  | { valid: true; claims: TokenClaims }
  | {
      valid: false;
      reason: "malformed" | "algorithm" | "signature" | "expired" | "claims" | "client";
    };

interface SigningKey {
  kid: string;
  /** Imported once: jose would import raw bytes again on every call, which costs more than the HMAC. */
  key: Promise<CryptoKey>;
}

function hmacKey(secret: string): SigningKey {
  return {
    kid: keyId(secret),
    key: crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(secret),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign", "verify"],
    ),
  };
}

/** The `kid` of a secret: a short digest that names it without revealing anything about it. */
export function keyId(secret: string): string {
  return createHash("sha256").update(`hiveguard:token-kid:${secret}`).digest("base64url").slice(0, 12);
}

/**
 * Challenge tokens: HS256 JWTs signed with SECRET_KEY (jose). Each names its key in the `kid` header, so a
 * rotation keeps accepting tokens signed with SECRET_KEY_PREVIOUS until they expire. `sub` binds the
 * token to the client that solved the challenge; `verifyToken` is what the proxy calls on every request.
 */
export class TokenService {
  private readonly current: SigningKey;
  private readonly byKid = new Map<string, SigningKey>();

  constructor(
    secretKey: string,
    previousSecretKey: string | undefined,
    private readonly clients: ClientHasher,
    private readonly now: () => number = Date.now,
  ) {
    this.current = hmacKey(secretKey);
    this.byKid.set(this.current.kid, this.current);
    if (previousSecretKey) {
      const previous = hmacKey(previousSecretKey);
      this.byKid.set(previous.kid, previous);
    }
  }

  async sign(
    claims: { client: string; ttlSec: number; tier?: number; bypass?: string } & SiteClaims,
  ): Promise<string> {
    const iat = Math.floor(this.now() / 1000);
    return new SignJWT({
      ...(claims.tier !== undefined && { tier: claims.tier }),
      ...(claims.bypass !== undefined && { bypass: claims.bypass }),
      ...(claims.site !== undefined && { site: claims.site }),
      ...(claims.hostname !== undefined && { hn: claims.hostname }),
      ...(claims.ipHash !== undefined && { iph: claims.ipHash }),
      ...(claims.score !== undefined && { score: claims.score }),
    })
      .setProtectedHeader({ alg: ALGORITHM, typ: "JWT", kid: this.current.kid })
      .setSubject(claims.client)
      .setAudience(TOKEN_AUDIENCE)
      .setIssuer(TOKEN_ISSUER)
      .setJti(randomUUID())
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(iat + claims.ttlSec)
      .sign(await this.current.key);
  }

  /**
   * A fresh token for a verified one that `client` presented (the proxy's renewal, docs/proxy.md): same tier
   * and score, new jti/iat/exp, and `sub` hashed under the current secret, so that renewals do not keep a
   * `SECRET_KEY_PREVIOUS` binding alive past a rotation.
   */
  renew(claims: TokenClaims, client: ClientInfo, ttlSec: number): Promise<string> {
    return this.sign({
      client: this.clients.hash(client),
      ttlSec,
      ...(claims.tier !== undefined && { tier: claims.tier }),
      ...(claims.score !== undefined && { score: claims.score }),
    });
  }

  /**
   * Checks a token presented by `client`: only HS256 (so never `alg: none` nor any other algorithm), a
   * known `kid` and a valid signature, not expired nor not-yet-valid, our audience and issuer, and a `sub`
   * equal to this client's hash (compared in constant time).
   */
  async verifyToken(token: string, client: ClientInfo): Promise<TokenVerdict> {
    const verdict = await this.verifySigned(token);
    if (!verdict.valid) return verdict;
    // Every candidate is compared (no early exit), each in constant time.
    const matches = this.clients.hashes(client).map((hash) => safeEqual(hash, verdict.claims.sub));
    if (!matches.includes(true)) return { valid: false, reason: "client" };
    return verdict;
  }

  /** The keyed hash of an IP alone (the `iph` claim), under the current and the previous secret. */
  ipHashes(ip: string): string[] {
    return this.clients.ipHashes(ip);
  }

  ipHash(ip: string): string {
    return this.clients.ipHashes(ip)[0]!;
  }

  /**
   * Every check of `verifyToken` except the client binding: siteverify is called by the site's server, not by
   * the visitor, so it checks the site, hostname and (when given) `remoteip` bindings instead.
   */
  async verifySigned(token: string): Promise<TokenVerdict> {
    if (typeof token !== "string" || token.length > 4096) return { valid: false, reason: "malformed" };
    let payload: Record<string, unknown>;
    try {
      const result = await jwtVerify(
        token,
        (header) => {
          if (header.alg !== ALGORITHM) throw new errors.JOSEAlgNotAllowed("algorithm not allowed");
          const key = header.kid ? this.byKid.get(header.kid) : undefined;
          if (!key) throw new errors.JWSSignatureVerificationFailed("unknown key");
          return key.key;
        },
        {
          algorithms: [ALGORITHM],
          audience: TOKEN_AUDIENCE,
          issuer: TOKEN_ISSUER,
          requiredClaims: ["sub", "jti", "exp", "iat", "nbf"],
          clockTolerance: CLOCK_TOLERANCE_SEC,
          currentDate: new Date(this.now()),
        },
      );
      payload = result.payload as Record<string, unknown>;
    } catch (error) {
      return { valid: false, reason: reasonOf(error) };
    }
    return { valid: true, claims: payload as unknown as TokenClaims };
  }
}

function reasonOf(error: unknown): Exclude<TokenVerdict, { valid: true }>["reason"] {
  if (error instanceof errors.JWTExpired) return "expired";
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported)
    return "algorithm";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "signature";
  if (error instanceof errors.JWTClaimValidationFailed) return "claims";
  return "malformed";
}
