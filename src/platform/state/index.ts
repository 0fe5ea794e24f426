import type { Logger } from "../logger.js";
import { MemoryStateStore } from "./memory.js";
import { RedisStateStore } from "./redis.js";
import type { StateStore } from "./types.js";

export { MemoryStateStore, type MemoryStateStoreOptions } from "./memory.js";
export { describeRedisUrl, type RedisClient, RedisStateStore, type RedisStateStoreOptions } from "./redis.js";
export type { Increment, StateStore } from "./types.js";

let warnedMemory = false;

/**
 * Redis when `redisUrl` is set (throws a clear error if it cannot connect at start-up), otherwise the
 * in-process store, which only serves a single instance and loses its state on restart.
 */
export async function createStateStore(opts: {
  redisUrl?: string;
  prefix: string;
  logger: Logger;
}): Promise<StateStore> {
  if (opts.redisUrl) {
    return RedisStateStore.connect({ url: opts.redisUrl, prefix: opts.prefix, logger: opts.logger });
  }
  if (!warnedMemory) {
    warnedMemory = true;
    opts.logger.warn(
      "REDIS_URL is not set: using the in-process state store. It serves a single instance only, " +
        "and challenges, rate limits and revocations are lost on restart.",
    );
  }
  return new MemoryStateStore({ prefix: opts.prefix, logger: opts.logger });
}
