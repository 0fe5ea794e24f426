/**
 * Tokens already verified for a client, so a visitor's every request does not pay for a JWT parse and an
 * HMAC again: key = token + client IP + User-Agent (the binding is part of the key), value = expiry in ms.
 * Only successful verifications are stored; the map is bounded (oldest insertion dropped first) and an
 * entry is never trusted past its token's `exp`.
 */
export class VerifiedTokenCache {
  private readonly entries = new Map<string, number>();

  constructor(
    private readonly maxEntries = 50_000,
    private readonly now: () => number = Date.now,
  ) {}

  static key(token: string, ip: string, userAgent: string): string {
    return `${token}\n${ip}\n${userAgent}`;
  }

  /** True when this exact token was verified for this client and has not expired since. */
  has(key: string): boolean {
    const expiresAt = this.entries.get(key);
    if (expiresAt === undefined) return false;
    if (expiresAt > this.now()) return true;
    this.entries.delete(key);
    return false;
  }

  add(key: string, expSec: number): void {
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, expSec * 1000);
  }

  get size(): number {
    return this.entries.size;
  }
}
