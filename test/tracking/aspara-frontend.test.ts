// Aspara's own dashboard frontend against HiveGuard's answers. The data path of its charts is ported here
// function for function from prednext/aspara, src/aspara/dashboard/static/js/:
//   metrics/metrics-utils.js   decompressDeltaData, findLatestTimestamp, mergeDataPoint
//   runs-list/sse-utils.js     buildSSEUrl
//   metrics/metrics-data-service.js  fetchAndCacheMetrics, fetchDeltaViaMsgPack / mergeDeltaIntoCache,
//                                    the SSE metric handler and handleMetricUpdate (the reconnect catch-up)
// and run on what our server sends: the X axis must be the logged steps, and a gap left by a disconnect must
// be filled by the `since` catch-up.
import { decode as msgpackDecode } from "@msgpack/msgpack";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

type Soa = { steps: number[]; values: number[]; timestamps: number[] };
type MetricFirst = Record<string, Record<string, Soa>>;

// ── ported from metrics-utils.js ────────────────────────────────────────────────────────────────────────
function decompressDeltaData(arrayData: MetricFirst): MetricFirst {
  const result: MetricFirst = {};
  for (const [metricName, runData] of Object.entries(arrayData)) {
    result[metricName] = {};
    for (const [runName, arrays] of Object.entries(runData)) {
      const length = arrays.steps.length;
      const steps = new Array<number>(length);
      const timestamps = new Array<number>(length);
      let step = 0;
      let timestamp_ms = 0;
      for (let i = 0; i < length; i++) {
        step += arrays.steps[i]!;
        steps[i] = step;
        timestamp_ms += arrays.timestamps[i]!;
        timestamps[i] = timestamp_ms;
      }
      result[metricName][runName] = { steps, values: arrays.values, timestamps };
    }
  }
  return result;
}

function findLatestTimestamp(metricsData: MetricFirst): number {
  let latestTimestamp = 0;
  for (const runData of Object.values(metricsData)) {
    for (const data of Object.values(runData)) {
      if (data.timestamps && data.timestamps.length > 0) {
        const lastTs = data.timestamps[data.timestamps.length - 1]!;
        if (lastTs > latestTimestamp) latestTimestamp = lastTs;
      }
    }
  }
  return latestTimestamp;
}

function mergeDataPoint(cached: Soa, step: number, value: number, timestamp: number): void {
  let left = 0;
  let right = cached.steps.length;
  while (left < right) {
    const mid = (left + right) >> 1;
    if (cached.steps[mid]! < step) left = mid + 1;
    else if (cached.steps[mid]! > step) right = mid;
    else {
      cached.values[mid] = value;
      cached.timestamps[mid] = timestamp;
      return;
    }
  }
  cached.steps.splice(left, 0, step);
  cached.values.splice(left, 0, value);
  cached.timestamps.splice(left, 0, timestamp);
}

// ── ported from sse-utils.js ────────────────────────────────────────────────────────────────────────────
const INITIAL_SINCE_TIMESTAMP = 0;
function buildSSEUrl(project: string, runs: string[], since: number): string {
  const runsList = runs.join(",");
  return `/api/projects/${encodeURIComponent(project)}/runs/stream?runs=${encodeURIComponent(runsList)}&since=${since}`;
}

// ── MetricsDataService's data path (metrics-data-service.js), without the DOM ───────────────────────────
class MetricsDataService {
  metricsCache: MetricFirst = {};
  cachedRuns = new Set<string>();
  lastSSETimestamp = INITIAL_SINCE_TIMESTAMP;
  constructor(
    readonly origin: string,
    readonly project: string,
  ) {}

