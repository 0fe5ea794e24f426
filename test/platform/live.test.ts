import { afterEach, describe, expect, it, vi } from "vitest";
import { LiveSnapshot } from "../../src/platform/live.js";
import { createLogger } from "../../src/platform/logger.js";
import { RedisStateStore, type StateStore } from "../../src/platform/state/index.js";
import {
  openTestState,
  randomPrefix,
  startRedisProxy,
  stateBackends,
  type TestState,
} from "../support/state.js";

const logger = createLogger("silent");
const CHANNEL = "colour:changed";

/** What the instances share besides the state store: the database, in a real deployment. */
const database = { colour: "none" };

/** One instance's view of the colour in the database, kept current over `state`'s pub/sub. */
function colourOn(state: StateStore, opts: { refreshMs?: number; failures?: unknown[] } = {}) {
  return new LiveSnapshot<string | null>({
    state,
    channel: CHANNEL,
    initial: null,
    load: async () => {
      await new Promise((resolve) => setImmediate(resolve));
      if (database.colour === "unreadable") throw new Error("cannot read this colour");
      return database.colour;
    },
    onLoadError: (error) => opts.failures?.push(error),
    refreshMs: opts.refreshMs,
  });
}

describe.each(stateBackends())("LiveSnapshot on %s", (kind) => {
  const opened: TestState[] = [];
  const started: LiveSnapshot<unknown>[] = [];
  /** Two instances: two stores on one prefix. */
  async function twoInstances(): Promise<[StateStore, StateStore]> {
    const a = await openTestState(logger, kind);
    const b = await openTestState(logger, kind, { prefix: a.prefix });
    opened.push(a, b);
    return [a.store, b.store];
  }
  async function start<T>(snapshot: LiveSnapshot<T>): Promise<LiveSnapshot<T>> {
    await snapshot.start();
    started.push(snapshot as LiveSnapshot<unknown>);
    return snapshot;
  }
  afterEach(async () => {
    await Promise.all(started.splice(0).map((snapshot) => snapshot.stop()));
    await Promise.all(opened.splice(0).map((state) => state.cleanup()));
  });

  it("loads at start, and a change announced on one instance reaches the other", async () => {
    const [stateA, stateB] = await twoInstances();
    database.colour = "red";
    const a = await start(colourOn(stateA));
    const b = await start(colourOn(stateB));
    expect([a.value, b.value]).toEqual(["red", "red"]);

    database.colour = "blue";
    expect(await a.reload()).toBe("blue");
    expect(b.value).toBe("red"); // not announced yet
    await a.publish();
    await vi.waitFor(() => expect(b.value).toBe("blue"));
  });

  it("keeps the previous value when a load fails, and reports the failure", async () => {
    const [stateA, stateB] = await twoInstances();
    database.colour = "green";
    const failures: unknown[] = [];
    const a = await start(colourOn(stateA));
    const b = await start(colourOn(stateB, { failures }));

    database.colour = "unreadable";
    await expect(a.reload()).rejects.toThrow("cannot read this colour");
    await a.publish();
    await vi.waitFor(() => expect(failures).toHaveLength(1));
    expect([a.value, b.value]).toEqual(["green", "green"]);
  });

  it("picks up a change nobody announced on its own every refreshMs", async () => {
    const [, stateB] = await twoInstances();
    database.colour = "red";
    const b = await start(colourOn(stateB, { refreshMs: 50 }));
    database.colour = "violet";
    await vi.waitFor(() => expect(b.value).toBe("violet"));
  });

  it("runs loads one at a time, so an older read never replaces a newer one", async () => {
    const [state] = await twoInstances();
    let delayMs = 100;
    const snapshot = new LiveSnapshot<string>({
      state,
      channel: CHANNEL,
      initial: "none",
      load: async () => {
        const colour = database.colour;
        const delay = delayMs;
        delayMs = 0;
        await new Promise((resolve) => setTimeout(resolve, delay));
        return colour;
      },
      onLoadError: () => {},
    });
    database.colour = "old";
    const slow = snapshot.reload();
    await new Promise((resolve) => setImmediate(resolve)); // the slow load has read "old"
    database.colour = "new";
    const fast = snapshot.reload();
    await Promise.all([slow, fast]);
    expect(snapshot.value).toBe("new");
  });
});

describe.runIf(process.env.REDIS_URL)("LiveSnapshot across a lost pub/sub connection", () => {
  it("reloads when the connection comes back, so a change announced meanwhile is not missed", async () => {
    const proxy = await startRedisProxy(process.env.REDIS_URL!);
    const cutOff = await RedisStateStore.connect({ url: proxy.url, prefix: randomPrefix(), logger });
    const other = await openTestState(logger, "redis", { prefix: cutOff.prefix });
    const a = colourOn(other.store);
    const b = colourOn(cutOff);
    try {
      database.colour = "red";
      await a.start();
      await b.start();
      expect(b.value).toBe("red");

      await proxy.cut();
      await vi.waitFor(() => expect(cutOff.client.isReady).toBe(false));
      database.colour = "orange";
      await a.reload();
      await a.publish(); // b cannot hear this one
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(b.value).toBe("red");

      await proxy.restore();
      await vi.waitFor(() => expect(b.value).toBe("orange"), { timeout: 8_000, interval: 100 });
    } finally {
      await a.stop();
      await b.stop();
      await cutOff.close();
      await other.cleanup();
      await proxy.stop();
    }
  }, 20_000);
});
