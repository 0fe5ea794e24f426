import { randomBytes } from "node:crypto";
import type { Logger } from "../../src/platform/logger.js";
import { startTcpProxy, type TcpProxy } from "./outage.js";
import {
  createStateStore,
  type RedisClient,
  RedisStateStore,
  type StateStore,
} from "../../src/platform/state/index.js";

export type StateBackend = StateStore["kind"];

/** Backends every state test runs against: always memory, plus redis when REDIS_URL is set. */
export function stateBackends(): StateBackend[] {
  return process.env.REDIS_URL ? ["memory", "redis"] : ["memory"];
}

export interface TestState {
  store: StateStore;
  prefix: string;
  /** Deletes every key under the prefix (redis) and closes the store. */
  cleanup(): Promise<void>;
}

export function randomPrefix(): string {
  return `test-${randomBytes(6).toString("hex")}`;
}

let redisFailure: Error | undefined;

/**
 * A store with a fresh random prefix (or the given one, to open a second "instance"). With kind
 * "redis", a missing REDIS_URL or an unreachable Redis throws, so the test fails rather than skips.
 */
export async function openTestState(
  logger: Logger,
  kind: StateBackend,
  opts: { prefix?: string; redisUrl?: string } = {},
): Promise<TestState> {
  const prefix = opts.prefix ?? randomPrefix();
  const own = opts.redisUrl !== undefined && opts.redisUrl !== process.env.REDIS_URL;
  const redisUrl = kind === "redis" ? (opts.redisUrl ?? process.env.REDIS_URL) : undefined;
  if (kind === "redis" && !redisUrl) throw new Error("REDIS_URL must be set to test the redis backend");
  if (kind === "redis" && redisFailure && !own) throw redisFailure;
  const store = await createStateStore({ redisUrl, prefix, logger }).catch((err: Error) => {
    // the rest of the file fails at once instead of retrying (not for a test's own Redis)
    if (kind === "redis" && !own) redisFailure = err;
    throw err;
  });
  return {
    store,
    prefix,
    async cleanup() {
      if (store instanceof RedisStateStore && store.client.isReady) await deleteKeys(store.client, prefix);
      await store.close();
    },
  };
}

async function deleteKeys(client: RedisClient, prefix: string): Promise<void> {
  const match = `${prefix.replace(/[*?[\]\\]/g, "\\$&")}:*`;
  for await (const keys of client.scanIterator({ MATCH: match, COUNT: 500 })) {
    if (keys.length > 0) await client.del(keys);
  }
}

/**
 * A TCP proxy in front of Redis that a test can cut and restore, to simulate an outage that only
 * its own connections see (the real Redis is shared with other tests).
 */
export function startRedisProxy(redisUrl: string): Promise<TcpProxy> {
  return startTcpProxy(redisUrl, 6379);
}
