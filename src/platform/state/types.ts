/**
 * Shared runtime state: config, challenge state, counters, revocations and pub/sub.
 *
 * Two implementations share this contract: Redis (any number of instances) and an in-process
 * store (a single instance; state is lost on restart). Every key and channel is namespaced with
 * `prefix`, so stores with different prefixes never see each other's data. Values are strings:
 * callers JSON-encode.
 */
export interface StateStore {
  readonly kind: "redis" | "memory";
  /** Namespace applied to every key and channel (`${prefix}:${key}`). */
  readonly prefix: string;

  get(key: string): Promise<string | null>;
  /** Returns false when `ifNotExists` is set and the key already existed. A plain set clears any previous TTL. */
  set(key: string, value: string, opts?: { ttlMs?: number; ifNotExists?: boolean }): Promise<boolean>;
  del(...keys: string[]): Promise<number>;
  /** Atomic read-and-delete (GETDEL): of two concurrent takes exactly one gets the value. */
  take(key: string): Promise<string | null>;
  /** `ttlMs` is applied, atomically, only when this increment creates the counter. */
  incr(key: string, by?: number, ttlMs?: number): Promise<number>;
  /**
   * Several `incr`s at once, in order, as one atomic step (one round trip and one script on Redis): the
   * counters a challenge bumps on every generate and submit. Returns the new values in the same order.
   */
  incrMany(increments: readonly Increment[]): Promise<number[]>;
  /** False when the key does not exist. A TTL of 0 or less deletes the key. */
  expire(key: string, ttlMs: number): Promise<boolean>;
  /** Milliseconds remaining; null when the key does not exist or has no TTL. */
  ttl(key: string): Promise<number | null>;

  hset(key: string, fields: Record<string, string>): Promise<void>;
  hget(key: string, field: string): Promise<string | null>;
  hgetall(key: string): Promise<Record<string, string>>;
  hdel(key: string, ...fields: string[]): Promise<number>;
  hincrby(key: string, field: string, by: number): Promise<number>;

  sadd(key: string, ...members: string[]): Promise<number>;
  srem(key: string, ...members: string[]): Promise<number>;
  smembers(key: string): Promise<string[]>;
  sismember(key: string, member: string): Promise<boolean>;
  scard(key: string): Promise<number>;
  /** Atomically removes and returns a random member; null when the set is empty. */
  spop(key: string): Promise<string | null>;

  publish(channel: string, message: string): Promise<void>;
  /**
   * Resolves once the subscription is active; returns the function that ends it. `onResync` is called when
   * messages may have been missed (the subscriber connection was lost and is back): drop what was cached.
   */
  subscribe(
    channel: string,
    handler: (message: string) => void,
    options?: { onResync?: () => void },
  ): Promise<() => Promise<void>>;

  /** Throws when the backend does not answer within about 2 s (readiness probe). */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface Increment {
  key: string;
  /** Default 1. */
  by?: number;
  /** Applied only when the increment creates the counter. */
  ttlMs?: number;
}

/** Redis refuses a non-positive or non-integer PX; both backends validate the same way. */
export function ttlArg(ttlMs: number): number {
  const ms = Math.ceil(ttlMs);
  if (!Number.isFinite(ms) || ms <= 0)
    throw new RangeError(`TTL must be a positive number of ms, got ${ttlMs}`);
  return ms;
}
