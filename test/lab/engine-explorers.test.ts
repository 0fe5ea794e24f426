// The explorers' sampling rule on a 1M-row table (pure engine code): the rows read are evenly spaced and
// capped, and every explorer answers in seconds.
import { describe, expect, it } from "vitest";
import {
  EXPLORERS,
  POINT_ROWS,
  sampleIndices,
  STAT_ROWS,
  takeRows,
} from "../../src/modules/lab/engine/explorers.js";
import type { Table } from "../../src/modules/lab/engine/types.js";

const N = 1_000_000;

function bigTable(): Table {
  const a = new Float64Array(N);
  const b = new Float64Array(N);
  const words = ["alpha", "beta", "gamma", "delta"];
  const text: string[] = new Array(N);
  for (let i = 0; i < N; i++) {
    a[i] = i % 1000;
    b[i] = 2 * (i % 1000) + 1;
    text[i] = `${words[i % 4]} ${words[(i >> 2) % 4]}`;
  }
  return {
    rowCount: N,
    columns: [
      { name: "a", type: "float", values: a },
      { name: "b", type: "float", values: b },
      { name: "t", type: "text", values: text },
    ],
  };
}

describe("explorer sampling on 1M rows", () => {
  it("reads at most 200,000 evenly spaced rows for statistics and 5,000 for point clouds", () => {
    const stats = sampleIndices(N, STAT_ROWS);
    expect(stats.length).toBe(200_000);
    expect([stats[0], stats[1], stats[199_999]]).toEqual([0, 5, 999_995]);
    expect(sampleIndices(N, POINT_ROWS).length).toBe(5_000);
    expect(Array.from(sampleIndices(7, STAT_ROWS))).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it("every explorer answers on a 1M-row table within a few seconds", () => {
    const table = bigTable();
    for (const explorer of EXPLORERS) {
      const started = performance.now();
      const rows = sampleIndices(N, explorer.rows === "points" ? POINT_ROWS : STAT_ROWS);
      const columns = explorer.accepts === "string" ? ["t"] : ["a", "b"];
      const sample = takeRows(
        { ...table, columns: table.columns.filter((c) => columns.includes(c.name)) },
        rows,
      );
      const figures = explorer.compute(
        sample,
        explorer.schema.parse({}),
        `sample of ${rows.length} of ${N} rows`,
      );
      const seconds = (performance.now() - started) / 1000;
      expect(figures.length, explorer.name).toBeGreaterThan(0);
      expect(JSON.stringify(figures).length, explorer.name).toBeLessThan(2_000_000);
      expect(seconds, explorer.name).toBeLessThan(5);
    }
  });

  it("the sampled correlation is the full table's on data with a pattern the sample keeps", () => {
    const table = bigTable();
    const corr = EXPLORERS.find((e) => e.name === "CorrelationMatrix")!;
    const sample = takeRows({ ...table, columns: table.columns.slice(0, 2) }, sampleIndices(N, STAT_ROWS));
    const z = (corr.compute(sample, { method: "pearson" }, "")[0]!.data[0] as { z: number[][] }).z;
    expect(z[0]![1]).toBeCloseTo(1, 12);
  });
});