  async #msgpack(url: string): Promise<any> {
    const response = await fetch(this.origin + url);
    if (!response.ok) throw new Error(`HTTP error! status: ${response.status}`);
    const data = msgpackDecode(await response.arrayBuffer()) as any;
    if (data.error) throw new Error(data.error);
    return data;
  }

  async fetchAndCacheMetrics(runNames: string[]) {
    const runsList = runNames.join(",");
    const data = await this.#msgpack(
      `/api/projects/${encodeURIComponent(this.project)}/runs/metrics?runs=${encodeURIComponent(runsList)}&format=msgpack`,
    );
    const convertedData = decompressDeltaData(data.metrics);
    for (const [metricName, runData] of Object.entries(convertedData)) {
      this.metricsCache[metricName] ??= {};
      for (const [runName, series] of Object.entries(runData))
        this.metricsCache[metricName][runName] = series;
    }
    for (const runName of runNames) this.cachedRuns.add(runName);
    const latestTimestamp = findLatestTimestamp(convertedData);
    if (latestTimestamp > this.lastSSETimestamp) this.lastSSETimestamp = latestTimestamp;
  }

  async fetchDeltaViaMsgPack(runsList: string) {
    const data = await this.#msgpack(
      `/api/projects/${encodeURIComponent(this.project)}/runs/metrics?runs=${encodeURIComponent(runsList)}&format=msgpack&since=${this.lastSSETimestamp}`,
    );
    const deltaData = decompressDeltaData(data.metrics);
    for (const [metricName, runData] of Object.entries(deltaData)) {
      this.metricsCache[metricName] ??= {};
      for (const [runName, newData] of Object.entries(runData)) {
        if (!this.cachedRuns.has(runName)) continue;
        const cached = this.metricsCache[metricName][runName];
        if (!cached) {
          this.metricsCache[metricName][runName] = newData;
          continue;
        }
        for (let i = 0; i < newData.steps.length; i++)
          mergeDataPoint(cached, newData.steps[i]!, newData.values[i]!, newData.timestamps[i]!);
      }
    }
    const latestTimestamp = findLatestTimestamp(deltaData);
    if (latestTimestamp > this.lastSSETimestamp) this.lastSSETimestamp = latestTimestamp;
    return deltaData;
  }

  /** The `metric` event handler of setupSSE, then handleMetricUpdate. */
  onMetricEvent(eventData: string) {
    const metric = JSON.parse(eventData);
    if (metric.timestamp) {
      const ts = new Date(metric.timestamp).getTime();
      if (!Number.isNaN(ts) && ts > this.lastSSETimestamp) this.lastSSETimestamp = ts;
    }
    const step = metric.step || 0;
    const timestamp = metric.timestamp ? new Date(metric.timestamp).getTime() : Date.now();
    for (const [metricName, value] of Object.entries(metric.metrics as Record<string, number>)) {
      if (!this.cachedRuns.has(metric.run)) continue;
      this.metricsCache[metricName] ??= {};
      this.metricsCache[metricName][metric.run] ??= { steps: [], values: [], timestamps: [] };
      mergeDataPoint(this.metricsCache[metricName][metric.run]!, step, value, timestamp);
    }
  }
}

/** An EventSource-like reader: calls `onMetric` with each `metric` event's data until closed. */
function openEventSource(url: string, onMetric: (data: string) => void) {
  const controller = new AbortController();
  let count = 0;
  const done = fetch(url, { signal: controller.signal })
    .then(async (response) => {
      expect(response.status).toBe(200);
      const reader = response.body!.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) return;
        buffer += decoder.decode(value, { stream: true });
        let cut: number;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const fields = Object.fromEntries(
            block
              .split("\n")
              .map((line) => [line.slice(0, line.indexOf(":")), line.slice(line.indexOf(":") + 2)]),
          );
          if (fields.event === "metric") {
            count++;
            onMetric(fields.data!);
          }
        }
      }
    })
    .catch((error: unknown) => {
      if ((error as Error).name !== "AbortError") throw error;
    });
  return {
    get count() {
      return count;
    },
    close: async () => {
      controller.abort();
      await done;
    },
  };
}

