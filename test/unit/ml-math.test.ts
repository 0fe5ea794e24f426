// The risk model's math against answers known in closed form or from scikit-learn's documentation, and the
// ONNX export against the same model evaluated in TypeScript.
import { describe, expect, it } from "vitest";
import { FEATURE_COUNT, FEATURE_NAMES, featureVector } from "../../src/modules/guard/risk/features.js";
import {
  accuracy,
  fitLogistic,
  logLoss,
  predict,
  predictOne,
  rocAuc,
  seededRandom,
  sigmoid,
  solveSpd,
  standardizer,
  trainTestSplit,
} from "../../src/modules/guard/risk/logistic.js";
import { exportLogisticOnnx, OnnxRiskModel } from "../../src/modules/guard/risk/onnx.js";

const logit = (p: number) => Math.log(p / (1 - p));

describe("logistic regression", () => {
  it("with one binary feature and no penalty, predicts each group's share of positives (the MLE)", async () => {
    // x = 0: 3 positives of 10; x = 1: 8 positives of 10.
    const x = [...new Array(10).fill(0), ...new Array(10).fill(1)];
    const y = [1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0];
    const { model, converged } = await fitLogistic({ x, y, n: 20, d: 1 }, { l2: 0 });
    expect(converged).toBe(true);
    expect(predictOne(model, [0])).toBeCloseTo(0.3, 10);
    expect(predictOne(model, [1])).toBeCloseTo(0.8, 10);
    // The coefficient on the raw feature is the log odds ratio.
    expect(model.weights[0]! / model.scale[0]!).toBeCloseTo(logit(0.8) - logit(0.3), 9);
  });

  it("with an L2 penalty, stops where the penalized gradient is zero", async () => {
    const random = seededRandom(5);
    const n = 400;
    const d = 4;
    const x = Array.from({ length: n * d }, () => random() * 10 - 3);
    const y = Array.from({ length: n }, (_, i) =>
      random() < sigmoid(x[i * d]! - 0.5 * x[i * d + 2]!) ? 1 : 0,
    );
    const { model } = await fitLogistic({ x, y, n, d }, { l2: 2 });
    const p = predict(model, x, n);
    // ∂/∂b: Σ(p − y) = 0 (no penalty on the intercept); ∂/∂w_j: Σ(p − y)·z_j + λ·w_j = 0.
    expect(p.reduce((s, pi, i) => s + pi - y[i]!, 0)).toBeCloseTo(0, 8);
    for (let j = 0; j < d; j++) {
      let g = 2 * model.weights[j]!;
      for (let i = 0; i < n; i++) g += (p[i]! - y[i]!) * ((x[i * d + j]! - model.mean[j]!) / model.scale[j]!);
      expect(g).toBeCloseTo(0, 7);
    }
    expect(model.weights[0]).toBeGreaterThan(0);
    expect(model.weights[2]).toBeLessThan(0);
  });

  it("stays finite on perfectly separable data (the penalty bounds the weights)", async () => {
    const x = [0, 1, 2, 3, 10, 11, 12, 13];
    const y = [0, 0, 0, 0, 1, 1, 1, 1];
    const { model, converged } = await fitLogistic({ x, y, n: 8, d: 1 });
    expect(converged).toBe(true);
    expect(Number.isFinite(model.weights[0])).toBe(true);
    expect(predictOne(model, [0])).toBeLessThan(0.2);
    expect(predictOne(model, [13])).toBeGreaterThan(0.8);
  });

  it("standardizes with the population standard deviation; a constant column gets scale 1", () => {
    const { mean, scale } = standardizer({ x: [1, 5, 3, 5, 5, 5, 7, 5], y: [], n: 4, d: 2 });
    expect(mean).toEqual([4, 5]);
    expect(scale[0]).toBeCloseTo(Math.sqrt(5), 12);
    expect(scale[1]).toBe(1);
  });

  it("solves a symmetric positive definite system", () => {
    const a = Float64Array.from([4, 12, -16, 12, 37, -43, -16, -43, 98]);
    const b = Float64Array.from([1, 2, 3]);
    const x = solveSpd(a, b, 3);
    for (let i = 0; i < 3; i++) {
      const row = a[i * 3]! * x[0]! + a[i * 3 + 1]! * x[1]! + a[i * 3 + 2]! * x[2]!;
      expect(row).toBeCloseTo(b[i]!, 10);
    }
  });
});

describe("metrics", () => {
  it("ROC-AUC: scikit-learn's documented example is 0.75; ties count half; one class → null", () => {
    expect(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])).toBeCloseTo(0.75, 12);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5);
    expect(rocAuc([0.2, 0.9], [1, 1])).toBeNull();
  });

  it("log-loss: scikit-learn's documented example is 0.21616...", () => {
    expect(logLoss([0.9, 0.1, 0.2, 0.65], [1, 0, 0, 1])).toBeCloseTo(0.21616187468057912, 12);
  });

  it("accuracy at 0.5", () => {
    expect(accuracy([0.9, 0.4, 0.5, 0.1], [1, 1, 1, 0])).toBe(0.75);
  });

  it("splits deterministically, every row once", () => {
    const first = trainTestSplit(100, 0.2, 42);
    expect(first).toEqual(trainTestSplit(100, 0.2, 42));
    expect(first.test).toHaveLength(20);
    expect([...first.train, ...first.test].sort((p, q) => p - q)).toEqual(
      Array.from({ length: 100 }, (_, i) => i),
    );
  });
});

describe("feature vector", () => {
  it("has a fixed order and turns a recorded session into numbers", () => {
    expect(FEATURE_NAMES.slice(0, 5)).toEqual([
      "log_time_to_answer",
      "log_time_since_prev_generate",
      "client_gt_accuracy",
      "log_client_gt_total",
      "log_client_generates_per_minute",
    ]);
    expect(FEATURE_COUNT).toBe(18);
    const v = featureVector({
      time_to_answer_ms: 3000,
      ms_since_prev_generate: null,
      solver_gt_correct: 3,
      solver_gt_total: 4,
      client_generates_this_minute: 2,
      ua_length: 900,
      ua_automation: true,
      has_accept_language: false,
      has_accept: true,
      tier: 2,
      client_recent_failures: 2,
      network_recent_failures: 0,
      client_answer_time_sd: 0.5,
      challenge_type: "grid_select",
    });
    expect(v).toEqual(
      [
        Math.log(4),
        Math.log(3601),
        4 / 6,
        Math.log(5),
        Math.log(3),
        512,
        1,
        0,
        1,
        2,
        Math.log(3),
        0,
        0.5,
        0,
        0,
        0,
        1,
        0,
      ].map(Math.fround),
    );
  });
});

describe("ONNX export", () => {
  it("scores as the TypeScript model within 1e-5 on the same inputs (standardization in the graph)", async () => {
    const random = seededRandom(9);
    const d = FEATURE_COUNT;
    const model = {
      mean: Array.from({ length: d }, () => random() * 4),
      scale: Array.from({ length: d }, () => 0.2 + random() * 3),
      weights: Array.from({ length: d }, () => random() * 2 - 1),
      intercept: random() - 0.5,
    };
    const loaded = await OnnxRiskModel.load(exportLogisticOnnx(model));
    try {
      const n = 2000;
      const x = Float32Array.from({ length: n * d }, () => random() * 8 - 2);
      const onnx = await loaded.score(x, n);
      const ts = predict(model, x, n);
      let worst = 0;
      for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(onnx[i]! - ts[i]!));
      expect(worst).toBeLessThan(1e-5);
    } finally {
      await loaded.release();
    }
  });
});
