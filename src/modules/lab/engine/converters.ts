// Converters: the transforms a notebook's steps apply to its table (scalers, encoders, imputer, PCA,
// feature selection, text vectorizers, column and NaN removers). Each one fits on the table it is given and
// transforms that same table, deterministically, so re-applying the same steps to the same data gives the
// same table bit for bit (what a notebook's revert relies on). Numbers follow scikit-learn's defaults
// (population standard deviation, linear-interpolated quantiles, smoothed IDF with l2 normalization).
import { z } from "zod";
import { EngineError } from "./errors.js";
import type { Localized } from "./params.js";
import type { ColumnType, Table, TableColumn } from "./types.js";

const L = (en: string, es: string): Localized => ({ en, es });
const NUMERIC: ReadonlySet<ColumnType> = new Set(["integer", "float", "boolean"]);
const STRINGS: ReadonlySet<ColumnType> = new Set(["categorical", "text"]);

export type ColumnKind = "numeric" | "string" | "any";

export interface ConverterDefinition {
  name: string;
  type: "Converter";
  displayName: Localized;
  description: Localized;
  schema: z.ZodObject;
  /** The column types it accepts (a column of another type in the scope is refused with 422). */
  accepts: ColumnKind;
  /** Its scope defaults to every column it accepts when none is given. */
  apply(table: Table, columns: string[], params: Record<string, unknown>): ConverterOutput;
}

export interface ConverterOutput {
  table: Table;
  /** What the fit found, shown with the step (e.g. PCA's explained variance ratio). */
  info?: Record<string, unknown>;
}

const invalid = (message: string) => new EngineError("invalid_input", message);

function numericValues(table: Table, name: string): Float64Array {
  const column = table.columns.find((c) => c.name === name);
  if (!column) throw invalid(`Unknown column "${name}"`);
  if (!(column.values instanceof Float64Array))
    throw invalid(`Column "${name}" is ${column.type}: this converter needs a numeric column`);
  return column.values;
}

function stringValues(table: Table, name: string): (string | null)[] {
  const column = table.columns.find((c) => c.name === name);
  if (!column) throw invalid(`Unknown column "${name}"`);
  if (column.values instanceof Float64Array)
    throw invalid(`Column "${name}" is ${column.type}: this converter needs a text or categorical column`);
  return column.values;
}

/** Replaces columns in place (same position); `extra` columns are inserted where the first replaced one was. */
function replaceColumns(table: Table, replaced: Map<string, TableColumn[]>): Table {
  const columns: TableColumn[] = [];
  for (const column of table.columns) {
    const next = replaced.get(column.name);
    if (next) columns.push(...next);
    else columns.push(column);
  }
  const names = new Set<string>();
  for (const column of columns) {
    if (names.has(column.name)) throw invalid(`The result would have two columns named "${column.name}"`);
    names.add(column.name);
  }
  return { rowCount: table.rowCount, columns };
}

function present(values: Float64Array): number[] {
  const out: number[] = [];
  for (const value of values) if (!Number.isNaN(value)) out.push(value);
  return out;
}

function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return values.length ? sum / values.length : NaN;
}

/** Population variance (ddof 0, as scikit-learn's scalers and VarianceThreshold). */
function variance(values: ArrayLike<number>): number {
  const m = mean(values);
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += (values[i]! - m) ** 2;
  return values.length ? sum / values.length : NaN;
}

/** Quantile with linear interpolation (numpy's default). */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const position = (sorted.length - 1) * q;
  const low = Math.floor(position);
  const high = Math.ceil(position);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (position - low);
}

function mapNumeric(values: Float64Array, f: (x: number) => number): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Number.isNaN(values[i]!) ? NaN : f(values[i]!);
  return out;
}

function floatColumn(name: string, values: Float64Array): TableColumn {
  return { name, type: "float", values };
}

