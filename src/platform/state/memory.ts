import type { Logger } from "../logger.js";
import { type Increment, type StateStore, ttlArg } from "./types.js";

type Value = string | Map<string, string> | Set<string>;
interface Entry {
  value: Value;
  expiresAt: number | null;
}
type Deliver = (message: string) => void;
interface Subscription {
  channel: string;
  deliver: Deliver;
  active: boolean;
}

/** Process-wide pub/sub: every memory store in this process with the same prefix shares its channels. */
const channels = new Map<string, Set<Deliver>>();

const wrongType = () => new Error("WRONGTYPE Operation against a key holding the wrong kind of value");
const notInteger = () => new Error("ERR value is not an integer or out of range");

function parseInteger(value: string): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n)) throw notInteger();
  return n;
}

function checkIncrement(by: number): void {
  if (!Number.isSafeInteger(by)) throw notInteger();
}

export interface MemoryStateStoreOptions {
  prefix: string;
  logger: Logger;
  /** How often expired keys are swept (they are also dropped lazily on access). Default 5000 ms. */
  sweepIntervalMs?: number;
}

/**
 * In-process store with the semantics of the Redis store, for a single instance: its data lives and
 * dies with this object. Pub/sub is delivered asynchronously (like Redis) to every subscriber in the
 * process on the same prefixed channel.
 */
export class MemoryStateStore implements StateStore {
  readonly kind = "memory" as const;
  readonly prefix: string;

  readonly #logger: Logger;
  readonly #data = new Map<string, Entry>();
  readonly #subscriptions = new Set<Subscription>();
  readonly #sweeper: NodeJS.Timeout;
  #closed = false;

  constructor(opts: MemoryStateStoreOptions) {
    this.prefix = opts.prefix;
    this.#logger = opts.logger.child({ component: "state", backend: "memory" });
    this.#sweeper = setInterval(() => this.#sweep(), opts.sweepIntervalMs ?? 5_000);
    this.#sweeper.unref();
  }

  /** Keys held, including expired ones not yet swept (for tests and metrics). */
  get size(): number {
    return this.#data.size;
  }

  get #map(): Map<string, Entry> {
    if (this.#closed) throw new Error("state store is closed");
    return this.#data;
  }

