import type { PrismaClient } from "../../../generated/prisma/client.js";
import { NotFoundError } from "../../../platform/errors.js";
import type { AuditLog, ClientInfo } from "../admin/audit.js";
import { lastFourOf, maskSecret, type SecretBox } from "../shared/secret-box.js";

const userKeyContext = (userId: string, providerKey: string) => `provider-key:${userId}:${providerKey}`;
const envKeyContext = (name: string) => `env-key:${name}`;

/**
 * A provider key from the server's own environment: only variables named like one (`*_API_KEY`), so a
 * provider's api_key_env can never read the server's own secrets (SECRET_KEY, DATABASE_URL...).
 */
function processEnvKey(env: NodeJS.ProcessEnv, name: string): string | undefined {
  return /^[A-Z0-9_]+_API_KEY$/.test(name) ? env[name] || undefined : undefined;
}

/**
 * Provider API keys. A user's own keys (`/api/keys`) and the admins' global environment keys (`/api/env`) are
 * stored AES-256-GCM encrypted (SecretBox), never returned: lists say set/unset, or show the last four
 * characters of an env key. A key is used in this order: the user's own key, then the provider's
 * `api_key_env` name among the env keys set by an admin, then the server's process environment.
 */
export class KeyService {
  constructor(
    private readonly deps: {
      prisma: PrismaClient;
      box: SecretBox;
      audit: AuditLog;
      /** The server's environment (process.env), read for api_key_env names no admin has set. */
      env: NodeJS.ProcessEnv;
    },
  ) {}

  async list(userId: string) {
    const { prisma } = this.deps;
    const [providers, keys] = await Promise.all([
      prisma.benchProvider.findMany({
        where: { userId },
        orderBy: [{ position: "asc" }, { createdAt: "asc" }],
      }),
      prisma.benchProviderKey.findMany({ where: { userId }, select: { providerKey: true, updatedAt: true } }),
    ]);
    const envNames = providers.map((p) => p.apiKeyEnv).filter((name): name is string => Boolean(name));
    const globalSet = await this.envNamesSet(envNames);
    const userKeys = new Map(keys.map((key) => [key.providerKey, key.updatedAt]));
    return {
      keys: providers.map((p) => ({
        provider_key: p.providerKey,
        display_name: p.displayName,
        key_env_name: p.apiKeyEnv ?? "",
        has_global_key: Boolean(p.apiKeyEnv && globalSet.has(p.apiKeyEnv)),
        has_user_key: userKeys.has(p.providerKey),
        user_key_updated_at: userKeys.get(p.providerKey)?.toISOString() ?? null,
      })),
    };
  }

  async set(userId: string, providerKey: string, value: string, client?: ClientInfo) {
    const { prisma, box } = this.deps;
    const provider = await prisma.benchProvider.findUnique({
      where: { userId_providerKey: { userId, providerKey } },
    });
    if (!provider) throw new NotFoundError("Provider not found");
    const sealed = box.seal(value, userKeyContext(userId, providerKey));
    const row = await prisma.benchProviderKey.upsert({
      where: { userId_providerKey: { userId, providerKey } },
      create: { userId, providerKey, ...sealed },
      update: sealed,
    });
    if (client)
      await this.deps.audit.record({
        userId,
        action: "provider_key_set",
        resourceType: "provider_key",
        resourceId: providerKey,
        client,
      });
    return { status: "ok" as const, key_id: row.id, provider_key: providerKey };
  }

  async remove(userId: string, providerKey: string, client: ClientInfo) {
    const removed = await this.deps.prisma.benchProviderKey.deleteMany({ where: { userId, providerKey } });
    if (removed.count === 0) throw new NotFoundError("Key not found");
    await this.deps.audit.record({
      userId,
      action: "provider_key_deleted",
      resourceType: "provider_key",
      resourceId: providerKey,
      client,
    });
    return { status: "ok" as const };
  }

  async hasUserKey(userId: string, providerKey: string): Promise<boolean> {
    return (await this.deps.prisma.benchProviderKey.count({ where: { userId, providerKey } })) > 0;
  }

