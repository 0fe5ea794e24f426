// Seeded train / validation / test splits by ratios; stratified by class for classification.
import { EngineError } from "./errors.js";
import { createRng, shuffle } from "./random.js";

export interface SplitRatios {
  train: number;
  validation: number;
  test: number;
}

export interface Splits {
  train: number[];
  validation: number[];
  test: number[];
}

/**
 * Split `rows` by `ratios` (normalized to sum 1), with the seed's shuffle. With `strata` (a class index per
 * row, aligned with `rows`), every class is split by the same ratios so each part keeps the class mix.
 */
export function splitRows(
  rows: number[],
  ratios: SplitRatios,
  seed: number,
  strata?: ArrayLike<number>,
): Splits {
  const total = ratios.train + ratios.validation + ratios.test;
  if (!(ratios.train > 0) || ratios.validation < 0 || ratios.test < 0 || !(total > 0))
    throw new EngineError(
      "invalid_input",
      "Split ratios must be non-negative numbers with a positive train ratio",
    );
  const rng = createRng(seed);
  const groups: number[][] = [];
  if (strata) {
    const byClass = new Map<number, number[]>();
    rows.forEach((row, i) => {
      const c = strata[i]!;
      if (!byClass.has(c)) byClass.set(c, []);
      byClass.get(c)!.push(row);
    });
    for (const key of [...byClass.keys()].sort((a, b) => a - b)) groups.push(byClass.get(key)!);
  } else groups.push([...rows]);
  const out: Splits = { train: [], validation: [], test: [] };
  for (const group of groups) {
    shuffle(group, rng);
    const n = group.length;
    const nTest = Math.round((n * ratios.test) / total);
    const nValidation = Math.round((n * ratios.validation) / total);
    const nTrain = Math.max(0, n - nTest - nValidation);
    out.train.push(...group.slice(0, nTrain));
    out.validation.push(...group.slice(nTrain, nTrain + nValidation));
    out.test.push(...group.slice(nTrain + nValidation));
  }
  // One final shuffle per part, so stratified parts are not ordered by class.
  shuffle(out.train, rng);
  shuffle(out.validation, rng);
  shuffle(out.test, rng);
  if (out.train.length === 0)
    throw new EngineError("invalid_input", "The train split is empty: the dataset has too few rows");
  return out;
}
