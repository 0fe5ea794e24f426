import { describe, expect, it } from "vitest";
import { quoteNonFiniteTokens } from "../../src/platform/http/non-finite-json.js";

describe("quoteNonFiniteTokens (Python's json.dumps NaN/Infinity)", () => {
  it("quotes the bare tokens, never inside strings", () => {
    expect(quoteNonFiniteTokens('{"a": NaN, "b": [Infinity, -Infinity], "c": "NaN \\" Infinity"}')).toBe(
      '{"a": "NaN", "b": ["Infinity", "-Infinity"], "c": "NaN \\" Infinity"}',
    );
    expect(JSON.parse(quoteNonFiniteTokens('{"loss": NaN}')!)).toEqual({ loss: "NaN" });
  });
  it("says null when there is nothing to quote", () => {
    expect(quoteNonFiniteTokens('{"a": "NaN", "b": 1}')).toBeNull();
    expect(quoteNonFiniteTokens("{oops")).toBeNull();
  });
});