  /**
   * The key a call to this provider uses (decrypted), or null when none is set anywhere. Global keys (admin
   * env keys, the process environment) only when `allowGlobal`: the provider talks to its official API, not
   * to a URL the user chose (which would let any user read an admin's key).
   */
  async resolve(
    userId: string,
    providerKey: string,
    apiKeyEnv: string | null,
    allowGlobal: boolean,
  ): Promise<string | null> {
    const { prisma, box } = this.deps;
    const own = await prisma.benchProviderKey.findUnique({
      where: { userId_providerKey: { userId, providerKey } },
    });
    if (own) {
      const context = userKeyContext(userId, providerKey);
      const value = box.open(own.ciphertext, own.keyId, context);
      if (value !== null) {
        // Sealed under SECRET_KEY_PREVIOUS: re-seal under the current key, so the old one can be retired.
        if (own.keyId !== box.currentKeyId)
          await prisma.benchProviderKey
            .update({ where: { id: own.id }, data: box.seal(value, context) })
            .catch(() => undefined);
        return value;
      }
    }
    if (!apiKeyEnv || !allowGlobal) return null;
    return (await this.envValue(apiKeyEnv)) ?? null;
  }

  // ── global environment keys (admin) ──────────────────────────────────────────────────────────────────

  async listEnv() {
    const { prisma } = this.deps;
    const stored = await prisma.benchEnvKey.findMany({ orderBy: { name: "asc" } });
    const referenced = await prisma.benchProvider.findMany({
      where: { apiKeyEnv: { not: null } },
      distinct: ["apiKeyEnv"],
      select: { apiKeyEnv: true },
    });
    const entries = new Map(
      stored.map((key) => [
        key.name,
        { name: key.name, masked_value: maskSecret(key.lastFour), is_set: true },
      ]),
    );
    for (const { apiKeyEnv } of referenced) {
      if (!apiKeyEnv || entries.has(apiKeyEnv)) continue;
      const value = processEnvKey(this.deps.env, apiKeyEnv);
      entries.set(apiKeyEnv, {
        name: apiKeyEnv,
        masked_value: value ? maskSecret(lastFourOf(value)) : "",
        is_set: Boolean(value),
      });
    }
    return { keys: [...entries.values()].sort((a, b) => a.name.localeCompare(b.name)) };
  }

  async setEnv(name: string, value: string, admin: { userId: string }, client: ClientInfo) {
    const sealed = this.deps.box.seal(value, envKeyContext(name));
    const lastFour = lastFourOf(value);
    await this.deps.prisma.benchEnvKey.upsert({
      where: { name },
      create: { name, ...sealed, lastFour, updatedBy: admin.userId },
      update: { ...sealed, lastFour, updatedBy: admin.userId },
    });
    await this.deps.audit.record({
      userId: admin.userId,
      action: "env_key_set",
      resourceType: "env_key",
      resourceId: name,
      client,
    });
    return { status: "ok" as const, name, masked_value: maskSecret(lastFour) };
  }

  async removeEnv(name: string, admin: { userId: string }, client: ClientInfo) {
    const removed = await this.deps.prisma.benchEnvKey.deleteMany({ where: { name } });
    if (removed.count === 0) throw new NotFoundError("Key not found");
    await this.deps.audit.record({
      userId: admin.userId,
      action: "env_key_deleted",
      resourceType: "env_key",
      resourceId: name,
      client,
    });
    return { status: "ok" as const };
  }

  private async envValue(name: string): Promise<string | undefined> {
    const { prisma, box } = this.deps;
    const stored = await prisma.benchEnvKey.findUnique({ where: { name } });
    if (stored) {
      const value = box.open(stored.ciphertext, stored.keyId, envKeyContext(name));
      if (value !== null) {
        if (stored.keyId !== box.currentKeyId)
          await prisma.benchEnvKey
            .update({ where: { name }, data: box.seal(value, envKeyContext(name)) })
            .catch(() => undefined);
        return value;
      }
    }
    return processEnvKey(this.deps.env, name);
  }

  private async envNamesSet(names: string[]): Promise<Set<string>> {
    if (names.length === 0) return new Set();
    const stored = await this.deps.prisma.benchEnvKey.findMany({
      where: { name: { in: names } },
      select: { name: true },
    });
    return new Set([
      ...stored.map((key) => key.name),
      ...names.filter((name) => Boolean(processEnvKey(this.deps.env, name))),
    ]);
  }
}
