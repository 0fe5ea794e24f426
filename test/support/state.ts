import { randomBytes } from "node:crypto";
import net from "node:net";
import type { Logger } from "../../src/platform/logger.js";
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
export async function startRedisProxy(redisUrl: string) {
  const target = new URL(redisUrl);
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(Number(target.port || 6379), target.hostname);
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => {
        sockets.delete(socket);
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  const listen = (port: number) =>
    new Promise<number>((resolve) =>
      server.listen(port, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)),
    );
  const port = await listen(0);
  const url = new URL(redisUrl);
  url.hostname = "127.0.0.1";
  url.port = String(port);
  return {
    url: url.toString(),
    /** Stops accepting and drops every open connection. */
    async cut() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    async restore() {
      await listen(port);
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
