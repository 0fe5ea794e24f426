import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from "rate-limiter-flexible";
import { RedisStateStore, type StateStore } from "./state/index.js";

export interface RateLimitOptions {
  /** Names this limiter's counters (e.g. "auth:dashboard-failures"); the store prefix is added. */
  keyPrefix: string;
  /** Points allowed per window. */
  points: number;
  /** Window length. */
  durationSec: number;
  /** Once the points are spent, block the key for this long instead of until the window ends. */
  blockDurationSec?: number;
}

/**
 * A limiter whose counters live in the state store: shared through Redis by every instance, or in
 * process memory for the memory store. If Redis fails (or is disconnected), each instance falls back
 * to its own in-memory limiter with the same settings, so an outage loosens limits instead of
 * locking everyone out.
 */
export function createRateLimiter(store: StateStore, opts: RateLimitOptions): RateLimiterAbstract {
  const settings = {
    points: opts.points,
    duration: opts.durationSec,
    ...(opts.blockDurationSec !== undefined && { blockDuration: opts.blockDurationSec }),
  };
  if (store.kind === "memory") return memoryLimiter(store, { ...settings, keyPrefix: opts.keyPrefix });
  if (!(store instanceof RedisStateStore)) {
    throw new TypeError("a redis-kind state store must be a RedisStateStore");
  }
  return new BoundedRateLimiterRedis(store.commandTimeoutMs + 250, {
    ...settings,
    storeClient: store.client,
    useRedisPackage: true,
    keyPrefix: `${store.prefix}:rl:${opts.keyPrefix}`,
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory({ ...settings, keyPrefix: `insurance:${opts.keyPrefix}` }),
  });
}

/**
 * rate-limiter-flexible reads counters with MULTI, which node-redis does not bound in time, and a frozen Redis
 * keeps its socket open (so `rejectIfRedisNotReady` does not trip): every store call is raced against the
 * store's command timeout, and a timeout counts as a Redis failure, which hands the call to the insurance
 * limiter instead of leaving the request hanging.
 */
class BoundedRateLimiterRedis extends RateLimiterRedis {
  constructor(
    private readonly timeoutMs: number,
    opts: ConstructorParameters<typeof RateLimiterRedis>[0],
  ) {
    super(opts);
  }

  private bounded<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("rate limiter store timed out")), this.timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
  }

  _upsert(...args: unknown[]): Promise<unknown> {
    return this.bounded(
      (Reflect.get(RateLimiterRedis.prototype, "_upsert") as (...a: unknown[]) => Promise<unknown>).apply(
        this,
        args,
      ),
    );
  }

  _get(...args: unknown[]): Promise<unknown> {
    return this.bounded(
      (Reflect.get(RateLimiterRedis.prototype, "_get") as (...a: unknown[]) => Promise<unknown>).apply(
        this,
        args,
      ),
    );
  }

  _delete(...args: unknown[]): Promise<unknown> {
    return this.bounded(
      (Reflect.get(RateLimiterRedis.prototype, "_delete") as (...a: unknown[]) => Promise<unknown>).apply(
        this,
        args,
      ),
    );
  }
}

/**
 * Limiters built from the same memory store with the same settings share their counters, as they
 * would through Redis (e.g. two server instances in one test process sharing a store).
 */
const memoryLimiters = new WeakMap<StateStore, Map<string, RateLimiterMemory>>();

function memoryLimiter(
  store: StateStore,
  settings: { keyPrefix: string; points: number; duration: number; blockDuration?: number },
): RateLimiterMemory {
  let limiters = memoryLimiters.get(store);
  if (!limiters) {
    limiters = new Map();
    memoryLimiters.set(store, limiters);
  }
  const id = JSON.stringify(settings);
  let limiter = limiters.get(id);
  if (!limiter) {
    limiter = new RateLimiterMemory(settings);
    limiters.set(id, limiter);
  }
  return limiter;
}

export type RateLimitOutcome = { allowed: true } | { allowed: false; retryAfterSec: number };

/** Consumes one point for `key`; when none is left, says how many whole seconds to wait. */
export async function consumeOrRetryAfter(
  limiter: RateLimiterAbstract,
  key: string,
): Promise<RateLimitOutcome> {
  try {
    await limiter.consume(key);
    return { allowed: true };
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) {
      return { allowed: false, retryAfterSec: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)) };
    }
    throw rejection;
  }
}
