// Parameter tuning: the combinations a search space names (bench-upstream-shapes.md "Param tuner"), every one of
// the grid, or a random sample of it when the grid is larger than the limit.

export type SearchValue = number | string | boolean;
export type SearchDimension = readonly SearchValue[] | { min: number; max: number; step: number };
export type SearchSpace = Readonly<Record<string, SearchDimension>>;

/** At most this many values in one dimension (a range with a tiny step). */
export const MAX_VALUES_PER_DIMENSION = 1000;

/** The values of one dimension: a list as given, or min, min+step, … ≤ max (6 decimals). */
export function dimensionValues(dimension: SearchDimension): SearchValue[] {
  if (Array.isArray(dimension)) return [...new Set(dimension as SearchValue[])];
  const { min, max, step } = dimension as { min: number; max: number; step: number };
  const values: number[] = [];
  for (let k = 0; values.length < MAX_VALUES_PER_DIMENSION; k++) {
    const value = Math.round((min + k * step) * 1e6) / 1e6;
    if (value > max + 1e-9) break;
    values.push(value);
  }
  return values;
}

export interface Combinations {
  strategy: "grid" | "random";
  /** Size of the full grid. */
  gridSize: number;
  combos: Record<string, SearchValue>[];
}

/**
 * Every combination of the grid, in order (the last dimension varies fastest), or — when the grid has more than
 * `limit` — `limit` distinct combinations drawn at random (`random` in [0, 1), injectable for tests).
 */
export function searchCombinations(space: SearchSpace, limit: number, random = Math.random): Combinations {
  const names = Object.keys(space);
  const dims = names.map((name) => dimensionValues(space[name]!));
  const gridSize = dims.reduce((n, values) => n * values.length, names.length ? 1 : 0);
  const decode = (index: number) => {
    const combo: Record<string, SearchValue> = {};
    for (let d = dims.length - 1; d >= 0; d--) {
      const values = dims[d]!;
      combo[names[d]!] = values[index % values.length]!;
      index = Math.floor(index / values.length);
    }
    // Keys in the space's order.
    return Object.fromEntries(names.map((name) => [name, combo[name]!]));
  };
  if (gridSize <= limit)
    return { strategy: "grid", gridSize, combos: Array.from({ length: gridSize }, (_, i) => decode(i)) };
  const picked = new Set<number>();
  while (picked.size < limit) picked.add(Math.floor(random() * gridSize));
  return { strategy: "random", gridSize, combos: [...picked].sort((a, b) => a - b).map(decode) };
}
