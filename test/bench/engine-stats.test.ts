// Aggregation and context padding: pure functions, checked against figures Python's `statistics` module
// gives for the same data (the upstream aggregates with it), and against the tokenizer.
import { describe, expect, it } from "vitest";
import { contextText, countContextTokens } from "../../src/modules/bench/engine/context.js";
import { scrubSecrets } from "../../src/modules/bench/engine/scrub.js";
import {
  aggregateResults,
  coefficientOfVariation,
  confidenceLabel,
  describe as describeValues,
  iqrOutliers,
  p95,
  p99,
  quantiles,
} from "../../src/modules/bench/engine/stats.js";
import type { ResultEvent } from "../../src/modules/bench/engine/types.js";

describe("statistics (as Python's statistics module computes them)", () => {
  const tps = [31.2, 29.8, 30.5, 33.1, 28.7, 30.0];

  it("mean, sample stdev, median, p95, p99, CV", () => {
    // python3: statistics.mean/stdev/median, quantiles(n=20)[-1], quantiles(n=100)[-1]
    const d = describeValues(tps);
    expect(d.mean).toBeCloseTo(30.55, 10);
    expect(d.stdev).toBeCloseTo(1.4976648490233058, 10);
    expect(d.p50).toBeCloseTo(30.25, 10);
    expect(d.p95).toBeCloseTo(34.335, 10);
    expect(p99(tps)).toBeCloseTo(34.867, 10);
    expect(d.min).toBe(28.7);
    expect(d.max).toBe(33.1);
    expect(coefficientOfVariation(tps)).toBeCloseTo(4.902339931336516, 10);
    expect(quantiles([1, 2, 3, 4], 20)[18]).toBeCloseTo(4.75, 10);
  });

  it("quantiles only from four values; below that p95 is the maximum", () => {
    expect(p95([10, 30, 20])).toBe(30);
    expect(p95([7])).toBe(7);
    expect(p95([])).toBe(0);
  });

  it("confidence: high below 10 % CV with n ≥ 3, low above 30 % or with one run, else medium", () => {
    expect(confidenceLabel(4.9, 6)).toBe("high");
    expect(confidenceLabel(4.9, 2)).toBe("medium");
    expect(confidenceLabel(0, 1)).toBe("low");
    expect(confidenceLabel(35, 10)).toBe("low");
    expect(confidenceLabel(20, 10)).toBe("medium");
  });

  it("IQR outliers at 1.5 × IQR, none below four values", () => {
    // python3: statistics.quantiles([10,10,11,11,12,12,100], n=4) == [10, 11, 12]
    expect(iqrOutliers([10, 10, 11, 11, 12, 12, 100])).toEqual([100]);
    expect(iqrOutliers(tps)).toEqual([]);
    expect(iqrOutliers([1, 1000, 1])).toEqual([]);
  });

  it("aggregates per (model, provider, tier) over the successful runs", () => {
    const result = (model: string, tier: number, value: number, success = true): ResultEvent => ({
      type: "result",
      provider: "Local",
      provider_key: "local",
      model,
      model_id: `local/${model}`,
      run: 1,
      runs: 1,
      context_tokens: tier,
      ttft_ms: value * 10,
      total_time_s: 1,
      output_tokens: 100,
      input_tokens: 10,
      reasoning_tokens: 0,
      tokens_per_second: value,
      output_speed_tps: value * 2,
      itl_ms: 5,
      input_tokens_per_second: 50,
      cost: 0.001,
      tokens_source: "usage",
      success,
      error: success ? null : "[timeout] x",
    });
    const rows = aggregateResults([
      ...tps.map((v) => result("m", 0, v)),
      result("m", 0, 0, false),
      result("m", 5000, 12),
      result("other", 0, 50),
      result("other", 0, 0, false),
    ]);
    expect(rows.map((r) => [r.model, r.context_tokens, r.runs, r.failures])).toEqual([
      ["m", 0, 7, 1],
      ["m", 5000, 1, 0],
      ["other", 0, 2, 1],
    ]);
    const m = rows[0]!;
    expect(m.avg_tps).toBeCloseTo(30.55, 10);
    expect(m.p95_tps).toBeCloseTo(34.335, 10);
    expect(m.p50_ttft).toBeCloseTo(302.5, 8);
    expect(m.confidence).toBe("high");
    expect(m.avg_output_speed_tps).toBeCloseTo(61.1, 8);
    expect(m.total_cost).toBeCloseTo(0.006, 10);
    expect(rows[1]!.confidence).toBe("low"); // one run
    expect(rows[1]!.p95_tps).toBe(12);
  });
});

describe("context padding", () => {
  it("is exactly N tokens of cl100k_base, natural prose, for small and large tiers", () => {
    for (const n of [1, 2, 7, 100, 999, 5000, 32000]) expect(countContextTokens(contextText(n))).toBe(n);
    expect(contextText(0)).toBe("");
    const text = contextText(2000);
    expect(text.split(/\s+/).length).toBeGreaterThan(1000);
    expect(text).toContain("lighthouse");
  });
});

describe("secret scrubbing", () => {
  it("removes the known keys and key-shaped strings, keeps the message readable", () => {
    const out = scrubSecrets(
      "Incorrect API key provided: my-own-key-123 (Authorization: Bearer abc.def.ghi) sk-proj-abcdefghijklmnop " +
        "AIzaSyA1234567890abcdef https://x/v1?key=secretvalue",
      ["my-own-key-123"],
    );
    expect(out).not.toMatch(/my-own-key-123|abc\.def\.ghi|abcdefghijklmnop|1234567890abcdef|secretvalue/);
    expect(out).toContain("Incorrect API key provided: ***");
  });
});
