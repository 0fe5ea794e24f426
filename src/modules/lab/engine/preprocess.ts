// The recorded preprocessing (types.ts `Preprocessing`): fitted on the training rows, then applied to any
// table (validation, test, a prediction request) to get the feature matrix the models read.
import { EngineError } from "./errors.js";
import type { ColumnStep, Preprocessing, Table, TableColumn, Task } from "./types.js";

/** A dense row-major feature matrix. */
export interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

/** At most this many categories get their own one-hot feature (the most frequent ones in training). */
export const MAX_ONEHOT_CATEGORIES = 100;

export function column(table: Table, name: string): TableColumn {
  const found = table.columns.find((c) => c.name === name);
  if (!found) throw new EngineError("invalid_input", `Column "${name}" is not in the dataset`);
  return found;
}

function isNumericColumn(col: TableColumn): col is Extract<TableColumn, { values: Float64Array }> {
  return col.values instanceof Float64Array;
}

/** The category string of a cell (numeric cells of a categorical reading become their decimal form). */
function cellString(col: TableColumn, row: number): string | null {
  if (isNumericColumn(col)) {
    const v = col.values[row]!;
    return Number.isNaN(v) ? null : String(v);
  }
  return col.values[row] ?? null;
}

/**
 * Fit the steps on `rows` of `table` (all rows when omitted). Numeric columns (integer, float, datetime)
 * get mean imputation and, when `standardize`, z-scaling; categorical, text and boolean columns get one-hot
 * over the categories seen in training.
 */
export function fitPreprocessing(
  table: Table,
  inputColumns: string[],
  options: { standardize: boolean; rows?: ArrayLike<number> },
): Preprocessing {
  if (inputColumns.length === 0) throw new EngineError("invalid_input", "No input columns were given");
  const rows = options.rows ?? Array.from({ length: table.rowCount }, (_, i) => i);
  const steps: ColumnStep[] = [];
  const featureNames: string[] = [];
  for (const name of inputColumns) {
    const col = column(table, name);
    if (col.type === "categorical" || col.type === "text" || col.type === "boolean") {
      const counts = new Map<string, number>();
      for (let i = 0; i < rows.length; i++) {
        const s = cellString(col, rows[i]!);
        if (s !== null) counts.set(s, (counts.get(s) ?? 0) + 1);
      }
      const categories = [...counts.entries()]
        .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
        .slice(0, MAX_ONEHOT_CATEGORIES)
        .map(([category]) => category)
        .sort();
      steps.push({ kind: "onehot", column: name, categories });
      for (const category of categories) featureNames.push(`${name}=${category}`);
    } else {
      const values = col.values as Float64Array;
      let sum = 0;
      let n = 0;
      for (let i = 0; i < rows.length; i++) {
        const v = values[rows[i]!]!;
        if (!Number.isNaN(v)) {
          sum += v;
          n++;
        }
      }
      const fill = n > 0 ? sum / n : 0;
      let center = 0;
      let scale = 1;
      if (options.standardize) {
        let sq = 0;
        for (let i = 0; i < rows.length; i++) {
          const v = values[rows[i]!]!;
          const d = (Number.isNaN(v) ? fill : v) - fill;
          sq += d * d;
        }
        const std = Math.sqrt(sq / Math.max(1, rows.length));
        center = fill;
        scale = std > 1e-12 ? std : 1;
      }
      steps.push({ kind: "numeric", column: name, fill, center, scale });
      featureNames.push(name);
    }
  }
  return { inputColumns: [...inputColumns], steps, featureNames };
}

/** Apply the recorded steps to `rows` of `table` (all rows when omitted). */
export function transform(prep: Preprocessing, table: Table, rows?: ArrayLike<number>): Matrix {
  const n = rows ? rows.length : table.rowCount;
  const cols = prep.featureNames.length;
  const data = new Float64Array(n * cols);
  let offset = 0;
  for (const step of prep.steps) {
    const col = column(table, step.column);
    if (step.kind === "numeric") {
      if (!isNumericColumn(col))
        throw new EngineError("invalid_input", `Column "${step.column}" must be numeric for this model`);
      const values = col.values;
      for (let i = 0; i < n; i++) {
        const v = values[rows ? rows[i]! : i]!;
        data[i * cols + offset] = ((Number.isNaN(v) ? step.fill : v) - step.center) / step.scale;
      }
      offset += 1;
    } else {
      const index = new Map(step.categories.map((c, k) => [c, k]));
      for (let i = 0; i < n; i++) {
        const s = cellString(col, rows ? rows[i]! : i);
        const k = s === null ? undefined : index.get(s);
        if (k !== undefined) data[i * cols + offset + k] = 1;
      }
      offset += step.categories.length;
    }
  }
  return { rows: n, cols, data };
}