function scaler(
  table: Table,
  columns: string[],
  fit: (values: number[]) => { center: number; scale: number },
): ConverterOutput {
  const replaced = new Map<string, TableColumn[]>();
  const fitted: Record<string, { center: number; scale: number }> = {};
  for (const name of columns) {
    const values = numericValues(table, name);
    const { center, scale } = fit(present(values));
    const safeScale = scale === 0 || !Number.isFinite(scale) ? 1 : scale;
    fitted[name] = { center, scale: safeScale };
    replaced.set(name, [
      floatColumn(
        name,
        mapNumeric(values, (x) => (x - center) / safeScale),
      ),
    ]);
  }
  return { table: replaceColumns(table, replaced), info: { fitted } };
}

/** Sorted distinct values of string columns (numbers as their text), missing excluded. */
function categoriesOf(column: TableColumn): string[] {
  const seen = new Set<string>();
  if (column.values instanceof Float64Array) {
    for (const value of column.values) if (!Number.isNaN(value)) seen.add(String(value));
    return [...seen].sort((a, b) => Number(a) - Number(b));
  }
  for (const value of column.values) if (value !== null) seen.add(value);
  return [...seen].sort();
}

function textAt(column: TableColumn, row: number): string | null {
  if (column.values instanceof Float64Array) {
    const value = column.values[row]!;
    return Number.isNaN(value) ? null : String(value);
  }
  return column.values[row] ?? null;
}

function findColumn(table: Table, name: string): TableColumn {
  const column = table.columns.find((c) => c.name === name);
  if (!column) throw invalid(`Unknown column "${name}"`);
  return column;
}

/** scikit-learn's default token pattern (`\b\w\w+\b`), lowercased. */
export function tokenize(text: string, lowercase = true): string[] {
  return (lowercase ? text.toLowerCase() : text).match(/\b\w\w+\b/gu) ?? [];
}

function vectorize(
  table: Table,
  columns: string[],
  params: { max_features: number; lowercase: boolean },
  weigh: "count" | "tfidf",
): ConverterOutput {
  const replaced = new Map<string, TableColumn[]>();
  const vocabularies: Record<string, string[]> = {};
  for (const name of columns) {
    const values = stringValues(table, name);
    const docs = values.map((value) => (value === null ? [] : tokenize(value, params.lowercase)));
    const total = new Map<string, number>();
    const docFreq = new Map<string, number>();
    for (const tokens of docs) {
      for (const token of tokens) total.set(token, (total.get(token) ?? 0) + 1);
      for (const token of new Set(tokens)) docFreq.set(token, (docFreq.get(token) ?? 0) + 1);
    }
    // The most frequent terms (ties alphabetical), then in alphabetical order as scikit-learn's columns.
    const vocabulary = [...total.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, params.max_features)
      .map(([term]) => term)
      .sort();
    vocabularies[name] = vocabulary;
    const index = new Map(vocabulary.map((term, i) => [term, i]));
    const matrix = vocabulary.map(() => new Float64Array(table.rowCount));
    const n = table.rowCount;
    const idf = vocabulary.map((term) => Math.log((1 + n) / (1 + (docFreq.get(term) ?? 0))) + 1);
    for (let row = 0; row < n; row++) {
      for (const token of docs[row]!) {
        const j = index.get(token);
        if (j !== undefined) matrix[j]![row]! += 1;
      }
      if (weigh === "tfidf") {
        let norm = 0;
        for (let j = 0; j < vocabulary.length; j++) {
          matrix[j]![row] = matrix[j]![row]! * idf[j]!;
          norm += matrix[j]![row]! ** 2;
        }
        norm = Math.sqrt(norm);
        if (norm > 0) for (let j = 0; j < vocabulary.length; j++) matrix[j]![row] = matrix[j]![row]! / norm;
      }
    }
    replaced.set(
      name,
      vocabulary.map((term, j) =>
        weigh === "count"
          ? { name: `${name}_${term}`, type: "integer" as const, values: matrix[j]! }
          : floatColumn(`${name}_${term}`, matrix[j]!),
      ),
    );
  }
  return { table: replaceColumns(table, replaced), info: { vocabulary: vocabularies } };
}

