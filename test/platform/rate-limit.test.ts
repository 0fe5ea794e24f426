import { afterEach, describe, expect, it, vi } from "vitest";
import { createLogger } from "../../src/platform/logger.js";
import { consumeOrRetryAfter, createRateLimiter } from "../../src/platform/rate-limit.js";
import { RedisStateStore, type StateStore } from "../../src/platform/state/index.js";
import {
  openTestState,
  randomPrefix,
  startRedisProxy,
  stateBackends,
  type TestState,
} from "../support/state.js";

const logger = createLogger("silent");

describe.each(stateBackends())("rate limiter: %s", (kind) => {
  const opened: TestState[] = [];
  async function open(prefix?: string): Promise<StateStore> {
    const state = await openTestState(logger, kind, { prefix });
    opened.push(state);
    return state.store;
  }
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((state) => state.cleanup()));
  });

  it("refuses once the points are spent, with a positive retry-after", async () => {
    const limiter = createRateLimiter(await open(), { keyPrefix: "login", points: 2, durationSec: 60 });
    expect(await consumeOrRetryAfter(limiter, "1.2.3.4")).toEqual({ allowed: true });
    expect(await consumeOrRetryAfter(limiter, "1.2.3.4")).toEqual({ allowed: true });
    const refused = await consumeOrRetryAfter(limiter, "1.2.3.4");
    expect(refused.allowed).toBe(false);
    if (refused.allowed) return;
    expect(refused.retryAfterSec).toBeGreaterThan(0);
    expect(refused.retryAfterSec).toBeLessThanOrEqual(60);
    expect(await consumeOrRetryAfter(limiter, "5.6.7.8")).toEqual({ allowed: true }); // keys are independent
  });

  it("shares counters between limiters built from the same store and options", async () => {
    const store = await open();
    const options = { keyPrefix: "api", points: 1, durationSec: 60 };
    expect(await consumeOrRetryAfter(createRateLimiter(store, options), "k")).toEqual({ allowed: true });
    expect((await consumeOrRetryAfter(createRateLimiter(store, options), "k")).allowed).toBe(false);
    const other = createRateLimiter(store, { ...options, keyPrefix: "other" });
    expect(await consumeOrRetryAfter(other, "k")).toEqual({ allowed: true });
  });

  it("blocks for blockDurationSec once the points are spent", async () => {
    const limiter = createRateLimiter(await open(), {
      keyPrefix: "login",
      points: 1,
      durationSec: 1,
      blockDurationSec: 30,
    });
    expect(await consumeOrRetryAfter(limiter, "ip")).toEqual({ allowed: true });
    const refused = await consumeOrRetryAfter(limiter, "ip");
    expect(refused).toEqual({ allowed: false, retryAfterSec: expect.any(Number) });
    if (!refused.allowed) expect(refused.retryAfterSec).toBeGreaterThan(20);
    const blocked = await limiter.get("ip"); // what a caller checks before doing the work
    expect(blocked?.remainingPoints).toBe(0);
    expect(blocked?.msBeforeNext).toBeGreaterThan(20_000);
    expect(await limiter.get("someone-else")).toBeNull();
  });
});

describe.runIf(process.env.REDIS_URL)("rate limiter on redis", () => {
  const opened: TestState[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((state) => state.cleanup()));
  });

  it("shares counters between instances with the same prefix, under that prefix", async () => {
    const a = await openTestState(logger, "redis");
    const b = await openTestState(logger, "redis", { prefix: a.prefix });
    opened.push(a, b);
    const options = { keyPrefix: "api", points: 1, durationSec: 60 };
    expect(await consumeOrRetryAfter(createRateLimiter(a.store, options), "k")).toEqual({ allowed: true });
    expect((await consumeOrRetryAfter(createRateLimiter(b.store, options), "k")).allowed).toBe(false);
    const client = (a.store as RedisStateStore).client;
    expect(await client.keys(`${a.prefix}:rl:*`)).toEqual([`${a.prefix}:rl:api:k`]);
  });

  it("falls back to an in-memory limiter while Redis is unreachable", async () => {
    const proxy = await startRedisProxy(process.env.REDIS_URL!);
    const store = await RedisStateStore.connect({ url: proxy.url, prefix: randomPrefix(), logger });
    try {
      const limiter = createRateLimiter(store, { keyPrefix: "login", points: 2, durationSec: 60 });
      await proxy.cut();
      await vi.waitFor(() => expect(store.client.isReady).toBe(false));
      expect(await consumeOrRetryAfter(limiter, "ip")).toEqual({ allowed: true });
      expect(await consumeOrRetryAfter(limiter, "ip")).toEqual({ allowed: true });
      expect((await consumeOrRetryAfter(limiter, "ip")).allowed).toBe(false);
    } finally {
      await store.close();
      await proxy.stop();
    }
  });
});
