import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { Logger } from "pino";
import type { PrismaClient } from "../../../generated/prisma/client.js";
import { API_KEY_SCOPES, type ApiKeyPrincipal, type ApiKeyScope } from "../../../platform/auth.js";
import { ConflictError, NotFoundError, ValidationError } from "../../../platform/errors.js";
import { LiveSnapshot } from "../../../platform/live.js";
import type { StateStore } from "../../../platform/state/index.js";
import { type ListPage, type Paged, pageArgs } from "../../../trpc/paging.js";
import { isoDate } from "../shared.schema.js";
import {
  type ApiKeyOut,
  type CreateApiKeyInput,
  type CreatedApiKey,
  type CreatedSecret,
  DEFAULT_SECRET_OVERLAP_SEC,
} from "./apikeys.schema.js";

export const KEY_PREFIX = "hg_";
/** 32 random bytes (256 bits), base64url: 43 characters after the prefix. */
const KEY_BYTES = 32;
const KEY_PATTERN = /^hg_[A-Za-z0-9_-]{43}$/;
/** Shown in lists: "hg_" plus 6 characters (36 of the 256 bits). */
const DISPLAY_CHARS = 9;
const REVOKED_CHANNEL = "apikeys:revoked";
/** Siteverify secrets (issue 19): "hgs_" + 32 random bytes, base64url; stored as SHA-256 like the keys. */
export const SECRET_PREFIX = "hgs_";
const SECRET_PATTERN = /^hgs_[A-Za-z0-9_-]{43}$/;
const SECRET_DISPLAY_CHARS = 10;

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
    hostnames: row.hostnames,
    secret_prefix: row.secretPrefix,
    secret_created_at: row.secretCreatedAt ? isoDate(row.secretCreatedAt) : null,
    previous_secret_expires_at: row.previousSecretExpiresAt ? isoDate(row.previousSecretExpiresAt) : null,
  };
}

/** The site a siteverify secret belongs to. */
export interface SiteOfSecret {
  keyId: string;
  /** Hex SHA-256 of the site key (the API key), to compare with a `sitekey` parameter. */
  keyHash: string;
  hostnames: string[];
}

/**
 * API keys: stored as SHA-256 hashes with a short display prefix. Verification is on every public request,
 * so it is one hash and one in-process map lookup; a miss costs one indexed query. Revoking publishes the
 * key's hash, and every instance drops it from its cache before answering its next request.
 */
export class ApiKeyService {
  /**
   * Verified keys by hash. A revocation message evicts its key; after a lost pub/sub connection a revocation
   * may have been missed, so a resync replaces the whole cache with an empty one.
   */
  private readonly cache: LiveSnapshot<Map<string, CacheEntry>>;
  /** Bumped on every eviction; a lookup that started before one must not fill the cache. */
  private generation = 0;

  constructor(
    private readonly prisma: PrismaClient,
    state: StateStore,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.cache = new LiveSnapshot({
      state,
      channel: REVOKED_CHANNEL,
      initial: new Map<string, CacheEntry>(),
      load: async () => {
        this.generation++;
        return new Map<string, CacheEntry>();
      },
      onLoadError: () => {}, // making an empty map cannot fail
      onMessage: (keyHash) => this.evict(keyHash),
    });
  }

  start(): Promise<void> {
    return this.cache.start();
  }