/** Eigen-decomposition of a symmetric matrix (cyclic Jacobi): eigenvalues descending, vectors as rows. */
export function symmetricEigen(matrix: number[][]): { values: number[]; vectors: number[][] } {
  const n = matrix.length;
  const a = matrix.map((row) => [...row]);
  const v: number[][] = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => (i === j ? 1 : 0)),
  );
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) off += a[i]![j]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        if (Math.abs(a[p]![q]!) < 1e-300) continue;
        const theta = (a[q]![q]! - a[p]![p]!) / (2 * a[p]![q]!);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k]![p]!;
          const akq = a[k]![q]!;
          a[k]![p] = c * akp - s * akq;
          a[k]![q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p]![k]!;
          const aqk = a[q]![k]!;
          a[p]![k] = c * apk - s * aqk;
          a[q]![k] = s * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k]![p]!;
          const vkq = v[k]![q]!;
          v[k]![p] = c * vkp - s * vkq;
          v[k]![q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => a[y]![y]! - a[x]![x]!);
  return {
    values: order.map((i) => a[i]![i]!),
    vectors: order.map((i) => {
      const vector = v.map((row) => row[i]!);
      // Sign convention: the loading of largest magnitude is positive (deterministic output).
      let big = 0;
      for (let k = 1; k < n; k++) if (Math.abs(vector[k]!) > Math.abs(vector[big]!)) big = k;
      return vector[big]! < 0 ? vector.map((x) => -x) : vector;
    }),
  };
}

function noMissing(table: Table, names: string[], converter: string): Float64Array[] {
  return names.map((name) => {
    const values = numericValues(table, name);
    if (values.some((x) => Number.isNaN(x)))
      throw invalid(
        `Column "${name}" has missing values: ${converter} needs none (impute or remove them first)`,
      );
    return values;
  });
}

/** ANOVA F statistic of each feature against class labels (scikit-learn's f_classif). */
function fClassif(feature: Float64Array, labels: string[]): number {
  const groups = new Map<string, number[]>();
  labels.forEach((label, i) => {
    let group = groups.get(label);
    if (!group) groups.set(label, (group = []));
    group.push(feature[i]!);
  });
  const n = feature.length;
  const k = groups.size;
  const grand = mean(feature);
  let between = 0;
  let within = 0;
  for (const group of groups.values()) {
    const m = mean(group);
    between += group.length * (m - grand) ** 2;
    for (const x of group) within += (x - m) ** 2;
  }
  if (k < 2 || n - k <= 0) return 0;
  const f = between / (k - 1) / (within / (n - k));
  return Number.isFinite(f) ? f : between > 0 ? Infinity : 0;
}

/** Univariate regression F statistic (scikit-learn's f_regression). */
function fRegression(feature: Float64Array, target: Float64Array): number {
  const mx = mean(feature);
  const my = mean(target);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < feature.length; i++) {
    sxy += (feature[i]! - mx) * (target[i]! - my);
    sxx += (feature[i]! - mx) ** 2;
    syy += (target[i]! - my) ** 2;
  }
  if (sxx === 0 || syy === 0) return 0;
  const r2 = (sxy * sxy) / (sxx * syy);
  return r2 >= 1 ? Infinity : (r2 / (1 - r2)) * (feature.length - 2);
}

const scope = z.object({});

