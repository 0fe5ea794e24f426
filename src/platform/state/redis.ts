import { createHash } from "node:crypto";
import { createClient, ErrorReply, type RedisClientType } from "redis";
import { DependencyUnavailableError } from "../errors.js";
import type { Logger } from "../logger.js";
import { type Increment, type StateStore, ttlArg } from "./types.js";

export type RedisClient = RedisClientType;

export interface RedisStateStoreOptions {
  url: string;
  prefix: string;
  logger: Logger;
  /** Per-command timeout; also bounds `ping`. Default 2000 ms. */
  commandTimeoutMs?: number;
  /** Retries after a failed first attempt before a connection that has never been ready gives up. Default 5. */
  startupRetries?: number;
}

const MAX_BACKOFF_MS = 5_000;

/**
 * INCRBY on each key in KEYS, by ARGV[2i-1]; a TTL in ms in ARGV[2i] (0 = none) is set only when the counter
 * is created. One script: atomic, and one command instead of a MULTI of four per counter.
 */
const INCR_MANY = `
local values = {}
for i, key in ipairs(KEYS) do
  local ttl = tonumber(ARGV[2 * i])
  if ttl > 0 then redis.call('SET', key, '0', 'NX', 'PX', ttl) end
  values[i] = redis.call('INCRBY', key, ARGV[2 * i - 1])
end
return values`;
const INCR_MANY_SHA = createHash("sha1").update(INCR_MANY).digest("hex");
const ERROR_LOG_INTERVAL_MS = 30_000;

