import { hkdfSync, randomUUID } from "node:crypto";
import { errors, jwtVerify, SignJWT } from "jose";

/** `access`: the 15-minute bearer token; `cli`: the 30-day token of `POST /api/auth/cli-token` (has a jti). */
export type TokenType = "access" | "cli";

export interface TokenClaims {
  sub: string;
  role: string;
  type: TokenType;
  jti?: string;
}

export const ACCESS_TOKEN_TTL_SEC = 15 * 60;
export const CLI_TOKEN_TTL_DAYS = 30;
const ISSUER = "hiveguard:bench";

/**
 * The bench JWTs: HS256 with a key derived from SECRET_KEY by HKDF (SECRET_KEY_PREVIOUS still verifies during
 * a rotation). Only HS256 is accepted: `alg: none`, other algorithms, a wrong signature, another issuer or an
 * expired token are all refused the same way (null).
 */
export class JwtService {
  private readonly keys: Uint8Array[];

  constructor(secretKey: string, previousSecretKey?: string) {
    this.keys = [secretKey, ...(previousSecretKey ? [previousSecretKey] : [])].map(
      (secret) => new Uint8Array(hkdfSync("sha256", secret, "hiveguard:bench", "jwt:v1", 32)),
    );
  }

  async sign(claims: TokenClaims, ttlSec: number): Promise<string> {
    const jwt = new SignJWT({ role: claims.role, type: claims.type })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setSubject(claims.sub)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttlSec)
      .setJti(claims.jti ?? randomUUID());
    return jwt.sign(this.keys[0]!);
  }

  async verify(token: string): Promise<TokenClaims | null> {
    for (const key of this.keys) {
      try {
        const { payload } = await jwtVerify(token, key, { algorithms: ["HS256"], issuer: ISSUER });
        const type = payload.type;
        if ((type !== "access" && type !== "cli") || typeof payload.sub !== "string") return null;
        return {
          sub: payload.sub,
          role: typeof payload.role === "string" ? payload.role : "user",
          type,
          ...(typeof payload.jti === "string" && { jti: payload.jti }),
        };
      } catch (error) {
        // Expired, malformed, wrong claims: no other key would make it valid.
        if (!(error instanceof errors.JWSSignatureVerificationFailed)) return null;
      }
    }
    return null;
  }
}
