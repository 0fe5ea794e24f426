// The explainers' numbers on fixed data against known answers: KernelSHAP on a linear model equals
// w_i (x_i − mean_bg(x_i)) and adds up to f(x) − base value (also with sampled coalitions and for a trained
// classifier with a one-hot column); permutation importance ranks the informative column first and gives an
// unused column exactly zero; partial dependence of a linear model is a line with the model's slope.
import { describe, expect, it } from "vitest";
import {
  coalitions,
  type ExplainableModel,
  inProcessModel,
  kernelShap,
  partialDependence,
  permutationImportance,
  solve,
} from "../../src/modules/lab/engine/explain/index.js";
import { createRng } from "../../src/modules/lab/engine/random.js";
import { train, type Table } from "../../src/modules/lab/engine/index.js";

function numericTable(columns: Record<string, number[]>): Table {
  const names = Object.keys(columns);
  return {
    rowCount: columns[names[0]!]!.length,
    columns: names.map((name) => ({
      name,
      type: "float" as const,
      values: Float64Array.from(columns[name]!),
    })),
  };
}

/** A linear regression model y = bias + Σ w_i x_i over named numeric columns. */
function linear(weights: Record<string, number>, bias: number): ExplainableModel {
  const names = Object.keys(weights);
  return {
    task: "RegressionTask",
    inputColumns: names,
    predict: async (table) => {
      const values = new Float64Array(table.rowCount).fill(bias);
      for (const name of names) {
        const col = table.columns.find((c) => c.name === name)!.values as Float64Array;
        for (let i = 0; i < table.rowCount; i++) values[i]! += weights[name]! * col[i]!;
      }
      return { outputs: 1, values };
    },
  };
}

