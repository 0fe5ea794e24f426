import { Writable } from "node:stream";
import { pino } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createLogger } from "../../src/platform/logger.js";
import { MemoryStateStore, RedisStateStore, type StateStore } from "../../src/platform/state/index.js";
import {
  openTestState,
  randomPrefix,
  startRedisProxy,
  stateBackends,
  type TestState,
} from "../support/state.js";

const logger = createLogger("silent");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(stateBackends())("StateStore contract: %s", (kind) => {
  const opened: TestState[] = [];
  async function open(prefix?: string): Promise<StateStore> {
    const state = await openTestState(logger, kind, { prefix });
    opened.push(state);
    return state.store;
  }
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((state) => state.cleanup()));
  });

  it("reports its kind and prefix, and answers ping", async () => {
    const store = await open("contract-prefix");
    expect(store.kind).toBe(kind);
    expect(store.prefix).toBe("contract-prefix");
    await expect(store.ping()).resolves.toBeUndefined();
  });

  it("gets, sets and deletes strings", async () => {
    const store = await open();
    expect(await store.get("a")).toBeNull();
    expect(await store.set("a", "1")).toBe(true);
    expect(await store.set("b", "2")).toBe(true);
    expect(await store.get("a")).toBe("1");
    expect(await store.set("a", "one")).toBe(true);
    expect(await store.get("a")).toBe("one");
    expect(await store.del("a", "b", "missing")).toBe(2);
    expect(await store.del()).toBe(0);
    expect(await store.get("a")).toBeNull();
  });

  it("expires a key set with a TTL", async () => {
    const store = await open();
    await store.set("k", "v", { ttlMs: 80 });
    expect(await store.get("k")).toBe("v");
    const ttl = await store.ttl("k");
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(80);
    await sleep(130);
    expect(await store.get("k")).toBeNull();
    expect(await store.ttl("k")).toBeNull();
  });

  it("clears an earlier TTL on a plain set, and rejects a non-positive TTL", async () => {
    const store = await open();
    await store.set("k", "v", { ttlMs: 60 });
    await store.set("k", "w");
    expect(await store.ttl("k")).toBeNull();
    await sleep(100);
    expect(await store.get("k")).toBe("w");
    await expect(store.set("k", "x", { ttlMs: 0 })).rejects.toThrow();
  });

  it("sets with ifNotExists only when the key is absent", async () => {
    const store = await open();
    expect(await store.set("lock", "first", { ifNotExists: true, ttlMs: 60 })).toBe(true);
    expect(await store.set("lock", "second", { ifNotExists: true })).toBe(false);
    expect(await store.get("lock")).toBe("first");
    await sleep(100);
    expect(await store.set("lock", "third", { ifNotExists: true })).toBe(true);
    expect(await store.get("lock")).toBe("third");
  });

  it("takes a value exactly once", async () => {
    const store = await open();
    expect(await store.take("t")).toBeNull();
    await store.set("t", "payload");
    expect(await store.take("t")).toBe("payload");
    expect(await store.get("t")).toBeNull();

    await store.set("race", "winner");
    const results = await Promise.all(Array.from({ length: 50 }, () => store.take("race")));
    expect(results.filter((value) => value !== null)).toEqual(["winner"]);
  });

  it("increments counters, applying the TTL only when the counter is created", async () => {
    const store = await open();
    expect(await store.incr("n")).toBe(1);
    expect(await store.incr("n", 5)).toBe(6);
    expect(await store.incr("n", -2)).toBe(4);
    expect(await store.ttl("n")).toBeNull();
    expect(await store.incr("n", 1, 50)).toBe(5); // existed without TTL: stays without
    expect(await store.ttl("n")).toBeNull();

    expect(await store.incr("w", 1, 100)).toBe(1);
    await sleep(40);
    expect(await store.incr("w", 1, 10_000)).toBe(2);
    expect(await store.ttl("w")).toBeLessThanOrEqual(70); // not reset by the second increment
    await sleep(90);
    expect(await store.get("w")).toBeNull();
    expect(await store.incr("w", 1, 100)).toBe(1); // a new window
    expect(await store.get("w")).toBe("1");

    await store.set("text", "abc");
    await expect(store.incr("text")).rejects.toThrow();
  });

  it("increments several counters in one step, with the same rules as incr", async () => {
    const store = await open();
    await store.incr("old", 10);
    expect(
      await store.incrMany([
        { key: "old" },
        { key: "fresh", by: 3, ttlMs: 10_000 },
        { key: "old", by: -4, ttlMs: 50 }, // existed without TTL: stays without
        { key: "fresh", by: 2 },
      ]),
    ).toEqual([11, 3, 7, 5]);
    expect(await store.ttl("old")).toBeNull();
    const ttl = await store.ttl("fresh");
    expect(ttl).toBeGreaterThan(9_000);
    expect(ttl).toBeLessThanOrEqual(10_000);
    expect(await store.incrMany([])).toEqual([]);

    await store.incrMany([{ key: "short", ttlMs: 60 }]);
    await sleep(100);
    expect(await store.get("short")).toBeNull();

    await expect(store.incrMany([{ key: "x", by: 1.5 }])).rejects.toThrow();
    await expect(store.incrMany([{ key: "y", ttlMs: 0 }])).rejects.toThrow(RangeError);
    expect(await store.get("x")).toBeNull();
  });

  it("sets, reads and clears expiry", async () => {
    const store = await open();
    expect(await store.expire("missing", 1000)).toBe(false);
    expect(await store.ttl("missing")).toBeNull();
    await store.set("k", "v");
    expect(await store.ttl("k")).toBeNull();
    expect(await store.expire("k", 60)).toBe(true);
    expect(await store.ttl("k")).toBeGreaterThan(0);
    await sleep(100);
    expect(await store.get("k")).toBeNull();

    await store.set("gone", "v");
    expect(await store.expire("gone", 0)).toBe(true);
    expect(await store.get("gone")).toBeNull();
  });

  it("handles hashes", async () => {
    const store = await open();
    expect(await store.hgetall("h")).toEqual({});
    expect(await store.hget("h", "a")).toBeNull();
    await store.hset("h", { a: "1", b: "2" });
    await store.hset("h", { b: "two", c: "3" });
    await store.hset("h", {});
    expect(await store.hget("h", "b")).toBe("two");
    expect(await store.hgetall("h")).toEqual({ a: "1", b: "two", c: "3" });
    expect(await store.hincrby("h", "a", 4)).toBe(5);
    expect(await store.hincrby("h", "new", -3)).toBe(-3);
    expect(await store.hdel("h", "a", "new", "missing")).toBe(2);
    expect(await store.hgetall("h")).toEqual({ b: "two", c: "3" });
    expect(await store.hincrby("fresh", "count", 2)).toBe(2);

    await store.expire("h", 50);
    await sleep(90);
    expect(await store.hgetall("h")).toEqual({});

    await store.hset("last", { only: "x" });
    expect(await store.hdel("last", "only")).toBe(1);
    expect(await store.ttl("last")).toBeNull();
    expect(await store.set("last", "v", { ifNotExists: true })).toBe(true); // the empty hash is gone
  });

  it("handles sets, and spop drains each member exactly once", async () => {
    const store = await open();
    expect(await store.smembers("s")).toEqual([]);
    expect(await store.scard("s")).toBe(0);
    expect(await store.spop("s")).toBeNull();
    expect(await store.sadd("s", "a", "b", "c")).toBe(3);
    expect(await store.sadd("s", "c", "d")).toBe(1);
    expect(await store.sadd("s")).toBe(0);
    expect((await store.smembers("s")).sort()).toEqual(["a", "b", "c", "d"]);
    expect(await store.sismember("s", "a")).toBe(true);
    expect(await store.sismember("s", "z")).toBe(false);
    expect(await store.srem("s", "a", "z")).toBe(1);
    expect(await store.scard("s")).toBe(3);

    const popped = await Promise.all([store.spop("s"), store.spop("s"), store.spop("s"), store.spop("s")]);
    expect(popped.filter((member) => member !== null).sort()).toEqual(["b", "c", "d"]);
    expect(popped.filter((member) => member === null)).toHaveLength(1);
    expect(await store.scard("s")).toBe(0);
    expect(await store.set("s", "v", { ifNotExists: true })).toBe(true); // the empty set is gone
  });

  it("refuses to treat one type as another", async () => {
    const store = await open();
    await store.hset("h", { a: "1" });
    await expect(store.get("h")).rejects.toThrow(/WRONGTYPE/);
    await expect(store.sadd("h", "x")).rejects.toThrow(/WRONGTYPE/);
    await store.set("str", "v");
    await expect(store.hget("str", "a")).rejects.toThrow(/WRONGTYPE/);
  });

  it("delivers messages asynchronously to every subscriber of another instance with the same prefix", async () => {
    const a = await open();
    const b = await open(a.prefix);
    const first: string[] = [];
    const second: string[] = [];
    await b.subscribe("events", (message) => first.push(message));
    await b.subscribe("events", (message) => second.push(message));
    await a.subscribe("other", () => first.push("wrong channel"));

    const published = a.publish("events", "hello");
    expect(first).toEqual([]); // never delivered inside publish()
    await published;
    await a.publish("events", "world");
    await vi.waitFor(() => expect(second).toEqual(["hello", "world"]));
    expect(first).toEqual(["hello", "world"]);
  });

  it("stops delivery on unsubscribe", async () => {
    const a = await open();
    const b = await open(a.prefix);
    const stopped: string[] = [];
    const kept: string[] = [];
    const unsubscribe = await b.subscribe("events", (message) => stopped.push(message));
    await b.subscribe("events", (message) => kept.push(message));
    await a.publish("events", "1");
    await vi.waitFor(() => expect(stopped).toEqual(["1"]));

    await unsubscribe();
    await unsubscribe(); // idempotent
    await a.publish("events", "2");
    await vi.waitFor(() => expect(kept).toEqual(["1", "2"]));
    await sleep(30);
    expect(stopped).toEqual(["1"]);
  });

  it("isolates stores with different prefixes", async () => {
    const a = await open();
    const b = await open();
    await a.set("k", "a");
    await b.set("k", "b");
    await a.sadd("s", "x");
    expect(await a.get("k")).toBe("a");
    expect(await b.get("k")).toBe("b");
    expect(await b.scard("s")).toBe(0);

    const received: string[] = [];
    await b.subscribe("events", (message) => received.push(message));
    await a.publish("events", "for a only");
    await b.publish("events", "for b");
    await vi.waitFor(() => expect(received).toEqual(["for b"]));
    await sleep(30);
    expect(received).toEqual(["for b"]);
  });

  it(`${kind === "redis" ? "shares" : "does not share"} data between two instances with the same prefix`, async () => {
    const a = await open();
    const b = await open(a.prefix);
    await a.set("k", "v");
    // Redis is the shared state of a deployment; the memory store belongs to one instance.
    expect(await b.get("k")).toBe(kind === "redis" ? "v" : null);
  });

  it("fails after close", async () => {
    const state = await openTestState(logger, kind);
    await state.store.set("k", "v");
    await state.cleanup();
    await expect(state.store.ping()).rejects.toThrow();
    await expect(state.store.get("k")).rejects.toThrow();
    await state.store.close(); // idempotent
  });
});