export const CONVERTERS: ConverterDefinition[] = [
  {
    name: "StandardScaler",
    type: "Converter",
    displayName: L("Standard scaler", "Escalador estándar"),
    description: L(
      "Centers each numeric column on its mean and divides by its (population) standard deviation.",
      "Centra cada columna numérica en su media y la divide por su desviación estándar (poblacional).",
    ),
    schema: z.object({
      with_mean: z.boolean().default(true).describe("Subtract the mean"),
      with_std: z.boolean().default(true).describe("Divide by the standard deviation"),
    }),
    accepts: "numeric",
    apply: (table, columns, params) =>
      scaler(table, columns, (values) => ({
        center: params.with_mean === false ? 0 : mean(values),
        scale: params.with_std === false ? 1 : Math.sqrt(variance(values)),
      })),
  },
  {
    name: "MinMaxScaler",
    type: "Converter",
    displayName: L("Min-max scaler", "Escalador mín-máx"),
    description: L(
      "Maps each numeric column linearly onto a range (default [0, 1]).",
      "Lleva cada columna numérica linealmente a un rango (por defecto [0, 1]).",
    ),
    schema: z.object({
      feature_range_min: z.number().default(0).describe("Lower end of the range"),
      feature_range_max: z.number().default(1).describe("Upper end of the range"),
    }),
    accepts: "numeric",
    apply: (table, columns, params) => {
      const low = Number(params.feature_range_min ?? 0);
      const high = Number(params.feature_range_max ?? 1);
      if (!(high > low)) throw invalid("feature_range_max must be greater than feature_range_min");
      const replaced = new Map<string, TableColumn[]>();
      for (const name of columns) {
        const values = present(numericValues(table, name));
        const min = Math.min(...values);
        const max = Math.max(...values);
        const span = max - min || 1;
        replaced.set(name, [
          floatColumn(
            name,
            mapNumeric(numericValues(table, name), (x) => low + ((x - min) / span) * (high - low)),
          ),
        ]);
      }
      return { table: replaceColumns(table, replaced) };
    },
  },
  {
    name: "RobustScaler",
    type: "Converter",
    displayName: L("Robust scaler", "Escalador robusto"),
    description: L(
      "Centers each numeric column on its median and divides by its interquartile range (25th–75th percentile).",
      "Centra cada columna numérica en su mediana y la divide por su rango intercuartílico (percentil 25–75).",
    ),
    schema: z.object({
      with_centering: z.boolean().default(true).describe("Subtract the median"),
      with_scaling: z.boolean().default(true).describe("Divide by the interquartile range"),
    }),
    accepts: "numeric",
    apply: (table, columns, params) =>
      scaler(table, columns, (values) => {
        const sorted = [...values].sort((a, b) => a - b);
        return {
          center: params.with_centering === false ? 0 : quantile(sorted, 0.5),
          scale: params.with_scaling === false ? 1 : quantile(sorted, 0.75) - quantile(sorted, 0.25),
        };
      }),
  },
  {
    name: "OneHotEncoder",
    type: "Converter",
    displayName: L("One-hot encoder", "Codificador one-hot"),
    description: L(
      "Replaces each column by one 0/1 column per category (`<column>_<category>`); a missing value is all zeros.",
      "Reemplaza cada columna por una columna 0/1 por categoría (`<columna>_<categoría>`); un valor faltante queda en ceros.",
    ),
    schema: z.object({
      max_categories: z.int().min(1).max(1000).default(100).describe("Refuse a column with more categories"),
    }),
    accepts: "any",
    apply: (table, columns, params) => {
      const limit = Number(params.max_categories ?? 100);
      const replaced = new Map<string, TableColumn[]>();
      const categories: Record<string, string[]> = {};
      for (const name of columns) {
        const column = findColumn(table, name);
        const cats = categoriesOf(column);
        if (cats.length > limit)
          throw invalid(`Column "${name}" has ${cats.length} categories (max_categories is ${limit})`);
        categories[name] = cats;
        const index = new Map(cats.map((c, i) => [c, i]));
        const out = cats.map(() => new Float64Array(table.rowCount));
        for (let row = 0; row < table.rowCount; row++) {
          const value = textAt(column, row);
          const j = value === null ? undefined : index.get(value);
          if (j !== undefined) out[j]![row] = 1;
        }
        replaced.set(
          name,
          cats.map((c, j) => ({ name: `${name}_${c}`, type: "integer" as const, values: out[j]! })),
        );
      }
      return { table: replaceColumns(table, replaced), info: { categories } };
    },
  },
  {
    name: "OrdinalEncoder",
    type: "Converter",
    displayName: L("Ordinal encoder", "Codificador ordinal"),
    description: L(
      "Replaces each category by its index among the column's sorted categories (0, 1, ...); missing stays missing.",
      "Reemplaza cada categoría por su índice entre las categorías ordenadas de la columna (0, 1, ...); un faltante sigue faltante.",
    ),
    schema: scope,
    accepts: "any",
    apply: (table, columns) => {
      const replaced = new Map<string, TableColumn[]>();
      const categories: Record<string, string[]> = {};
      for (const name of columns) {
        const column = findColumn(table, name);
        const cats = categoriesOf(column);
        categories[name] = cats;
        const index = new Map(cats.map((c, i) => [c, i]));
        const values = new Float64Array(table.rowCount);
        for (let row = 0; row < table.rowCount; row++) {
          const value = textAt(column, row);
          values[row] = value === null ? NaN : index.get(value)!;
        }
        replaced.set(name, [{ name, type: "integer", values }]);
      }
      return { table: replaceColumns(table, replaced), info: { categories } };
    },
  },
  {
    name: "SimpleImputer",
    type: "Converter",
    displayName: L("Simple imputer", "Imputador simple"),
    description: L(
      "Fills missing values with the column's mean, median, most frequent value or a constant.",
      "Rellena los valores faltantes con la media, la mediana, el valor más frecuente o una constante.",
    ),
    schema: z.object({
      strategy: z.enum(["mean", "median", "most_frequent", "constant"]).default("mean"),
      fill_value: z
        .union([z.string(), z.number()])
        .nullable()
        .default(null)
        .describe("The constant (strategy constant)"),
    }),
    accepts: "any",
    apply: (table, columns, params) => {
      const strategy = String(params.strategy ?? "mean");
      const replaced = new Map<string, TableColumn[]>();
      const fills: Record<string, number | string> = {};
      for (const name of columns) {
        const column = findColumn(table, name);
        if (column.values instanceof Float64Array) {
          const values = present(column.values);
          let fill: number;
          if (strategy === "mean") fill = mean(values);
          else if (strategy === "median")
            fill = quantile(
              [...values].sort((a, b) => a - b),
              0.5,
            );
          else if (strategy === "constant") {
            fill = Number(params.fill_value ?? 0);
            if (Number.isNaN(fill)) throw invalid(`fill_value must be a number for numeric column "${name}"`);
          } else fill = Number(mostFrequent(values.map(String)) ?? NaN);
          fills[name] = fill;
          const type = column.type === "integer" && Number.isInteger(fill) ? column.type : "float";
          replaced.set(name, [
            { name, type, values: column.values.map((x) => (Number.isNaN(x) ? fill : x)) } as TableColumn,
          ]);
        } else {
          if (strategy === "mean" || strategy === "median")
            throw invalid(
              `Column "${name}" is ${column.type}: strategy ${strategy} needs a numeric column (use most_frequent or constant)`,
            );
          const fill =
            strategy === "constant"
              ? String(params.fill_value ?? "missing_value")
              : mostFrequent(column.values.filter((v): v is string => v !== null));
          fills[name] = fill ?? "";
          replaced.set(name, [
            { name, type: column.type, values: column.values.map((v) => v ?? fill) } as TableColumn,
          ]);
        }
      }
      return { table: replaceColumns(table, replaced), info: { fill_values: fills } };
    },
  },
  {
    name: "PCA",
    type: "Converter",
    displayName: L("PCA", "PCA"),
    description: L(
      "Replaces the numeric columns by their first principal components (`pca0`, `pca1`, ...), centered.",
      "Reemplaza las columnas numéricas por sus primeras componentes principales (`pca0`, `pca1`, ...), centradas.",
    ),
    schema: z.object({
      n_components: z.int().min(1).max(100).default(2).describe("Components to keep"),
    }),
    accepts: "numeric",
    apply: (table, columns, params) => {
      const k = Number(params.n_components ?? 2);
      if (k > columns.length)
        throw invalid(`n_components (${k}) is more than the ${columns.length} columns it reduces`);
      const data = noMissing(table, columns, "PCA");
      const n = table.rowCount;
      if (n < 2) throw invalid("PCA needs at least 2 rows");
      const means = data.map((values) => mean(values));
      const d = columns.length;
      const cov = Array.from({ length: d }, () => new Array<number>(d).fill(0));
      for (let i = 0; i < d; i++)
        for (let j = i; j < d; j++) {
          let sum = 0;
          for (let r = 0; r < n; r++) sum += (data[i]![r]! - means[i]!) * (data[j]![r]! - means[j]!);
          cov[i]![j] = cov[j]![i] = sum / (n - 1);
        }
      const { values, vectors } = symmetricEigen(cov);
      const total = values.reduce((s, x) => s + Math.max(x, 0), 0);
      const components = vectors.slice(0, k).map((vector) => {
        const out = new Float64Array(n);
        for (let r = 0; r < n; r++) {
          let sum = 0;
          for (let i = 0; i < d; i++) sum += (data[i]![r]! - means[i]!) * vector[i]!;
          out[r] = sum;
        }
        return out;
      });
      const first = columns[0]!;
      const replaced = new Map<string, TableColumn[]>(columns.map((name) => [name, []]));
      replaced.set(
        first,
        components.map((values, i) => floatColumn(`pca${i}`, values)),
      );
      return {
        table: replaceColumns(table, replaced),
        info: {
          explained_variance: values.slice(0, k),
          explained_variance_ratio: values.slice(0, k).map((x) => (total > 0 ? Math.max(x, 0) / total : 0)),
          components: vectors.slice(0, k),
        },
      };
    },
  },
  {
    name: "VarianceThreshold",
    type: "Converter",
    displayName: L("Variance threshold", "Umbral de varianza"),
    description: L(
      "Removes the numeric columns whose (population) variance is not above the threshold.",
      "Elimina las columnas numéricas cuya varianza (poblacional) no supera el umbral.",
    ),
    schema: z.object({
      threshold: z.number().min(0).default(0).describe("Keep columns with variance above it"),
    }),
    accepts: "numeric",
    apply: (table, columns, params) => {
      const threshold = Number(params.threshold ?? 0);
      const removed: string[] = [];
      const variances: Record<string, number> = {};
      for (const name of columns) {
        variances[name] = variance(present(numericValues(table, name)));
        if (!(variances[name]! > threshold)) removed.push(name);
      }
      return {
        table: replaceColumns(table, new Map(removed.map((name) => [name, []]))),
        info: { variances, removed },
      };
    },
  },
  {
    name: "SelectKBest",
    type: "Converter",
    displayName: L("K best features", "K mejores atributos"),
    description: L(
      "Keeps the k numeric columns with the highest F statistic against the target column (f_classif or f_regression).",
      "Conserva las k columnas numéricas con mayor estadístico F respecto de la columna objetivo (f_classif o f_regression).",
    ),
    schema: z.object({
      k: z.int().min(1).default(10).describe("Columns to keep"),
      target_column: z.string().min(1).describe("The column the features are scored against"),
      score_func: z.enum(["f_classif", "f_regression"]).default("f_classif"),
    }),
    accepts: "numeric",
    apply: (table, columns, params) => {
      const target = findColumn(table, String(params.target_column ?? ""));
      const k = Number(params.k ?? 10);
      const features = columns.filter((name) => name !== target.name);
      const data = noMissing(table, features, "SelectKBest");
      let scores: number[];
      if (params.score_func === "f_regression") {
        if (!(target.values instanceof Float64Array))
          throw invalid(
            `Target column "${target.name}" is ${target.type}: f_regression needs a numeric target`,
          );
        const y = target.values;
        scores = data.map((x) => fRegression(x, y));
      } else {
        const labels = Array.from({ length: table.rowCount }, (_, row) => textAt(target, row) ?? "");
        scores = data.map((x) => fClassif(x, labels));
      }
      const keep = new Set(
        features
          .map((name, i) => ({ name, score: scores[i]!, i }))
          .sort((a, b) => b.score - a.score || a.i - b.i)
          .slice(0, k)
          .map((f) => f.name),
      );
      const removed = features.filter((name) => !keep.has(name));
      return {
        table: replaceColumns(table, new Map(removed.map((name) => [name, []]))),
        info: { scores: Object.fromEntries(features.map((name, i) => [name, scores[i]!])), removed },
      };
    },
  },
  {
    name: "TFIDFConverter",
    type: "Converter",
    displayName: L("TF-IDF", "TF-IDF"),
    description: L(
      "Replaces a text column by one column per frequent term (`<column>_<term>`) holding its TF-IDF weight (smoothed IDF, l2 rows).",
      "Reemplaza una columna de texto por una columna por término frecuente (`<columna>_<término>`) con su peso TF-IDF (IDF suavizado, filas l2).",
    ),
    schema: z.object({
      max_features: z.int().min(1).max(1000).default(100).describe("The most frequent terms kept"),
      lowercase: z.boolean().default(true),
    }),
    accepts: "string",
    apply: (table, columns, params) =>
      vectorize(
        table,
        columns,
        { max_features: Number(params.max_features ?? 100), lowercase: params.lowercase !== false },
        "tfidf",
      ),
  },
  {
    name: "BagOfWordsConverter",
    type: "Converter",
    displayName: L("Bag of words", "Bolsa de palabras"),
    description: L(
      "Replaces a text column by one count column per frequent term (`<column>_<term>`).",
      "Reemplaza una columna de texto por una columna de conteo por término frecuente (`<columna>_<término>`).",
    ),
    schema: z.object({
      max_features: z.int().min(1).max(1000).default(100).describe("The most frequent terms kept"),
      lowercase: z.boolean().default(true),
    }),
    accepts: "string",
    apply: (table, columns, params) =>
      vectorize(
        table,
        columns,
        { max_features: Number(params.max_features ?? 100), lowercase: params.lowercase !== false },
        "count",
      ),
  },
  {
    name: "ColumnRemover",
    type: "Converter",
    displayName: L("Column remover", "Eliminador de columnas"),
    description: L("Removes the columns of its scope.", "Elimina las columnas de su alcance."),
    schema: scope,
    accepts: "any",
    apply: (table, columns) => {
      if (columns.length >= table.columns.length) throw invalid("Removing every column would leave no data");
      return { table: replaceColumns(table, new Map(columns.map((name) => [name, []]))) };
    },
  },
  {
    name: "NanRemover",
    type: "Converter",
    displayName: L("NaN remover", "Eliminador de NaN"),
    description: L(
      "Removes the rows with a missing value in any column of its scope (every column by default).",
      "Elimina las filas con un valor faltante en alguna columna de su alcance (todas por defecto).",
    ),
    schema: scope,
    accepts: "any",
    apply: (table, columns) => {
      const scoped = columns.map((name) => findColumn(table, name));
      const keep: number[] = [];
      for (let row = 0; row < table.rowCount; row++)
        if (scoped.every((column) => textAt(column, row) !== null)) keep.push(row);
      return {
        table: {
          rowCount: keep.length,
          columns: table.columns.map((column) =>
            column.values instanceof Float64Array
              ? ({
                  ...column,
                  values: Float64Array.from(keep, (row) => (column.values as Float64Array)[row]!),
                } as TableColumn)
              : ({
                  ...column,
                  values: keep.map((row) => (column.values as (string | null)[])[row]!),
                } as TableColumn),
          ),
        },
        info: { removed_rows: table.rowCount - keep.length },
      };
    },
  },
];

