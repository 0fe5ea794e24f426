// SSE streams through real HTTP, across two instances sharing the database and the state store (Redis
// when REDIS_URL is set): a point logged on instance A reaches a stream served by instance B.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

let a: TestServer;
let b: TestServer;

interface SseEvent {
  event: string;
  id?: string;
  data: any;
}

/** Opens an SSE stream and collects its events; `until` resolves when a predicate matches. */
async function openStream(url: string) {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal, headers: { accept: "text/event-stream" } });
  const events: SseEvent[] = [];
  const waiters: { test: (e: SseEvent[]) => boolean; resolve: () => void }[] = [];
  const check = () => {
    for (const waiter of [...waiters])
      if (waiter.test(events)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
  };
  let buffer = "";
  const reading = (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = Object.fromEntries(
            block
              .split("\n")
              .filter((line) => line && !line.startsWith(":"))
              .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 1).trim()]),
          );
          if (fields.event)
            events.push({ event: fields.event, id: fields.id, data: JSON.parse(fields.data ?? "null") });
        }
        check();
      }
    } catch {
      // aborted
    }
  })();
  return {
    response,
    events,
    until(test: (e: SseEvent[]) => boolean, timeoutMs = 5_000) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out; got ${JSON.stringify(events)}`)),
          timeoutMs,
        );
        waiters.push({ test, resolve: () => (clearTimeout(timer), resolve()) });
        check();
      });
    },
    async close() {
      controller.abort();
      await reading;
    },
  };
}

const post = (server: TestServer, path: string, body: unknown) =>
  fetch(`${server.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  }).then(async (r) => ({ status: r.status, body: await r.json() }));

beforeAll(async () => {
  a = await startTestServer({ env: { TRACKING_AUTH: "none", TRACKING_SSE_HEARTBEAT_MS: "200" } });
  b = await startTestServer({
    sharedWith: a,
    env: { TRACKING_AUTH: "none", TRACKING_SSE_HEARTBEAT_MS: "200" },
  });
  await post(a, "/tracker/api/v1/projects/live/runs", { name: "r1" });
  await post(a, "/tracker/api/v1/projects/live/runs", { name: "r2" });
  await post(a, "/tracker/api/v1/projects/live/runs", { name: "other" });
}, 60_000);

afterAll(async () => {
  await b?.close();
  await a?.close();
});