describe("MemoryStateStore", () => {
  it("sweeps expired keys that are never read again", async () => {
    const store = new MemoryStateStore({ prefix: randomPrefix(), logger, sweepIntervalMs: 20 });
    await store.set("a", "1", { ttlMs: 10 });
    await store.incr("b", 1, 10);
    await store.set("c", "kept");
    expect(store.size).toBe(3);
    await sleep(80);
    expect(store.size).toBe(1);
    await store.close();
  });
});

describe("RedisStateStore connection handling", () => {
  it("fails start-up with a clear error that does not reveal the password", async () => {
    const lines: string[] = [];
    const capture = pino(
      { level: "debug" },
      new Writable({
        write(chunk, _encoding, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    );
    const started = Date.now();
    const connecting = RedisStateStore.connect({
      url: "redis://admin:s3cret-pw@127.0.0.1:1/0",
      prefix: randomPrefix(),
      logger: capture,
      startupRetries: 2,
    });
    await expect(connecting).rejects.toThrow(/^Cannot connect to Redis at redis:\/\/127\.0\.0\.1:1\/0: /);
    await connecting.catch((err: Error) => expect(err.message).not.toContain("s3cret"));
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(lines.length).toBeGreaterThan(0); // the error was logged...
    expect(lines.length).toBeLessThan(3); // ...once, not once per retry
    expect(lines.join("")).not.toContain("s3cret");
  });

  it("rejects an invalid URL without echoing it", async () => {
    const connecting = RedisStateStore.connect({ url: "http://u:s3cret@host", prefix: "p", logger });
    await expect(connecting).rejects.toThrow(/^Invalid REDIS_URL \(http:\/\/host\): /);
  });

  it.runIf(process.env.REDIS_URL)(
    "fails fast while Redis is unreachable, then reconnects and resubscribes",
    async () => {
      const proxy = await startRedisProxy(process.env.REDIS_URL!);
      const store = await RedisStateStore.connect({ url: proxy.url, prefix: randomPrefix(), logger });
      const publisher = await openTestState(logger, "redis", { prefix: store.prefix });
      try {
        const received: string[] = [];
        const dropped: string[] = [];
        await store.subscribe("events", (message) => received.push(message));
        const unsubscribe = await store.subscribe("events", (message) => dropped.push(message));
        await store.set("k", "v");

        await proxy.cut();
        await vi.waitFor(() => expect(store.client.isReady).toBe(false));
        const started = Date.now();
        await expect(store.ping()).rejects.toThrow();
        await expect(store.get("k")).rejects.toThrow();
        await expect(store.subscribe("other", () => {})).rejects.toThrow(/not ready/);
        await unsubscribe(); // does not wait for Redis to come back
        expect(Date.now() - started).toBeLessThan(2_500);

        await proxy.restore();
        await vi.waitFor(() => expect(store.client.isReady).toBe(true), { timeout: 8_000 });
        expect(await store.get("k")).toBe("v");
        await vi.waitFor(
          async () => {
            await publisher.store.publish("events", "after outage");
            expect(received).toContain("after outage");
          },
          { timeout: 8_000, interval: 100 },
        );
        expect(dropped).toEqual([]);
      } finally {
        await store.del("k").catch(() => {});
        await store.close();
        await publisher.cleanup();
        await proxy.stop();
      }
    },
    20_000,
  );

  it.runIf(process.env.REDIS_URL)(
    "sends the counter script again when Redis has forgotten it (restart, SCRIPT FLUSH)",
    async () => {
      const { store, cleanup } = await openTestState(logger, "redis");
      try {
        expect(await store.incrMany([{ key: "c", ttlMs: 10_000 }])).toEqual([1]);
        await (store as RedisStateStore).client.scriptFlush();
        expect(await store.incrMany([{ key: "c", ttlMs: 10_000 }])).toEqual([2]);
        expect(await store.incr("c", 1, 10_000)).toBe(3);
      } finally {
        await cleanup();
      }
    },
  );
});
