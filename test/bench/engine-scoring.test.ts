/**
 * The scoring rules of tool-calling evals (bench-notes.md), each with worked examples as exact numbers.
 */
import { describe, expect, it } from "vitest";
import {
  overallScore,
  round4,
  scoreMultiTurn,
  scoreParams,
  scoreSingleTurn,
  scoreToolSelection,
  summarizeCases,
  type ChainCall,
} from "../../src/modules/bench/engine/index.js";

const call = (tool_name: string, params: Record<string, unknown> | null = {}, round = 1): ChainCall => ({
  tool_name,
  params,
  round,
});

describe("tool selection (1 or 0)", () => {
  it("matches the expected name case-insensitively", () => {
    expect(scoreToolSelection("get_weather", "get_weather")).toBe(1);
    expect(scoreToolSelection("get_weather", "GET_Weather")).toBe(1);
    expect(scoreToolSelection("get_weather", "get_forecast")).toBe(0);
    expect(scoreToolSelection("get_weather", null)).toBe(0);
  });
  it("accepts any tool of a list of acceptable ones", () => {
    expect(scoreToolSelection(["search_contacts", "create_event"], "CREATE_EVENT")).toBe(1);
    expect(scoreToolSelection(["search_contacts", "create_event"], "search_contacts")).toBe(1);
    expect(scoreToolSelection(["search_contacts", "create_event"], "get_weather")).toBe(0);
    expect(scoreToolSelection(["search_contacts"], null)).toBe(0);
  });
  it("counts 'no call expected': 1 when nothing was called, 0 for any call", () => {
    expect(scoreToolSelection(null, null)).toBe(1);
    expect(scoreToolSelection(null, undefined)).toBe(1);
    expect(scoreToolSelection(null, "get_weather")).toBe(0);
  });
});

describe("parameter accuracy (fraction of expected keys matched)", () => {
  it("scores each expected key: strings case-insensitively, numbers by value, the rest structurally", () => {
    // city matches (case), unit does not, days 3 = 3.0: 2 of 3
    expect(
      scoreParams(
        { city: "Paris", unit: "celsius", days: 3 },
        { city: "paris", unit: "fahrenheit", days: 3.0 },
      ),
    ).toBe(0.6667);
    // nested values compared whole; a missing key is a miss; extra keys do not count
    expect(
      scoreParams(
        { tags: ["a", "b"], filter: { open: true }, limit: 10, q: "x" },
        { tags: ["a", "b"], filter: { open: false }, q: "X", extra: 1 },
      ),
    ).toBe(0.5);
    // a number is not its string: "5" ≠ 5
    expect(scoreParams({ n: 5 }, { n: "5" })).toBe(0);
    expect(scoreParams({ a: 1, b: 2, c: 3, d: 4 }, { a: 1, b: 2, c: 3, d: 0 })).toBe(0.75);
  });
  it("is null when no parameters are expected, 1 for an empty expectation, 0 without a call", () => {
    expect(scoreParams(null, { city: "Paris" })).toBeNull();
    expect(scoreParams(undefined, null)).toBeNull();
    expect(scoreParams({}, null)).toBe(1);
    expect(scoreParams({ city: "Paris" }, null)).toBe(0);
  });
});

describe("overall = 0.6 × tool + 0.4 × params", () => {
  it("weights tool and parameters, and is the tool score alone when parameters are not scored", () => {
    expect(overallScore(1, 1)).toBe(1);
    expect(overallScore(1, 0.5)).toBe(0.8);
    expect(overallScore(0, 1)).toBe(0.4);
    expect(overallScore(1, 0)).toBe(0.6);
    expect(overallScore(1, null)).toBe(1);
    expect(overallScore(0, null)).toBe(0);
  });
  it("single-turn cases, worked end to end", () => {
    // right tool, 2 of 3 parameters: 0.6 + 0.4 × 2/3 = 0.86667 → 0.8667 (rounded once, from 2/3 itself)
    expect(
      scoreSingleTurn(
        { tool: "get_weather", params: { city: "Paris", unit: "celsius", days: 3 } },
        { tool: "get_weather", params: { city: "Paris", unit: "kelvin", days: 3 } },
      ),
    ).toEqual({ tool_selection_score: 1, param_accuracy: 0.6667, overall_score: 0.8667 });
    // wrong tool whose arguments happen to match: 0.6 × 0 + 0.4 × 1
    expect(
      scoreSingleTurn(
        { tool: "get_weather", params: { city: "Paris" } },
        { tool: "get_forecast", params: { city: "Paris" } },
      ),
    ).toEqual({ tool_selection_score: 0, param_accuracy: 1, overall_score: 0.4 });
    // no call expected, none made: a full score, parameters not scored
    expect(scoreSingleTurn({ tool: null, params: null }, { tool: null, params: null })).toEqual({
      tool_selection_score: 1,
      param_accuracy: null,
      overall_score: 1,
    });
    // no call expected but one made
    expect(
      scoreSingleTurn({ tool: null, params: null }, { tool: "get_weather", params: { city: "x" } }),
    ).toEqual({
      tool_selection_score: 0,
      param_accuracy: null,
      overall_score: 0,
    });
    // expected a call with parameters, got none
    expect(
      scoreSingleTurn({ tool: "get_weather", params: { city: "Paris" } }, { tool: null, params: null }),
    ).toEqual({ tool_selection_score: 0, param_accuracy: 0, overall_score: 0 });
    // 1 of 3 parameters: 0.6 + 0.4/3 = 0.73333 → 0.7333
    expect(
      scoreSingleTurn(
        { tool: ["a", "b"], params: { x: 1, y: 2, z: 3 } },
        { tool: "B", params: { x: 1, y: 0, z: 0 } },
      ),
    ).toEqual({ tool_selection_score: 1, param_accuracy: 0.3333, overall_score: 0.7333 });
  });
});