describe("SSE", () => {
  it("a point logged on instance A reaches a run stream served by instance B, then the status", async () => {
    const stream = await openStream(`${b.url}/api/projects/live/runs/r1/stream`);
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get("content-type")).toContain("text/event-stream");

    await post(a, "/tracker/api/v1/projects/live/runs/r1/metrics", {
      records: [
        { step: 0, metrics: { loss: 0.5 } },
        { step: 1, metrics: { loss: 0.25, acc: 0.9 } },
      ],
    });
    await post(a, "/tracker/api/v1/projects/live/runs/other/metrics", {
      records: [{ metrics: { loss: 9 } }],
    });
    await post(a, "/tracker/api/v1/projects/live/runs/r1/finish", { exit_code: 0 });

    await stream.until((events) => events.some((e) => e.event === "status"));
    const metrics = stream.events.filter((e) => e.event === "metric");
    expect(metrics.map((e) => e.data.step)).toEqual([0, 1]);
    expect(metrics[1]!.data).toMatchObject({
      project: "live",
      run: "r1",
      step: 1,
      metrics: { loss: 0.25, acc: 0.9 },
    });
    expect(metrics[1]!.id).toBe(`${metrics[1]!.data.timestamp_ms}:r1:1`);
    expect(stream.events.find((e) => e.event === "status")!.data).toMatchObject({
      run: "r1",
      status: "completed",
      is_finished: true,
      exit_code: 0,
    });
    await stream.close();
  });

  it("the multi-run stream sends only the chosen runs, and heartbeats", async () => {
    const stream = await openStream(`${b.url}/api/projects/live/runs/stream?runs=r2,other`);
    await post(a, "/tracker/api/v1/projects/live/runs/r1/metrics", {
      records: [{ step: 5, metrics: { x: 1 } }],
    });
    await post(a, "/tracker/api/v1/projects/live/runs/r2/metrics", {
      records: [{ step: 7, metrics: { x: 2 } }],
    });
    await stream.until(
      (events) => events.some((e) => e.event === "metric") && events.some((e) => e.event === "heartbeat"),
    );
    const runs = stream.events.filter((e) => e.event === "metric").map((e) => e.data.run);
    expect(runs).toEqual(["r2"]);
    await stream.close();
  });

  it("since resumes: a stream opened later receives what it missed, then live points, without duplicates", async () => {
    await post(a, "/tracker/api/v1/projects/live/runs", { name: "resume" });
    const start = Date.now() - 1;
    await post(a, "/tracker/api/v1/projects/live/runs/resume/metrics", {
      records: [
        { step: 0, metrics: { loss: 3 } },
        { step: 1, metrics: { loss: 2 } },
      ],
    });
    const stream = await openStream(`${b.url}/api/projects/live/runs/stream?runs=resume&since=${start}`);
    await stream.until((events) => events.filter((e) => e.event === "metric").length >= 2);
    await post(a, "/tracker/api/v1/projects/live/runs/resume/metrics", {
      records: [{ step: 2, metrics: { loss: 1 } }],
    });
    await stream.until((events) => events.filter((e) => e.event === "metric").length >= 3);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(
      stream.events.filter((e) => e.event === "metric").map((e) => [e.data.step, e.data.metrics.loss]),
    ).toEqual([
      [0, 3],
      [1, 2],
      [2, 1],
    ]);
    await stream.close();

    // Each record has its own id, increasing along the stream, even where one batch shares a timestamp.
    const ids = stream.events.filter((e) => e.event === "metric").map((e) => e.id!);
    expect(new Set(ids).size).toBe(3);
    const key = (id: string) => {
      const [ts, run, step] = id.split(":");
      return [Number(ts), run!, Number(step)] as const;
    };
    for (let i = 1; i < ids.length; i++) {
      const [t0, , s0] = key(ids[i - 1]!);
      const [t1, , s1] = key(ids[i]!);
      expect(t1 > t0 || (t1 === t0 && s1 > s0)).toBe(true);
    }
    // EventSource's own reconnection: Last-Event-ID resumes right after that record — step 0 shares its
    // timestamp with step 1 (same batch) and is not sent again.
    const lastId = ids[1]!;
    const resumed = await fetch(`${a.url}/api/projects/live/runs/resume/stream`, {
      headers: { "last-event-id": lastId },
      signal: AbortSignal.timeout(1_000),
    })
      .then(async (r) => {
        const reader = r.body!.getReader();
        let text = "";
        while (!text.includes("event: metric")) text += new TextDecoder().decode((await reader.read()).value);
        await reader.cancel();
        return text;
      })
      .catch(() => "");
    expect(resumed).toContain('"step":2');
    expect(resumed).not.toContain('"step":0');
    expect(resumed).not.toContain('"step":1,');
  });

  it("unknown runs and projects are 404 and bad parameters 422, before any stream starts", async () => {
    expect((await fetch(`${b.url}/api/projects/live/runs/ghost/stream`)).status).toBe(404);
    expect((await fetch(`${b.url}/api/projects/ghost/runs/stream?runs=a`)).status).toBe(404);
    const bad = await fetch(`${b.url}/api/projects/live/runs/stream?runs=r1&since=soon`);
    expect(bad.status).toBe(422);
    expect((await bad.json()).detail[0].loc).toEqual(["query", "since"]);
    expect((await fetch(`${b.url}/api/projects/live/runs/stream`)).status).toBe(422);
  });
});