  /** The live entry for a key, dropping it first if it has expired. */
  #entry(key: string): Entry | undefined {
    const entry = this.#map.get(key);
    if (entry && entry.expiresAt !== null && entry.expiresAt <= Date.now()) {
      this.#data.delete(key);
      return undefined;
    }
    return entry;
  }

  #string(key: string): string | null {
    const entry = this.#entry(key);
    if (!entry) return null;
    if (typeof entry.value !== "string") throw wrongType();
    return entry.value;
  }

  #hash(key: string, create = false): Map<string, string> | undefined {
    const entry = this.#entry(key);
    if (entry) {
      if (!(entry.value instanceof Map)) throw wrongType();
      return entry.value;
    }
    if (!create) return undefined;
    const value = new Map<string, string>();
    this.#data.set(key, { value, expiresAt: null });
    return value;
  }

  #members(key: string, create = false): Set<string> | undefined {
    const entry = this.#entry(key);
    if (entry) {
      if (!(entry.value instanceof Set)) throw wrongType();
      return entry.value;
    }
    if (!create) return undefined;
    const value = new Set<string>();
    this.#data.set(key, { value, expiresAt: null });
    return value;
  }

  /** Redis deletes a hash or set when its last field or member goes. */
  #dropIfEmpty(key: string, collection: Map<string, string> | Set<string>): void {
    if (collection.size === 0) this.#data.delete(key);
  }

  #sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.#data) {
      if (entry.expiresAt !== null && entry.expiresAt <= now) this.#data.delete(key);
    }
  }

  async get(key: string): Promise<string | null> {
    return this.#string(key);
  }

  async set(
    key: string,
    value: string,
    opts: { ttlMs?: number; ifNotExists?: boolean } = {},
  ): Promise<boolean> {
    const expiresAt = opts.ttlMs === undefined ? null : Date.now() + ttlArg(opts.ttlMs);
    if (opts.ifNotExists && this.#entry(key)) return false;
    this.#map.set(key, { value, expiresAt });
    return true;
  }

  async del(...keys: string[]): Promise<number> {
    let deleted = 0;
    for (const key of keys) {
      if (this.#entry(key)) {
        this.#data.delete(key);
        deleted++;
      }
    }
    return deleted;
  }

  async take(key: string): Promise<string | null> {
    const value = this.#string(key);
    if (value !== null) this.#data.delete(key);
    return value;
  }

  async incr(key: string, by = 1, ttlMs?: number): Promise<number> {
    checkIncrement(by);
    const ttl = ttlMs === undefined ? undefined : ttlArg(ttlMs);
    const entry = this.#entry(key);
    if (!entry) {
      this.#data.set(key, { value: String(by), expiresAt: ttl === undefined ? null : Date.now() + ttl });
      return by;
    }
    if (typeof entry.value !== "string") throw wrongType();
    const next = parseInteger(entry.value) + by;
    entry.value = String(next);
    return next;
  }

  async incrMany(increments: readonly Increment[]): Promise<number[]> {
    // Checked up front, so a bad argument changes nothing (as the Redis script would not start).
    increments.forEach(({ by = 1, ttlMs }) => {
      checkIncrement(by);
      if (ttlMs !== undefined) ttlArg(ttlMs);
    });
    const values: number[] = [];
    for (const { key, by, ttlMs } of increments) values.push(await this.incr(key, by, ttlMs));
    return values;
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    const entry = this.#entry(key);
    if (!entry) return false;
    if (ttlMs <= 0) this.#data.delete(key);
    else entry.expiresAt = Date.now() + Math.ceil(ttlMs);
    return true;
  }

  async ttl(key: string): Promise<number | null> {
    const entry = this.#entry(key);
    if (!entry || entry.expiresAt === null) return null;
    return entry.expiresAt - Date.now();
  }

  async hset(key: string, fields: Record<string, string>): Promise<void> {
    if (Object.keys(fields).length === 0) return;
    const hash = this.#hash(key, true)!;
    for (const [field, value] of Object.entries(fields)) hash.set(field, value);
  }

  async hget(key: string, field: string): Promise<string | null> {
    return this.#hash(key)?.get(field) ?? null;
  }

  async hgetall(key: string): Promise<Record<string, string>> {
    return Object.fromEntries(this.#hash(key) ?? []);
  }

  async hdel(key: string, ...fields: string[]): Promise<number> {
    const hash = this.#hash(key);
    if (!hash) return 0;
    const deleted = fields.filter((field) => hash.delete(field)).length;
    this.#dropIfEmpty(key, hash);
    return deleted;
  }

  async hincrby(key: string, field: string, by: number): Promise<number> {
    checkIncrement(by);
    const hash = this.#hash(key, true)!;
    const current = hash.get(field);
    const next = (current === undefined ? 0 : parseInteger(current)) + by;
    hash.set(field, String(next));
    return next;
  }

  async sadd(key: string, ...members: string[]): Promise<number> {
    if (members.length === 0) return 0;
    const set = this.#members(key, true)!;
    const before = set.size;
    for (const member of members) set.add(member);
    return set.size - before;
  }

  async srem(key: string, ...members: string[]): Promise<number> {
    const set = this.#members(key);
    if (!set) return 0;
    const removed = members.filter((member) => set.delete(member)).length;
    this.#dropIfEmpty(key, set);
    return removed;
  }

  async smembers(key: string): Promise<string[]> {
    return [...(this.#members(key) ?? [])];
  }

  async sismember(key: string, member: string): Promise<boolean> {
    return this.#members(key)?.has(member) ?? false;
  }

  async scard(key: string): Promise<number> {
    return this.#members(key)?.size ?? 0;
  }

  async spop(key: string): Promise<string | null> {
    const set = this.#members(key);
    if (!set) return null;
    const members = [...set];
    const member = members[Math.floor(Math.random() * members.length)]!;
    set.delete(member);
    this.#dropIfEmpty(key, set);
    return member;
  }

  #channel(channel: string): string {
    if (this.#closed) throw new Error("state store is closed");
    return `${this.prefix}:${channel}`;
  }

  async publish(channel: string, message: string): Promise<void> {
    const subscribers = channels.get(this.#channel(channel));
    // Like Redis, delivery happens later, never inside publish().
    for (const deliver of subscribers ?? []) setImmediate(deliver, message);
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>> {
    const name = this.#channel(channel);
    const subscription: Subscription = {
      channel: name,
      active: true,
      deliver: (message) => {
        if (!subscription.active) return; // unsubscribed between publish and delivery
        try {
          handler(message);
        } catch (err) {
          this.#logger.error({ err, channel }, "pub/sub handler threw");
        }
      },
    };
    const subscribers = channels.get(name) ?? new Set();
    channels.set(name, subscribers);
    subscribers.add(subscription.deliver);
    this.#subscriptions.add(subscription);
    return async () => this.#unsubscribe(subscription);
  }

  #unsubscribe(subscription: Subscription): void {
    subscription.active = false;
    this.#subscriptions.delete(subscription);
    const subscribers = channels.get(subscription.channel);
    subscribers?.delete(subscription.deliver);
    if (subscribers?.size === 0) channels.delete(subscription.channel);
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new Error("state store is closed");
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sweeper);
    for (const subscription of this.#subscriptions) this.#unsubscribe(subscription);
    this.#data.clear();
  }
}