describe("multi-turn = completion × min(1, optimal/hops) − 0.1 × repeats − 0.1 × detours", () => {
  const expected = {
    tool: "create_event",
    params: { title: "Review", attendee_email: "ada@example.com" },
    validPrerequisites: ["search_contacts"],
    optimalHops: 2,
  };
  it("an optimal chain scores 1", () => {
    expect(
      scoreMultiTurn(
        [
          call("search_contacts", { name: "Ada" }, 1),
          call("create_event", { title: "review", attendee_email: "ada@example.com" }, 2),
        ],
        expected,
      ),
    ).toEqual({ completion: 1, efficiency: 1, redundancy_penalty: 0, detour_penalty: 0, overall_score: 1 });
  });
  it("a repeated call and a detour on a 4-hop chain: 1 × 2/4 − 0.1 − 0.1 = 0.3", () => {
    expect(
      scoreMultiTurn(
        [
          call("search_contacts", {}, 1),
          call("search_contacts", {}, 2), // repeats the call before it
          call("get_weather", {}, 3), // neither a prerequisite nor the expected tool: a detour
          call("create_event", { title: "Review", attendee_email: "ada@example.com" }, 4),
        ],
        expected,
      ),
    ).toEqual({
      completion: 1,
      efficiency: 0.5,
      redundancy_penalty: 0.1,
      detour_penalty: 0.1,
      overall_score: 0.3,
    });
  });
  it("completion is the last call's 0.6/0.4 score; efficiency is capped at 1", () => {
    // one hop where two were optimal: efficiency min(1, 2/1) = 1; half the parameters: 0.6 + 0.2 = 0.8
    expect(
      scoreMultiTurn(
        [call("create_event", { title: "Review", attendee_email: "bob@example.com" })],
        expected,
      ),
    ).toEqual({
      completion: 0.8,
      efficiency: 1,
      redundancy_penalty: 0,
      detour_penalty: 0,
      overall_score: 0.8,
    });
    // 3 hops, optimal 2, get_weather a detour: 0.8 × 2/3 − 0.1 = 0.43333 → 0.4333
    expect(
      scoreMultiTurn(
        [
          call("search_contacts"),
          call("get_weather"),
          call("create_event", { title: "Review", attendee_email: "x" }),
        ],
        expected,
      ),
    ).toEqual({
      completion: 0.8,
      efficiency: 0.6667,
      redundancy_penalty: 0,
      detour_penalty: 0.1,
      overall_score: 0.4333,
    });
  });
  it("never goes below 0; the last call is never a detour; an empty chain is 0", () => {
    // never reached the expected tool: completion 0 (wrong tool, no matching parameters), penalties floor at 0
    expect(
      scoreMultiTurn(
        [call("get_weather"), call("get_weather"), call("get_weather"), call("get_weather")],
        expected,
      ),
    ).toEqual({
      completion: 0,
      efficiency: 0.5,
      redundancy_penalty: 0.3,
      detour_penalty: 0.3,
      overall_score: 0,
    });
    expect(scoreMultiTurn([], expected)).toEqual({
      completion: 0,
      efficiency: 0,
      redundancy_penalty: 0,
      detour_penalty: 0,
      overall_score: 0,
    });
  });
  it("any tool of an expected list counts as valid on the way; names compare case-insensitively", () => {
    expect(
      scoreMultiTurn([call("Lookup"), call("LOOKUP"), call("book")], {
        tool: ["lookup", "book"],
        params: null,
        validPrerequisites: [],
        optimalHops: 3,
      }),
    ).toEqual({
      completion: 1,
      efficiency: 1,
      redundancy_penalty: 0.1,
      detour_penalty: 0,
      overall_score: 0.9,
    });
  });
});

describe("model summary", () => {
  it("averages over the cases that ran, parameters over those that score them; passes at an overall of 1", () => {
    expect(
      summarizeCases([
        { success: true, tool_selection_score: 1, param_accuracy: 1, overall_score: 1 },
        { success: true, tool_selection_score: 1, param_accuracy: 0.5, overall_score: 0.8 },
        { success: true, tool_selection_score: 0, param_accuracy: null, overall_score: 0 },
        { success: false, tool_selection_score: 0, param_accuracy: null, overall_score: 0 },
      ]),
    ).toEqual({
      tool_accuracy_pct: 66.7, // 2 of 3 that ran
      param_accuracy_pct: 75, // (1 + 0.5) / 2
      overall_pct: 60, // (1 + 0.8 + 0) / 3
      cases_run: 4,
      cases_passed: 1,
    });
    expect(summarizeCases([])).toEqual({
      tool_accuracy_pct: 0,
      param_accuracy_pct: 0,
      overall_pct: 0,
      cases_run: 0,
      cases_passed: 0,
    });
  });
  it("rounds at 4 decimals from the decimal value", () => {
    expect(round4(2 / 3)).toBe(0.6667);
    expect(round4(0.86665)).toBe(0.8667);
    expect(round4(0.6 + 0.4 * (2 / 3))).toBe(0.8667);
  });
});