function randomColumns(names: string[], rows: number, seed: number): Record<string, number[]> {
  const rng = createRng(seed);
  return Object.fromEntries(names.map((n) => [n, Array.from({ length: rows }, () => rng.normal() * 3 + 1)]));
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

describe("KernelSHAP", () => {
  it("gives w_i (x_i − mean_bg(x_i)) on a linear model, adding up to f(x) − base value (all coalitions)", async () => {
    const weights = { a: 3, b: -2, c: 0.5, d: 0 };
    const model = linear(weights, 4);
    const bg = randomColumns(["a", "b", "c", "d"], 30, 1);
    const x = randomColumns(["a", "b", "c", "d"], 3, 2);
    const result = await kernelShap(model, numericTable(bg), numericTable(x), { nSamples: 2048, seed: 0 });
    expect(result.exact).toBe(true);
    expect(result.coalitions).toBe(14);
    const base = 4 + Object.entries(weights).reduce((s, [n, w]) => s + w * mean(bg[n]!), 0);
    expect(result.base_value[0]).toBeCloseTo(base, 9);
    for (const [i, instance] of result.instances.entries()) {
      for (const [j, name] of result.features.entries())
        expect(instance.shap_values[j]![0]).toBeCloseTo(
          weights[name as keyof typeof weights] * (x[name]![i]! - mean(bg[name]!)),
          9,
        );
      const sum = instance.shap_values.reduce((s, v) => s + v[0]!, 0);
      expect(sum + result.base_value[0]!).toBeCloseTo(instance.prediction[0]!, 9);
    }
  });

  it("is still exact on a linear model with sampled coalitions (12 columns, 200 coalitions)", async () => {
    const names = Array.from({ length: 12 }, (_, i) => `f${i}`);
    const weights = Object.fromEntries(names.map((n, i) => [n, i - 5.5]));
    const bg = randomColumns(names, 20, 3);
    const x = randomColumns(names, 2, 4);
    const result = await kernelShap(linear(weights, -1), numericTable(bg), numericTable(x), {
      nSamples: 200,
      seed: 5,
    });
    expect(result.exact).toBe(false);
    expect(result.coalitions).toBeLessThanOrEqual(200);
    for (const [i, instance] of result.instances.entries())
      for (const [j, name] of names.entries())
        expect(instance.shap_values[j]![0]).toBeCloseTo(weights[name]! * (x[name]![i]! - mean(bg[name]!)), 7);
  });

  it("adds up for a trained classifier with a one-hot column, per class, and is seeded", async () => {
    const rng = createRng(9);
    const n = 120;
    const colors = ["red", "green", "blue"];
    const color = Array.from({ length: n }, () => colors[rng.int(3)]!);
    const size = Array.from({ length: n }, () => rng.normal());
    const label = color.map((c, i) => (c === "red" || size[i]! > 1 ? "yes" : "no"));
    const table: Table = {
      rowCount: n,
      columns: [
        { name: "color", type: "categorical", values: color },
        { name: "size", type: "float", values: Float64Array.from(size) },
        { name: "label", type: "categorical", values: label },
      ],
    };
    const { trained } = train(table, {
      model: "LogisticRegression",
      params: {},
      task: "TabularClassificationTask",
      inputColumns: ["color", "size"],
      outputColumn: "label",
      splits: { train: 0.8, validation: 0, test: 0.2 },
      seed: 1,
    });
    const model = inProcessModel(trained);
    const background: Table = {
      rowCount: 40,
      columns: table.columns.map((c) => ({ ...c, values: c.values.slice(0, 40) }) as never),
    };
    const rows: Table = {
      rowCount: 3,
      columns: table.columns.map((c) => ({ ...c, values: c.values.slice(50, 53) }) as never),
    };
    const result = await kernelShap(model, background, rows, { nSamples: 100, seed: 1 });
    expect(result.features).toEqual(["color", "size"]);
    expect(result.outputs).toEqual(["no", "yes"]);
    for (const instance of result.instances)
      for (let k = 0; k < 2; k++) {
        const sum = instance.shap_values.reduce((s, v) => s + v[k]!, 0);
        expect(sum + result.base_value[k]!).toBeCloseTo(instance.prediction[k]!, 9);
      }
    const again = await kernelShap(model, background, rows, { nSamples: 100, seed: 1 });
    expect(again.instances).toEqual(result.instances);
  });

  it("samples coalitions with their complements and solves a known system", () => {
    const { masks, weights } = coalitions(20, 50, 3);
    const keys = new Set(masks.map((m) => m.join("")));
    for (const m of masks) expect(keys.has(m.map((v) => 1 - v).join(""))).toBe(true);
    expect(weights.reduce((a, b) => a + b, 0)).toBe(50);
    const x = solve(Float64Array.from([2, 1, 1, 3]), Float64Array.from([3, 5]), 2);
    expect(x[0]).toBeCloseTo(0.8, 12);
    expect(x[1]).toBeCloseTo(1.4, 12);
  });
});

describe("permutation importance", () => {
  const rng = createRng(11);
  const n = 200;
  const signal = Array.from({ length: n }, () => rng.normal());
  const noise = Array.from({ length: n }, () => rng.normal());
  const data = numericTable({ signal, noise, y: signal.map((v) => 2 * v + 1) });
  const model = linear({ signal: 2, noise: 0 }, 1);

  it("ranks the informative column above the noise column; the unused column drops nothing", async () => {
    const result = await permutationImportance(model, data, {
      target: "y",
      metric: "R2",
      nRepeats: 10,
      seed: 0,
    });
    expect(result.baseline).toBeCloseTo(1, 12);
    expect(result.features).toEqual(["signal", "noise"]);
    expect(result.importances_mean[0]).toBeGreaterThan(1); // R² from 1 to about −1
    expect(result.importances_mean[1]).toBe(0);
    expect(result.importances_std[1]).toBe(0);
    expect(result.importances[0]).toHaveLength(10);
    expect(result.importances_std[0]).toBeGreaterThan(0);
  });

  it("is seeded, and a lower-is-better metric reports the increase as the importance", async () => {
    const a = await permutationImportance(model, data, { target: "y", metric: "MAE", nRepeats: 5, seed: 3 });
    const b = await permutationImportance(model, data, { target: "y", metric: "MAE", nRepeats: 5, seed: 3 });
    expect(a).toEqual(b);
    expect(a.baseline).toBeCloseTo(0, 12);
    expect(a.importances_mean[0]).toBeGreaterThan(0);
  });

  it("stops when cancelled", async () => {
    const controller = new AbortController();
    controller.abort(new Error("cancelled"));
    await expect(
      permutationImportance(model, data, {
        target: "y",
        metric: "R2",
        nRepeats: 5,
        seed: 0,
        signal: controller.signal,
      }),
    ).rejects.toThrow();
  });
});

describe("partial dependence", () => {
  it("is a line with the model's slope for a linear model, on a percentile grid", async () => {
    const cols = randomColumns(["a", "b"], 300, 21);
    const result = await partialDependence(linear({ a: 1.5, b: -4 }, 2), numericTable(cols), {
      features: ["a", "b"],
      gridResolution: 20,
      lowerPercentile: 0.05,
      upperPercentile: 0.95,
    });
    expect(result.outputs).toEqual(["prediction"]);
    for (const [f, slope] of [
      [0, 1.5],
      [1, -4],
    ] as const) {
      const { grid, average } = result.features[f]!;
      expect(grid).toHaveLength(20);
      for (let g = 1; g < grid.length; g++)
        expect(
          (average[0]![g]! - average[0]![g - 1]!) / ((grid[g] as number) - (grid[g - 1] as number)),
        ).toBeCloseTo(slope, 9);
      const sorted = [...cols[f === 0 ? "a" : "b"]!].sort((x, y) => x - y);
      expect(grid[0]).toBeGreaterThan(sorted[0]!);
      expect(grid.at(-1)).toBeLessThan(sorted.at(-1)!);
    }
  });
});