function mostFrequent(values: string[]): string | null {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  let best: string | null = null;
  let bestCount = 0;
  // Ties: the smallest value (scikit-learn's most_frequent).
  for (const [value, count] of [...counts.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)))
    if (count > bestCount) {
      best = value;
      bestCount = count;
    }
  return best;
}

/** Converters that lab plugins added (by name); the built-in ones cannot be replaced. */
const PLUGIN_CONVERTERS = new Map<string, ConverterDefinition>();

/** Adds (or, on a plugin's reload, replaces) a plugin's converter. */
export function registerPluginConverter(converter: ConverterDefinition): void {
  if (CONVERTERS.some((c) => c.name === converter.name))
    throw new Error(`${converter.name} is a built-in converter`);
  PLUGIN_CONVERTERS.set(converter.name, converter);
}

export function unregisterPluginConverter(name: string): void {
  PLUGIN_CONVERTERS.delete(name);
}

export function findConverter(name: string): ConverterDefinition | undefined {
  return CONVERTERS.find((c) => c.name === name) ?? PLUGIN_CONVERTERS.get(name);
}

/** Whether a column type suits a converter's `accepts`. */
export function acceptsType(kind: ColumnKind, type: ColumnType): boolean {
  if (kind === "any") return true;
  if (kind === "numeric") return NUMERIC.has(type);
  return STRINGS.has(type);
}