/** The target of `rows`: class indexes (classification) or values (regression); rows with no target dropped. */
export interface Target {
  rows: number[];
  y: Float64Array;
  classes?: string[];
}

/** Class labels sorted like scikit-learn's `np.unique`: numerically for numeric columns, else as strings. */
export function targetClasses(table: Table, outputColumn: string, rows: ArrayLike<number>): string[] {
  const col = column(table, outputColumn);
  if (isNumericColumn(col)) {
    // Distinct numbers first: one String() per class instead of one per row.
    const seen = new Set<number>();
    for (let i = 0; i < rows.length; i++) {
      const v = col.values[rows[i]!]!;
      if (!Number.isNaN(v)) seen.add(v);
    }
    return [...seen].sort((a, b) => a - b).map(String);
  }
  const seen = new Set<string>();
  for (let i = 0; i < rows.length; i++) {
    const s = col.values[rows[i]!];
    if (s !== null && s !== undefined) seen.add(s);
  }
  return [...seen].sort();
}

export function encodeTarget(
  table: Table,
  outputColumn: string,
  task: Task,
  rows: ArrayLike<number>,
  classes?: string[],
): Target {
  const col = column(table, outputColumn);
  const kept: number[] = [];
  const y: number[] = [];
  if (task === "RegressionTask") {
    if (!isNumericColumn(col))
      throw new EngineError(
        "invalid_input",
        `The output column "${outputColumn}" must be numeric for a regression task (it is ${col.type})`,
      );
    for (let i = 0; i < rows.length; i++) {
      const v = col.values[rows[i]!]!;
      if (!Number.isNaN(v)) {
        kept.push(rows[i]!);
        y.push(v);
      }
    }
    return { rows: kept, y: Float64Array.from(y) };
  }
  const labels = classes ?? targetClasses(table, outputColumn, rows);
  const classOf = classIndex(col, labels);
  for (let i = 0; i < rows.length; i++) {
    const k = classOf(rows[i]!);
    if (k !== undefined) {
      kept.push(rows[i]!);
      y.push(k);
    }
  }
  return { rows: kept, y: Float64Array.from(y), classes: labels };
}

/** The label strings of `rows` (null where missing), for metrics on data that may hold unseen classes. */
export function targetLabels(table: Table, outputColumn: string, rows: ArrayLike<number>): (string | null)[] {
  const col = column(table, outputColumn);
  if (!isNumericColumn(col))
    return Array.from({ length: rows.length }, (_, i) => col.values[rows[i]!] ?? null);
  const text = new Map<number, string>();
  return Array.from({ length: rows.length }, (_, i) => {
    const v = col.values[rows[i]!]!;
    if (Number.isNaN(v)) return null;
    let s = text.get(v);
    if (s === undefined) text.set(v, (s = String(v)));
    return s;
  });
}

/**
 * The class index of a row's cell (undefined when missing or not a class), as `labels.indexOf(cellString)`
 * would give it; numeric cells are looked up by value, so no string is made per row.
 */
function classIndex(col: TableColumn, labels: string[]): (row: number) => number | undefined {
  if (isNumericColumn(col)) {
    const byValue = new Map<number, number>();
    labels.forEach((label, k) => {
      const v = Number(label);
      if (String(v) === label && !byValue.has(v)) byValue.set(v, k);
    });
    const values = col.values;
    return (row) => byValue.get(values[row]!);
  }
  const byText = new Map(labels.map((label, k) => [label, k]));
  const values = col.values;
  return (row) => {
    const s = values[row];
    return s === null || s === undefined ? undefined : byText.get(s);
  };
}