  async stop(): Promise<void> {
    await this.cache.stop();
    this.cache.value.clear();
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
        hostnames: [...new Set(input.hostnames ?? [])],
      },
    });
    this.log.info({ apiKeyId: row.id, keyPrefix: row.keyPrefix }, "API key created");
    return { ...toOut(row), raw_key: rawKey };
  }

  async list(page?: ListPage): Promise<Paged<ApiKeyOut>> {
    const where = { revokedAt: null };
    const [rows, total] = await Promise.all([
      this.prisma.apiKey.findMany({
        where,
        orderBy: [{ createdAt: "asc" }, { id: "asc" }],
        ...pageArgs(page),
      }),
      this.prisma.apiKey.count({ where }),
    ]);
    return { rows: rows.map(toOut), total };
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
    await this.broadcastEviction(row.keyHash, id);
    this.log.info({ apiKeyId: id }, "API key revoked");
  }

  /** Drops the key from every instance's cache (revoked, or its hostnames changed). */
  private async broadcastEviction(keyHash: string, id: string): Promise<void> {
    this.evict(keyHash);
    // The database is the truth: if the state store is away, the change still stands; other instances
    // drop their caches when their pub/sub connection comes back (resync), or when the entry expires (60 s).
    await this.cache.publish(keyHash).catch((error: unknown) => {
      this.log.warn({ err: error, apiKeyId: id }, "key change not published (state store unavailable)");
    });
  }

  /** Changes the hostnames a key may be used on; every instance forgets its cached copy at once. */
  async update(id: string, changes: { hostnames?: string[] }): Promise<ApiKeyOut> {
    const row = await this.prisma.apiKey.findFirst({ where: { id, revokedAt: null } });
    if (!row) throw new NotFoundError("API key not found");
    if (changes.hostnames === undefined) return toOut(row);
    const updated = await this.prisma.apiKey.update({
      where: { id },
      data: { hostnames: [...new Set(changes.hostnames)] },
    });
    await this.broadcastEviction(row.keyHash, id);
    this.log.info({ apiKeyId: id }, "API key hostnames changed");
    return toOut(updated);
  }

  /**
   * Creates the key's siteverify secret, or rotates it: the current one becomes the previous one, accepted
   * for `overlapSec` more seconds (0 = refused at once). Only a key holding the `challenge` scope alone may
   * have one: a site key is public (it is in the page), so it must not open anything but challenges.
   */
  async rotateSecret(id: string, overlapSec = DEFAULT_SECRET_OVERLAP_SEC): Promise<CreatedSecret> {
    const row = await this.prisma.apiKey.findFirst({ where: { id, revokedAt: null } });
    if (!row) throw new NotFoundError("API key not found");
    const scopes = knownScopes(row.scopes);
    if (scopes.length !== 1 || scopes[0] !== "challenge")
      throw ValidationError.field(
        ["path", "id"],
        'A site key is public: only a key with the "challenge" scope alone may have a siteverify secret',
        "value_error",
      );
    const secret = `${SECRET_PREFIX}${randomBytes(KEY_BYTES).toString("base64url")}`;
    const now = new Date(this.now());
    const keepPrevious = row.secretHash !== null && overlapSec > 0;
    const previousExpiresAt = keepPrevious ? new Date(now.getTime() + overlapSec * 1000) : null;
    // Conditional on the secret read above, so two concurrent rotations cannot both keep "their" previous.
    const { count } = await this.prisma.apiKey.updateMany({
      where: { id, revokedAt: null, secretHash: row.secretHash },
      data: {
        secretHash: hashKey(secret),
        secretPrefix: secret.slice(0, SECRET_DISPLAY_CHARS),
        secretCreatedAt: now,
        previousSecretHash: keepPrevious ? row.secretHash : null,
        previousSecretExpiresAt: previousExpiresAt,
      },
    });
    if (count === 0) throw new ConflictError("The secret was rotated by another request; try again");
    this.log.info(
      {
        apiKeyId: id,
        secretPrefix: secret.slice(0, SECRET_DISPLAY_CHARS),
        overlapSec: keepPrevious ? overlapSec : 0,
      },
      row.secretHash ? "siteverify secret rotated" : "siteverify secret created",
    );
    return {
      id,
      secret,
      secret_prefix: secret.slice(0, SECRET_DISPLAY_CHARS),
      secret_created_at: isoDate(now),
      previous_secret_expires_at: previousExpiresAt ? isoDate(previousExpiresAt) : null,
    };
  }

  /** Removes the key's siteverify secrets (current and previous): siteverify refuses them at once. */
  async removeSecret(id: string): Promise<void> {
    const { count } = await this.prisma.apiKey.updateMany({
      where: { id, revokedAt: null },
      data: {
        secretHash: null,
        secretPrefix: null,
        secretCreatedAt: null,
        previousSecretHash: null,
        previousSecretExpiresAt: null,
      },
    });
    if (count === 0) throw new NotFoundError("API key not found");
    this.log.info({ apiKeyId: id }, "siteverify secret removed");
  }

  /**
   * The site a siteverify secret belongs to: its current secret, or the previous one within the overlap
   * window, of a key that is not revoked. One indexed lookup (the hash is unique), then a constant-time
   * comparison of the hashes; null when the secret is malformed, unknown, expired or its key revoked.
   */
  async siteForSecret(rawSecret: string): Promise<SiteOfSecret | null> {
    if (!SECRET_PATTERN.test(rawSecret)) return null;
    const secretHash = hashKey(rawSecret);
    const now = new Date(this.now());
    const row = await this.prisma.apiKey.findFirst({
      where: {
        revokedAt: null,
        OR: [{ secretHash }, { previousSecretHash: secretHash, previousSecretExpiresAt: { gt: now } }],
      },
      select: { id: true, keyHash: true, hostnames: true, secretHash: true, previousSecretHash: true },
    });
    if (!row) return null;
    const given = Buffer.from(secretHash, "hex");
    const current = row.secretHash !== null && timingSafeEqual(Buffer.from(row.secretHash, "hex"), given);
    const previous =
      row.previousSecretHash !== null && timingSafeEqual(Buffer.from(row.previousSecretHash, "hex"), given);
    if (!current && !previous) return null;
    return { keyId: row.id, keyHash: row.keyHash, hostnames: row.hostnames };
  }

  /** The `X-HiveGuard-Key` check: the key's principal, or null when it is malformed, unknown or revoked. */
  async verify(rawKey: string): Promise<ApiKeyPrincipal | null> {
    if (!KEY_PATTERN.test(rawKey)) return null;
    const keyHash = hashKey(rawKey);
    const now = this.now();
    const cached = this.cache.value.get(keyHash);
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
          ...(row.hostnames.length > 0 && { hostnames: row.hostnames }),
        }
      : null;
    if (generation === this.generation) {
      const cache = this.cache.value;
      if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value as string);
      cache.set(keyHash, {
        principal,
        expiresAt: now + (principal ? POSITIVE_TTL_MS : NEGATIVE_TTL_MS),
      });
    }
    return principal;
  }

  private evict(keyHash: string): void {
    this.generation++;
    this.cache.value.delete(keyHash);
  }
}
