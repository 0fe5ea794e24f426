import { describe, expect, it } from "vitest";
import { lttbIndices } from "../../src/modules/tracking/lttb.js";
import { downsample } from "../../src/modules/tracking/service.js";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("LTTB", () => {
  it("returns a series at or under the threshold unchanged", () => {
    expect([...lttbIndices(range(5), [1, 2, 3, 4, 5], 5)]).toEqual([0, 1, 2, 3, 4]);
    expect([...lttbIndices(range(3), [1, 2, 3], 10)]).toEqual([0, 1, 2]);
  });

  it("keeps both endpoints and exactly one point per bucket", () => {
    const n = 10_000;
    const y = range(n).map((i) => Math.sin(i / 50) + ((i * 7919) % 13) / 100);
    for (const threshold of [3, 10, 1_000, 9_999]) {
      const kept = [...lttbIndices(range(n), y, threshold)];
      expect(kept).toHaveLength(threshold);
      expect(kept[0]).toBe(0);
      expect(kept.at(-1)).toBe(n - 1);
      // strictly increasing: one point from each of the threshold - 2 buckets, in order
      const every = (n - 2) / (threshold - 2);
      for (let b = 0; b < threshold - 2; b++) {
        const index = kept[b + 1]!;
        expect(index).toBeGreaterThanOrEqual(Math.floor(b * every) + 1);
        expect(index).toBeLessThan(Math.floor((b + 1) * every) + 1);
      }
    }
  });

  it("picks the peak of each bucket (known answer)", () => {
    // 8 points, threshold 4: buckets of the 6 middle points are [1,2,3] and [4,5,6].
    const y = [0, 1, 9, 1, 1, -9, 1, 0];
    expect([...lttbIndices(range(8), y, 4)]).toEqual([0, 2, 5, 7]);
    // a flat line with one spike keeps the spike
    const flat = range(100).map((i) => (i === 37 ? 50 : 0));
    expect([...lttbIndices(range(100), flat, 10)]).toContain(37);
  });

  it("computes against the step values, not the array position", () => {
    // One bucket (indices 1..4) between (0, 5) and the last point. Areas ∝ |(ax - cx)(y - ay) - (ax - x)(cy - ay)|:
    // with steps as x (last point at 100): 495, 110, 185, 450 → index 1;
    // with positions as x (last point at 5): 20, 15, 5, 30 → index 4, which would be wrong.
    const values = [5, 0, 6, 3, 7, 0];
    expect([...lttbIndices([0, 1, 2, 3, 50, 100], values, 3)]).toEqual([0, 1, 5]);
    expect([...lttbIndices(range(6), values, 3)]).toEqual([0, 4, 5]);
  });

  it("keeps a non-finite point rather than dropping a bucket", () => {
    const kept = [...lttbIndices(range(6), [0, NaN, NaN, 1, 2, 3], 4)];
    expect(kept).toHaveLength(4);
    expect(kept[1]).toBe(1);
  });

  it("downsample keeps the steps and timestamps of the kept points", () => {
    const n = 5_000;
    const series = {
      steps: range(n).map((i) => i * 2),
      values: range(n).map((i) => Math.cos(i / 100)),
      timestamps: range(n).map((i) => 1_700_000_000_000 + i * 1000),
    };
    const out = downsample(series, 1_000);
    expect(out.steps).toHaveLength(1_000);
    out.steps.forEach((step, i) => {
      const original = step / 2;
      expect(out.values[i]).toBe(series.values[original]);
      expect(out.timestamps[i]).toBe(series.timestamps[original]);
    });
  });
});