async function until(check: () => boolean, timeoutMs = 5_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let server: TestServer;
const T0 = Date.now() - 3_600_000; // an hour ago: the training's timestamps are all in the past
const post = (path: string, body: unknown) =>
  fetch(server.url + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

beforeAll(async () => {
  server = await startTestServer({ env: { TRACKING_AUTH: "none" } });
  for (const [name, length] of [
    ["long", 2_000],
    ["short", 500],
  ] as const) {
    expect((await post("/tracker/api/v1/projects/charts/runs", { name })).status).toBe(201);
    const records = Array.from({ length }, (_, step) => ({
      step,
      timestamp: T0 + step * 10,
      metrics: { loss: 1 / (step + 1), acc: step / length },
    }));
    expect((await post(`/tracker/api/v1/projects/charts/runs/${name}/metrics`, { records })).status).toBe(
      200,
    );
  }
});
afterAll(() => server?.close());

describe("Aspara's own frontend on HiveGuard's metrics", () => {
  it("draws the logged steps on the X axis (delta-decoded), with timestamps in the past", async () => {
    const service = new MetricsDataService(server.url, "charts");
    await service.fetchAndCacheMetrics(["long", "short"]);
    const long = service.metricsCache.loss!.long!;
    const short = service.metricsCache.loss!.short!;
    // 2,000 steps, LTTB-downsampled to 1,000 points: the axis runs from 0 to 1,999, strictly increasing
    expect(long.steps).toHaveLength(1_000);
    expect(long.steps[0]).toBe(0);
    expect(long.steps.at(-1)).toBe(1_999);
    for (let i = 1; i < long.steps.length; i++) expect(long.steps[i]).toBeGreaterThan(long.steps[i - 1]!);
    for (const [i, step] of long.steps.entries()) {
      expect(long.timestamps[i]).toBe(T0 + step * 10);
      expect(long.values[i]).toBe(Math.fround(1 / (step + 1))); // float32 in msgpack, as upstream
    }
    expect(short.steps).toEqual(Array.from({ length: 500 }, (_, i) => i));
    // The catch-up point is the last logged timestamp, not a point in the future
    expect(service.lastSSETimestamp).toBe(T0 + 1_999 * 10);
    expect(service.lastSSETimestamp).toBeLessThanOrEqual(Date.now());
  });

  it("recovers after a disconnect: the since catch-up fills the gap, then the stream carries on", async () => {
    const service = new MetricsDataService(server.url, "charts");
    await service.fetchAndCacheMetrics(["long"]);
    // Connected: a live point arrives through the stream
    let source = openEventSource(
      server.url + buildSSEUrl("charts", ["long"], service.lastSSETimestamp),
      (data) => service.onMetricEvent(data),
    );
    await until(() => source.count >= 1); // the back-fill from `since` (the last point, timestamp ≥ since)
    const before = source.count;
    expect(
      (
        await post("/tracker/api/v1/projects/charts/runs/long/metrics", {
          records: [{ step: 2_000, timestamp: T0 + 20_000, metrics: { loss: 0.5 } }],
        })
      ).status,
    ).toBe(200);
    await until(() => source.count > before);
    expect(service.metricsCache.loss!.long!.steps.at(-1)).toBe(2_000);
    await source.close(); // the connection drops

    // While disconnected, the training logs 50 more steps
    const gap = Array.from({ length: 50 }, (_, i) => ({
      step: 2_001 + i,
      timestamp: T0 + 20_010 + i * 10,
      metrics: { loss: 0.25, acc: 1 },
    }));
    expect((await post("/tracker/api/v1/projects/charts/runs/long/metrics", { records: gap })).status).toBe(
      200,
    );

    // reconnectSSE(): fetch the delta since the last seen timestamp, merge it, reconnect with since
    const delta = await service.fetchDeltaViaMsgPack("long");
    expect(delta.loss!.long!.steps.slice(-50)).toEqual(gap.map((r) => r.step));
    const cached = service.metricsCache.loss!.long!;
    for (const record of gap) expect(cached.steps).toContain(record.step);
    expect(cached.steps.at(-1)).toBe(2_050);
    expect(service.lastSSETimestamp).toBe(T0 + 20_010 + 49 * 10);
    for (let i = 1; i < cached.steps.length; i++)
      expect(cached.steps[i]).toBeGreaterThan(cached.steps[i - 1]!);

    source = openEventSource(server.url + buildSSEUrl("charts", ["long"], service.lastSSETimestamp), (data) =>
      service.onMetricEvent(data),
    );
    await until(() => source.count >= 1);
    const seen = source.count;
    await post("/tracker/api/v1/projects/charts/runs/long/metrics", {
      records: [{ step: 2_051, metrics: { loss: 0.125 } }],
    });
    await until(() => source.count > seen);
    expect(cached.steps.at(-1)).toBe(2_051);
    expect(cached.values.at(-1)).toBe(0.125);
    await source.close();
  });
});