/** `redis://host:port/db` without credentials, safe to log. */
export function describeRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === "/" ? "" : u.pathname}`;
  } catch {
    return "<unparseable REDIS_URL>";
  }
}

/**
 * Redis-backed store: one command connection plus a subscriber connection opened on first subscribe.
 *
 * While disconnected, commands are rejected at once (no offline queue) and every command has a timeout,
 * so callers can answer 503 instead of hanging. Reconnection retries forever with capped exponential
 * backoff, except for a connection that has never been ready: it gives up after `startupRetries`.
 */
export class RedisStateStore implements StateStore {
  readonly kind = "redis" as const;
  readonly prefix: string;
  /** The raw node-redis command client (for rate-limiter-flexible and maintenance scripts). */
  readonly client: RedisClient;

  readonly #logger: Logger;
  readonly #where: string;
  readonly #startupRetries: number;
  readonly #timeoutMs: number;
  #subscriber: Promise<RedisClient> | undefined;
  /** Called when the subscriber connection is back after a loss: messages may have been missed. */
  readonly #resyncs = new Set<() => void>();
  #closed = false;
  #lastErrorLog = 0;
  #suppressedErrors = 0;

  private constructor(opts: RedisStateStoreOptions) {
    this.prefix = opts.prefix;
    this.#where = describeRedisUrl(opts.url);
    this.#logger = opts.logger.child({ component: "state", backend: "redis" });
    this.#startupRetries = opts.startupRetries ?? 5;
    this.#timeoutMs = opts.commandTimeoutMs ?? 2_000;
    const policy = this.#connectionPolicy("commands");
    this.client = createClient({
      url: opts.url,
      disableOfflineQueue: true,
      // No `commandOptions.timeout`: #run bounds every command, and node-redis would arm an
      // AbortSignal.timeout per command, which costs more than the command on a busy server.
      socket: policy.socket,
    });
    policy.attach(this.client);
  }

  /** How long one command may take before it counts as failed. */
  get commandTimeoutMs(): number {
    return this.#timeoutMs;
  }

  /** Connects, or throws a clear error when Redis cannot be reached at start-up. */
  static async connect(opts: RedisStateStoreOptions): Promise<RedisStateStore> {
    let store: RedisStateStore;
    try {
      store = new RedisStateStore(opts);
    } catch (err) {
      // No `cause`: a URL parse error carries the raw URL, password included.
      throw new Error(`Invalid REDIS_URL (${describeRedisUrl(opts.url)}): ${(err as Error).message}`);
    }
    try {
      await store.client.connect();
    } catch (err) {
      throw new Error(`Cannot connect to Redis at ${store.#where}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    store.#logger.info({ redis: store.#where }, "connected to redis");
    return store;
  }

  /**
   * Per-connection policy. Reconnect with capped exponential backoff plus jitter, forever once the
   * connection has been ready (a connection that never was gives up after `startupRetries`), and log
   * errors, throttled, instead of letting an unhandled `error` event crash the process.
   */
  #connectionPolicy(connection: string) {
    let everReady = false;
    const socket = {
      connectTimeout: 3_000,
      reconnectStrategy: (retries: number, cause: Error): number | Error => {
        if (!everReady && retries >= this.#startupRetries) {
          return new Error(`gave up after ${retries + 1} attempts (${cause.message})`);
        }
        return Math.min(100 * 2 ** retries, MAX_BACKOFF_MS) + Math.floor(Math.random() * 100);
      },
    };
    const attach = (client: RedisClient) => {
      client.on("error", (err: Error) => this.#logError(err, connection));
      client.on("ready", () => {
        if (everReady) {
          this.#logger.info({ connection }, "redis connection restored");
          if (connection === "subscriber") {
            for (const resync of this.#resyncs) {
              try {
                resync();
              } catch (err) {
                this.#logger.error({ err }, "pub/sub resync handler threw");
              }
            }
          }
        }
        everReady = true;
      });
    };
    return { socket, attach };
  }

  #logError(err: Error, connection: string): void {
    const now = Date.now();
    if (now - this.#lastErrorLog < ERROR_LOG_INTERVAL_MS) {
      this.#suppressedErrors++;
      return;
    }
    this.#logger.error(
      { err, connection, redis: this.#where, suppressedSinceLastLog: this.#suppressedErrors },
      "redis connection error",
    );
    this.#lastErrorLog = now;
    this.#suppressedErrors = 0;
  }

  /**
   * Every command goes through here: bounded in time (node-redis bounds single commands but not MULTI, and
   * a frozen server keeps the socket open), and any failure to reach Redis becomes a
   * DependencyUnavailableError, which every transport answers with 503 {"detail"} and Retry-After.
   * Errors Redis itself replies (wrong type...) stay what they are, except "not ready yet" replies.
   */
  async #run<T>(command: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`redis command timed out after ${this.#timeoutMs} ms`)),
        this.#timeoutMs + 250,
      );
    });
    try {
      return await Promise.race([command(), timeout]);
    } catch (err) {
      // Our own argument checks (ttlArg) and replies Redis gives to a wrong command are not outages.
      if (err instanceof RangeError || err instanceof TypeError) throw err;
      if (err instanceof ErrorReply && !/^(LOADING|MASTERDOWN|BUSY|TRYAGAIN|CLUSTERDOWN)/.test(err.message))
        throw err;
      throw new DependencyUnavailableError("state", err);
    } finally {
      clearTimeout(timer);
    }
  }

  #k(key: string): string {
    return `${this.prefix}:${key}`;
  }

  async get(key: string): Promise<string | null> {
    return this.#run(async () => {
      return this.client.get(this.#k(key));
    });
  }

  async set(
    key: string,
    value: string,
    opts: { ttlMs?: number; ifNotExists?: boolean } = {},
  ): Promise<boolean> {
    return this.#run(async () => {
      const reply = await this.client.set(this.#k(key), value, {
        ...(opts.ttlMs !== undefined && { expiration: { type: "PX", value: ttlArg(opts.ttlMs) } }),
        ...(opts.ifNotExists && { condition: "NX" }),
      });
      return reply !== null;
    });
  }

  async del(...keys: string[]): Promise<number> {
    return this.#run(async () => {
      if (keys.length === 0) return 0;
      return this.client.del(keys.map((key) => this.#k(key)));
    });
  }

  async take(key: string): Promise<string | null> {
    return this.#run(async () => {
      return this.client.getDel(this.#k(key));
    });
  }

  async incr(key: string, by = 1, ttlMs?: number): Promise<number> {
    if (ttlMs === undefined) return this.#run(() => this.client.incrBy(this.#k(key), by));
    const [value] = await this.incrMany([{ key, by, ttlMs }]);
    return value!;
  }

  async incrMany(increments: readonly Increment[]): Promise<number[]> {
    if (increments.length === 0) return [];
    const keys = increments.map(({ key }) => this.#k(key));
    const args = increments.flatMap(({ by = 1, ttlMs }) => {
      if (!Number.isSafeInteger(by)) throw new RangeError(`increment must be an integer, got ${by}`);
      return [String(by), String(ttlMs === undefined ? 0 : ttlArg(ttlMs))];
    });
    return this.#run(async () => {
      try {
        return (await this.client.evalSha(INCR_MANY_SHA, { keys, arguments: args })) as number[];
      } catch (err) {
        // The script cache is empty after a Redis restart or SCRIPT FLUSH: send the script itself once.
        if (!(err instanceof ErrorReply && err.message.startsWith("NOSCRIPT"))) throw err;
        return (await this.client.eval(INCR_MANY, { keys, arguments: args })) as number[];
      }
    });
  }

  async expire(key: string, ttlMs: number): Promise<boolean> {
    return this.#run(async () => {
      return (await this.client.pExpire(this.#k(key), Math.ceil(ttlMs))) === 1;
    });
  }

  async ttl(key: string): Promise<number | null> {
    return this.#run(async () => {
      const ms = await this.client.pTTL(this.#k(key));
      return ms >= 0 ? ms : null;
    });
  }

  async hset(key: string, fields: Record<string, string>): Promise<void> {
    return this.#run(async () => {
      if (Object.keys(fields).length === 0) return;
      await this.client.hSet(this.#k(key), fields);
    });
  }

  async hget(key: string, field: string): Promise<string | null> {
    return this.#run(async () => {
      return (await this.client.hGet(this.#k(key), field)) ?? null;
    });
  }

  async hgetall(key: string): Promise<Record<string, string>> {
    return this.#run(async () => {
      return { ...(await this.client.hGetAll(this.#k(key))) };
    });
  }

  async hdel(key: string, ...fields: string[]): Promise<number> {
    return this.#run(async () => {
      if (fields.length === 0) return 0;
      return this.client.hDel(this.#k(key), fields);
    });
  }

  async hincrby(key: string, field: string, by: number): Promise<number> {
    return this.#run(async () => {
      return this.client.hIncrBy(this.#k(key), field, by);
    });
  }

  async sadd(key: string, ...members: string[]): Promise<number> {
    return this.#run(async () => {
      if (members.length === 0) return 0;
      return this.client.sAdd(this.#k(key), members);
    });
  }

  async srem(key: string, ...members: string[]): Promise<number> {
    return this.#run(async () => {
      if (members.length === 0) return 0;
      return this.client.sRem(this.#k(key), members);
    });
  }

  async smembers(key: string): Promise<string[]> {
    return this.#run(async () => {
      return this.client.sMembers(this.#k(key));
    });
  }

  async sismember(key: string, member: string): Promise<boolean> {
    return this.#run(async () => {
      return (await this.client.sIsMember(this.#k(key), member)) === 1;
    });
  }

  async scard(key: string): Promise<number> {
    return this.#run(async () => {
      return this.client.sCard(this.#k(key));
    });
  }

  async spop(key: string): Promise<string | null> {
    return this.#run(async () => {
      return this.client.sPop(this.#k(key));
    });
  }

  async publish(channel: string, message: string): Promise<void> {
    return this.#run(async () => {
      await this.client.publish(this.#k(channel), message);
    });
  }

  async subscribe(
    channel: string,
    handler: (message: string) => void,
    options: { onResync?: () => void } = {},
  ): Promise<() => Promise<void>> {
    const subscriber = await this.#openSubscriber();
    // node-redis queues SUBSCRIBE while reconnecting, whatever disableOfflineQueue says: fail fast instead.
    if (!subscriber.isReady) throw new Error("redis subscriber connection is not ready");
    const name = this.#k(channel);
    let active = true;
    // A fresh listener per call: node-redis keeps a set of listeners per channel, so the same
    // handler subscribed twice gets two independent subscriptions.
    const listener = (message: string) => {
      if (!active) return;
      try {
        handler(message);
      } catch (err) {
        this.#logger.error({ err, channel }, "pub/sub handler threw");
      }
    };
    await subscriber.subscribe(name, listener);
    const resync = options.onResync;
    if (resync) this.#resyncs.add(resync);
    return async () => {
      if (!active) return;
      active = false; // delivery stops now, whatever happens to the UNSUBSCRIBE below
      if (resync) this.#resyncs.delete(resync);
      if (!subscriber.isOpen) return;
      const unsubscribed = subscriber.unsubscribe(name, listener);
      // While reconnecting, the command waits for the connection; the caller need not.
      if (subscriber.isReady) await unsubscribed;
      else unsubscribed.catch(() => {});
    };
  }

  #openSubscriber(): Promise<RedisClient> {
    if (this.#closed) return Promise.reject(new Error("state store is closed"));
    if (!this.#subscriber) {
      const policy = this.#connectionPolicy("subscriber");
      const subscriber = this.client.duplicate({ socket: policy.socket });
      policy.attach(subscriber);
      this.#subscriber = subscriber.connect().then(
        () => subscriber,
        (err: unknown) => {
          this.#subscriber = undefined;
          throw err;
        },
      );
    }
    return this.#subscriber;
  }

  async ping(): Promise<void> {
    return this.#run(async () => {
      await this.client.ping();
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const subscriber = await this.#subscriber?.catch(() => undefined);
    this.#subscriber = undefined;
    await Promise.all([shutdown(this.client), subscriber && shutdown(subscriber)]);
  }
}

async function shutdown(client: RedisClient): Promise<void> {
  if (!client.isOpen) return;
  if (client.isReady) await client.close();
  else client.destroy();
}
