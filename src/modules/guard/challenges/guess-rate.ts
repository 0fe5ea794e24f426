import { GRID_TYPES } from "../shared.schema.js";
import { GRID_CELLS } from "./challenge.schema.js";

/**
 * Guess rates (issue 18): the chance that a random answer to a ground-truth item is right, from its answer
 * type. The database keeps the same numbers in `items.guess_rate` (function `hiveguard_guess_rate`, migration
 * guess_rate) and composes challenges by the rule below inside `hiveguard_generate`; this file states the
 * rule in TypeScript for tests, the benchmark and the documentation.
 */

/** A free-text answer (a dataset without choices) is not guessed one time in a hundred. */
export const FREE_TEXT_GUESS_RATE = 0.01;

/** Binary 1/2, a choice among k 1/k, the exact set of a grid's cells 1/2^cells, free text 0.01. */
export function guessRateOf(type: string, choices: readonly string[]): number {
  if (GRID_TYPES.has(type)) return 1 / 2 ** GRID_CELLS;
  if (choices.length === 0) return FREE_TEXT_GUESS_RATE;
  return 1 / choices.length;
}

/**
 * The composition rule: ground-truth items are added, the lowest guess rate still available first, until
 * the product of their guess rates is at most `maxGuessRate` or `maxItems` are in. At least one item is
 * always taken; an item that cannot be guessed wrong (guess rate 1) is never added as a second one.
 * `pool` holds the guess rates of the available items (one entry per item). Returns the chosen rates in
 * order and their product.
 */
export function composeGroundTruth(
  pool: readonly number[],
  maxGuessRate: number,
  maxItems: number,
): { rates: number[]; guessRate: number } {
  const sorted = [...pool].sort((a, b) => a - b);
  const rates: number[] = [];
  let guessRate = 1;
  for (const rate of sorted) {
    if (rates.length >= Math.max(1, maxItems)) break;
    if (rates.length > 0 && guessRate <= maxGuessRate) break;
    if (rates.length > 0 && rate >= 1) break;
    rates.push(rate);
    guessRate *= rate;
  }
  return { rates, guessRate };
}

/** How many items of guess rate `rate` meet the bound (e.g. yes/no at 0.05: 5), unbounded by max items. */
export function itemsNeeded(rate: number, maxGuessRate: number): number {
  if (rate >= 1) return 1;
  return Math.max(1, Math.ceil(Math.log(maxGuessRate) / Math.log(rate) - 1e-9));
}
