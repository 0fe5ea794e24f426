import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from "node:crypto";

/**
 * AES-256-GCM for the secrets bench keeps (users' provider keys, admins' environment keys). The key is derived
 * from SECRET_KEY with HKDF-SHA256 (never SECRET_KEY itself); `keyId` names the derived key, so values sealed
 * under SECRET_KEY_PREVIOUS still open after a rotation and are re-sealed under the new key when next read.
 * `context` (e.g. "provider-key:<user>:<provider>") is bound as additional data: a ciphertext copied to another
 * row does not open.
 */
export class SecretBox {
  private readonly keys: { id: string; key: Buffer }[];

  constructor(secretKey: string, previousSecretKey?: string) {
    this.keys = [secretKey, ...(previousSecretKey ? [previousSecretKey] : [])].map((secret) => {
      const key = Buffer.from(hkdfSync("sha256", secret, "hiveguard:bench", "secret-box:v1", 32));
      return { id: createHash("sha256").update(key).digest("hex").slice(0, 16), key };
    });
  }

  /** The id of the key new values are sealed with. */
  get currentKeyId(): string {
    return this.keys[0]!.id;
  }

  seal(plaintext: string, context: string): { ciphertext: string; keyId: string } {
    const { id, key } = this.keys[0]!;
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    cipher.setAAD(Buffer.from(context));
    const data = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    const tag = cipher.getAuthTag();
    return {
      ciphertext: `v1.${iv.toString("base64")}.${tag.toString("base64")}.${data.toString("base64")}`,
      keyId: id,
    };
  }

  /** The plaintext, or null when the key is gone (SECRET_KEY changed without SECRET_KEY_PREVIOUS) or the value was tampered with. */
  open(ciphertext: string, keyId: string, context: string): string | null {
    const key = this.keys.find((candidate) => candidate.id === keyId)?.key;
    const [version, iv, tag, data] = ciphertext.split(".");
    if (!key || version !== "v1" || !iv || !tag || data === undefined) return null;
    try {
      const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64"));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(Buffer.from(tag, "base64"));
      return Buffer.concat([decipher.update(Buffer.from(data, "base64")), decipher.final()]).toString("utf8");
    } catch {
      return null;
    }
  }
}

/** "****abcd": the last four characters of a secret, for lists (nothing for a secret of eight or fewer). */
export function maskSecret(lastFour: string): string {
  return `****${lastFour}`;
}

/** What may be shown of a secret: its last four characters when it is long enough to keep the rest hidden. */
export function lastFourOf(secret: string): string {
  return secret.length > 8 ? secret.slice(-4) : "";
}
