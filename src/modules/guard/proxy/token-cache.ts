import type { TokenClaims } from "../challenges/token.js";

/**
 * A token once verified for one client. `renewAt` is when the gateway starts giving the visitor a fresh
 * cookie (renewal.ts); `Infinity` for tokens that are never renewed (bypass and siteverify tokens).
 */
export interface VerifiedToken {
  /** `exp` in ms: never trusted past it. */
  expiresAt: number;
  /** When renewal becomes due, in ms (`Infinity`: never). */
  renewAt: number;
  claims: TokenClaims;
  /** The renewed token once signed (at most once per token per instance); null while not (yet) signed. */
  renewed: string | null;
  /** The signing under way (so concurrent requests do not sign again); null when none is. */
  renewing: Promise<void> | null;
}

/**
 * Tokens already verified for a client, so a visitor's every request does not pay for a JWT parse and an
 * HMAC again: key = token + client IP + User-Agent (the binding is part of the key), value = what renewal
 * needs and the expiry in ms. Only successful verifications are stored; the map is bounded (oldest
 * insertion dropped first) and an entry is never trusted past its token's `exp`.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, VerifiedToken>();

  constructor(
    private readonly maxEntries = 50_000,
    private readonly now: () => number = Date.now,
  ) {}

  static key(token: string, ip: string, userAgent: string): string {
    return `${token}\n${ip}\n${userAgent}`;
  }

  /** The entry when this exact token was verified for this client and has not expired since. */
  get(key: string): VerifiedToken | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > this.now()) return entry;
    this.entries.delete(key);
    return undefined;
  }

  add(key: string, claims: TokenClaims, renewAt = Infinity): VerifiedToken {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    const entry: VerifiedToken = {
      expiresAt: claims.exp * 1000,
      renewAt,
      claims,
      renewed: null,
      renewing: null,
    };
    this.entries.set(key, entry);
    return entry;
  }

  get size(): number {
    return this.entries.size;
  }
}