/**
 * Validates a step against the table's columns (names and types) and parses its parameters; the scope
 * defaults to every accepted column. Errors name the problem (EngineError, 422).
 */
export function planConverter(
  name: string,
  columns: { name: string; type: ColumnType }[],
  scopeColumns: string[] | undefined,
  parameters: Record<string, unknown>,
): { definition: ConverterDefinition; columns: string[]; params: Record<string, unknown> } {
  const definition = findConverter(name);
  if (!definition)
    throw new EngineError(
      "unknown_component",
      `Unknown converter "${name}" (one of ${[...CONVERTERS.map((c) => c.name), ...PLUGIN_CONVERTERS.keys()].join(", ")})`,
    );
  const parsed = definition.schema.safeParse(parameters);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalid(`${name}: parameter ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  const params = parsed.data as Record<string, unknown>;
  let chosen: string[];
  if (scopeColumns && scopeColumns.length > 0) {
    for (const column of scopeColumns) {
      const found = columns.find((c) => c.name === column);
      if (!found) throw invalid(`Unknown column "${column}"`);
      if (!acceptsType(definition.accepts, found.type))
        throw invalid(
          `${name} cannot apply to column "${column}" of type ${found.type} (it needs ${definition.accepts === "numeric" ? "numeric" : "text or categorical"} columns)`,
        );
    }
    chosen = [...new Set(scopeColumns)];
  } else {
    chosen = columns.filter((c) => acceptsType(definition.accepts, c.type)).map((c) => c.name);
    if (name === "SelectKBest") chosen = chosen.filter((c) => c !== params.target_column);
    if (name === "ColumnRemover") throw invalid("ColumnRemover needs the columns to remove (scope.columns)");
    if (chosen.length === 0) throw invalid(`${name}: the notebook has no column it can apply to`);
  }
  if (name === "SelectKBest") {
    const target = String(params.target_column);
    if (!columns.some((c) => c.name === target)) throw invalid(`Unknown column "${target}" (target_column)`);
    chosen = chosen.filter((c) => c !== target);
  }
  return { definition, columns: chosen, params };
}
