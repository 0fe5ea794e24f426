import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Logger } from "pino";
import type { PrismaClient } from "../../../generated/prisma/client.js";
import { API_KEY_SCOPES, type ApiKeyPrincipal, type ApiKeyScope } from "../../../platform/auth.js";
import { NotFoundError, ValidationError } from "../../../platform/errors.js";
import type { StateStore } from "../../../platform/state/index.js";
import { isoDate } from "../shared.schema.js";
import type { ApiKeyOut, CreateApiKeyInput, CreatedApiKey } from "./apikeys.schema.js";

export const KEY_PREFIX = "hg_";
/** 32 random bytes (256 bits), base64url: 43 characters after the prefix. */
const KEY_BYTES = 32;
const KEY_PATTERN = /^hg_[A-Za-z0-9_-]{43}$/;
/** Shown in lists: "hg_" plus 6 characters (36 of the 256 bits). */
const DISPLAY_CHARS = 9;
const REVOKED_CHANNEL = "apikeys:revoked";

/** A verified key stays cached this long at most; revocations evict it everywhere at once via pub/sub. */
const POSITIVE_TTL_MS = 60_000;
/** Unknown keys are remembered briefly so a flood of bad keys does not reach the database. */
const NEGATIVE_TTL_MS = 5_000;
const MAX_CACHED = 10_000;

type KeyRow = Awaited<ReturnType<PrismaClient["apiKey"]["findFirstOrThrow"]>>;

interface CacheEntry {
  principal: ApiKeyPrincipal | null;
  expiresAt: number;
}

export function hashKey(rawKey: string): string {
  return createHash("sha256").update(rawKey).digest("hex");
}

function knownScopes(stored: string[]): ApiKeyScope[] {
  return API_KEY_SCOPES.filter((scope) => stored.includes(scope));
}

function toOut(row: KeyRow): ApiKeyOut {
  return {
    id: row.id,
    label: row.label,
    key_prefix: row.keyPrefix,
    datasets: row.datasets,
    sample_rate: row.sampleRate,
    scopes: knownScopes(row.scopes),
    created_at: isoDate(row.createdAt),
  };
}

/**
 * API keys: stored as SHA-256 hashes with a short display prefix. Verification is on every public request,
 * so it is one hash and one in-process map lookup; a miss costs one indexed query. Revoking publishes the
 * key's hash, and every instance drops it from its cache before answering its next request.
 */
export class ApiKeyService {
  private readonly cache = new Map<string, CacheEntry>();
  /** Bumped on every revocation message; a lookup that started before one must not fill the cache. */
  private generation = 0;
  private unsubscribe: (() => Promise<void>) | null = null;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly state: StateStore,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  async start(): Promise<void> {
    // After a lost pub/sub connection a revocation may have been missed: forget every cached key.
    this.unsubscribe = await this.state.subscribe(REVOKED_CHANNEL, (keyHash) => this.evict(keyHash), {
      onResync: () => {
        this.generation++;
        this.cache.clear();
      },
    });
  }

  async stop(): Promise<void> {
    await this.unsubscribe?.();
    this.cache.clear();
  }

  async create(input: CreateApiKeyInput): Promise<CreatedApiKey> {
    const datasets = [...new Set(input.datasets.map((id) => id.toLowerCase()))];
    if (datasets.length > 0) {
      const found = await this.prisma.dataset.findMany({
        where: { id: { in: datasets } },
        select: { id: true },
      });
      const known = new Set(found.map((row) => row.id));
      const issues = input.datasets
        .map((id, index) => ({ id: id.toLowerCase(), index }))
        .filter(({ id }) => !known.has(id))
        .map(({ index }) => ({
          loc: ["body", "datasets", index],
          msg: "Dataset not found",
          type: "not_found",
        }));
      if (issues.length > 0) throw new ValidationError(issues);
    }
    const rawKey = `${KEY_PREFIX}${randomBytes(KEY_BYTES).toString("base64url")}`;
    const row = await this.prisma.apiKey.create({
      data: {
        label: input.label,
        keyHash: hashKey(rawKey),
        keyPrefix: rawKey.slice(0, DISPLAY_CHARS),
        datasets,
        sampleRate: input.sample_rate,
        scopes: [...new Set(input.scopes ?? API_KEY_SCOPES)],
      },
    });
    this.log.info({ apiKeyId: row.id, keyPrefix: row.keyPrefix }, "API key created");
    return { ...toOut(row), raw_key: rawKey };
  }

  async list(): Promise<ApiKeyOut[]> {
    const rows = await this.prisma.apiKey.findMany({
      where: { revokedAt: null },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    });
    return rows.map(toOut);
  }

  async revoke(id: string): Promise<void> {
    const row = await this.prisma.apiKey.findFirst({
      where: { id, revokedAt: null },
      select: { keyHash: true },
    });
    if (!row) throw new NotFoundError("API key not found");
    const { count } = await this.prisma.apiKey.updateMany({
      where: { id, revokedAt: null },
      data: { revokedAt: new Date(this.now()) },
    });
    if (count === 0) throw new NotFoundError("API key not found");
    this.evict(row.keyHash);
    // The database is the truth: if the state store is away, the revocation still stands; other instances
    // drop their caches when their pub/sub connection comes back (resync), or when the entry expires (60 s).
    await this.state.publish(REVOKED_CHANNEL, row.keyHash).catch((error: unknown) => {
      this.log.warn({ err: error, apiKeyId: id }, "revocation not published (state store unavailable)");
    });
    this.log.info({ apiKeyId: id }, "API key revoked");
  }

  /** The `X-HiveGuard-Key` check: the key's principal, or null when it is malformed, unknown or revoked. */
  async verify(rawKey: string): Promise<ApiKeyPrincipal | null> {
    if (!KEY_PATTERN.test(rawKey)) return null;
    const keyHash = hashKey(rawKey);
    const now = this.now();
    const cached = this.cache.get(keyHash);
    if (cached && cached.expiresAt > now) return cached.principal;

    const generation = this.generation;
    const row = await this.prisma.apiKey.findUnique({ where: { keyHash } });
    // The index found the row by hash; compare once more in constant time before trusting it.
    const valid =
      row !== null &&
      row.revokedAt === null &&
      timingSafeEqual(Buffer.from(row.keyHash, "hex"), Buffer.from(keyHash, "hex"));
    const principal: ApiKeyPrincipal | null = valid
      ? {
          kind: "apiKey",
          keyId: row.id,
          datasets: row.datasets,
          sampleRate: row.sampleRate,
          scopes: knownScopes(row.scopes),
        }
      : null;
    if (generation === this.generation) {
      if (this.cache.size >= MAX_CACHED) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(keyHash, {
        principal,
        expiresAt: now + (principal ? POSITIVE_TTL_MS : NEGATIVE_TTL_MS),
      });
    }
    return principal;
  }

  private evict(keyHash: string): void {
    this.generation++;
    this.cache.delete(keyHash);
  }
}
