import { createHmac } from "node:crypto";

/** Who is solving: the request's IP and User-Agent, as the token's `sub` binds them. */
export interface ClientInfo {
  ip: string;
  userAgent: string;
}

/**
 * A stable, non-reversible id of a client (HMAC of IP and User-Agent with a key derived from SECRET_KEY):
 * the votes' solver id, the sessions' client hash and the token's `sub`. Without the secret nobody can
 * tell which IP a hash stands for, so it is safe in tokens, logs and exports.
 */
export class ClientHasher {
  private readonly keys: Buffer[];

  constructor(secretKey: string, previousSecretKey?: string) {
    this.keys = [secretKey, previousSecretKey]
      .filter((secret): secret is string => Boolean(secret))
      .map((secret) => createHmac("sha256", secret).update("hiveguard:client-hash:v1").digest());
  }

  hash(client: ClientInfo): string {
    return this.hashWith(this.keys[0]!, client);
  }

  /** Hashes under the current and the previous secret (a token signed before a rotation carries the old one). */
  hashes(client: ClientInfo): string[] {
    return this.keys.map((key) => this.hashWith(key, client));
  }

  /**
   * Keyed hashes of an IP address alone (current secret first): the token's `iph` claim, which siteverify
   * compares with `remoteip`. IPv4-mapped IPv6 addresses count as their IPv4 address.
   */
  ipHashes(ip: string): string[] {
    const normal = normalizeIp(ip);
    return this.keys.map((key) =>
      createHmac("sha256", key).update("ip\0").update(normal).digest("base64url").slice(0, 22),
    );
  }

  private hashWith(key: Buffer, client: ClientInfo): string {
    return createHmac("sha256", key)
      .update(client.ip)
      .update("\0")
      .update(client.userAgent.slice(0, 512))
      .digest("base64url")
      .slice(0, 32);
  }
}

/** Lower case, without an IPv4-mapped IPv6 prefix or an IPv6 zone. */
export function normalizeIp(ip: string): string {
  const lower = ip.trim().toLowerCase().replace(/%.*$/, "");
  return lower.startsWith("::ffff:") && lower.includes(".") ? lower.slice(7) : lower;
}
