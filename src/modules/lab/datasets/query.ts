// Reads of a stored dataset for the data grid and exports: filters and sorts in the MUI DataGrid shapes
// DashAI's frontend sends, pages, CSV chunks, column type changes. Each reads only the columns it needs.
import { stringify } from "csv-stringify/sync";
import { neutralizeCsvCell } from "../../../platform/csv.js";
import type { ColumnType } from "../engine/types.js";
import { article, IngestError, textToNumber } from "./ingest.js";
import {
  type Cell,
  ColumnWriter,
  type DatasetMeta,
  type DatasetReader,
  DatasetStore,
  NUMERIC_TYPES,
  toCell,
} from "./store.js";

export interface FilterItem {
  field: string;
  operator: string;
  value?: unknown;
}
export interface FilterModel {
  items: FilterItem[];
  logic: "and" | "or";
}
export interface SortItem {
  field: string;
  desc: boolean;
}

/** Why a filter or sort cannot be applied (422 naming the parameter). */
export class QueryError extends Error {
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
  }
}

const OPERATORS = new Set([
  "equals",
  "=",
  "is",
  "doesNotEqual",
  "!=",
  "not",
  "lessThan",
  "<",
  "before",
  "lessThanOrEqualTo",
  "lessThanOrEqual",
  "<=",
  "onOrBefore",
  "greaterThan",
  ">",
  "after",
  "greaterThanOrEqualTo",
  "greaterThanOrEqual",
  ">=",
  "onOrAfter",
  "contains",
  "doesNotContain",
  "startsWith",
  "endsWith",
  "isEmpty",
  "isNotEmpty",
  "isAnyOf",
  "between",
]);

/** Parses `filterModel` (a JSON string): `{items, logicOperator}` or a bare array of items. */
export function parseFilterModel(text: string | undefined, param: string): FilterModel | null {
  if (text === undefined || text.trim() === "" || text === "null") return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new QueryError(param, "not valid JSON");
  }
  const object = Array.isArray(parsed) ? { items: parsed } : (parsed as Record<string, unknown> | null);
  if (!object || typeof object !== "object" || !Array.isArray(object.items))
    throw new QueryError(param, "expected {items: [{field, operator, value}], logicOperator}");
  const logicRaw = object.logicOperator ?? object.linkOperator ?? "and";
  const logic = logicRaw === "or" ? "or" : "and";
  const items: FilterItem[] = [];
  for (const [i, raw] of (object.items as unknown[]).entries()) {
    const item = raw as Record<string, unknown> | null;
    const field = item?.field ?? item?.columnField ?? item?.column;
    const operator = item?.operator ?? item?.operatorValue;
    if (typeof field !== "string" || typeof operator !== "string")
      throw new QueryError(param, `item ${i}: needs a field and an operator`);
    if (!OPERATORS.has(operator)) throw new QueryError(param, `item ${i}: unknown operator "${operator}"`);
    items.push({ field, operator, value: item!.value });
  }
  return { items, logic };
}

/** Parses `sortModel` (a JSON string): `[{id, desc}]` (DashAI) or `[{field, sort: "asc"|"desc"}]` (MUI). */
export function parseSortModel(text: string | undefined, param: string): SortItem[] {
  if (text === undefined || text.trim() === "" || text === "null") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new QueryError(param, "not valid JSON");
  }
  if (!Array.isArray(parsed)) throw new QueryError(param, "expected an array of {id, desc}");
  return parsed.map((raw, i) => {
    const item = raw as Record<string, unknown> | null;
    const field = item?.id ?? item?.field;
    if (typeof field !== "string") throw new QueryError(param, `item ${i}: needs an id (the column)`);
    return { field, desc: item!.desc === true || item!.sort === "desc" };
  });
}

function columnOf(reader: DatasetReader, field: string, param: string) {
  const column = reader.column(field);
  if (!column) throw new QueryError(param, `unknown column "${field}"`);
  return column;
}

/** A filter value as a number of the column's type (dates as epoch ms), or NaN. */
function numberOf(type: ColumnType, value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value !== "string" || value.trim() === "") return NaN;
  const parsed = textToNumber(
    type === "boolean" ? "boolean" : type === "datetime" ? "datetime" : "float",
    value,
  );
  return parsed ?? NaN;
}

const EMPTY_VALUE_OK = new Set(["isEmpty", "isNotEmpty"]);

/** Row indices that pass the filter, in order; null when there is no filter (every row). */
export async function filterRows(reader: DatasetReader, model: FilterModel | null, param: string) {
  const active = (model?.items ?? []).filter(
    (item) =>
      EMPTY_VALUE_OK.has(item.operator) ||
      (item.value !== undefined &&
        item.value !== null &&
        item.value !== "" &&
        !(Array.isArray(item.value) && item.value.length === 0)),
  );
  if (!model || active.length === 0) return null;
  const n = reader.rowCount;
  const mask = new Uint8Array(n).fill(model.logic === "and" ? 1 : 0);
  for (const item of active) {
    const column = columnOf(reader, item.field, param);
    const pass = new Uint8Array(n);
    if (NUMERIC_TYPES.has(column.type)) {
      const values = await reader.numbers(column);
      const test = numericTest(column.type, item);
      for (let i = 0; i < n; i++) pass[i] = test(values[i]!) ? 1 : 0;
    } else {
      const values = await reader.strings(column);
      const test = stringTest(item);
      for (let i = 0; i < n; i++) pass[i] = test(values[i]!) ? 1 : 0;
    }
    for (let i = 0; i < n; i++) mask[i] = model.logic === "and" ? mask[i]! & pass[i]! : mask[i]! | pass[i]!;
  }
  let count = 0;
  for (let i = 0; i < n; i++) count += mask[i]!;
  const rows = new Uint32Array(count);
  for (let i = 0, j = 0; i < n; i++) if (mask[i]) rows[j++] = i;
  return rows;
}

function numericTest(type: ColumnType, item: FilterItem): (value: number) => boolean {
  const op = item.operator;
  if (op === "isEmpty") return (v) => Number.isNaN(v);
  if (op === "isNotEmpty") return (v) => !Number.isNaN(v);
  if (op === "isAnyOf") {
    const set = new Set(
      (Array.isArray(item.value) ? item.value : [item.value]).map((v) => numberOf(type, v)),
    );
    return (v) => set.has(v);
  }
  if (op === "between") {
    const [lo, hi] = Array.isArray(item.value) ? item.value.map((v) => numberOf(type, v)) : [NaN, NaN];
    return (v) => (Number.isNaN(lo!) || v >= lo!) && (Number.isNaN(hi!) || v <= hi!);
  }
  if (["contains", "doesNotContain", "startsWith", "endsWith"].includes(op)) {
    const text = stringTest(item);
    return (v) => text(Number.isNaN(v) ? null : String(toCell(type, v)));
  }
  const x = numberOf(type, item.value);
  switch (op) {
    case "equals":
    case "=":
    case "is":
      return (v) => v === x;
    case "doesNotEqual":
    case "!=":
    case "not":
      return (v) => v !== x;
    case "lessThan":
    case "<":
    case "before":
      return (v) => v < x;
    case "lessThanOrEqualTo":
    case "lessThanOrEqual":
    case "<=":
    case "onOrBefore":
      return (v) => v <= x;
    case "greaterThan":
    case ">":
    case "after":
      return (v) => v > x;
    default:
      return (v) => v >= x;
  }
}

function stringTest(item: FilterItem): (value: string | null) => boolean {
  const op = item.operator;
  if (op === "isEmpty") return (v) => v === null || v === "";
  if (op === "isNotEmpty") return (v) => v !== null && v !== "";
  if (op === "isAnyOf") {
    const set = new Set((Array.isArray(item.value) ? item.value : [item.value]).map((v) => String(v)));
    return (v) => v !== null && set.has(v);
  }
  const x = String(item.value).toLowerCase();
  switch (op) {
    case "equals":
    case "=":
    case "is":
      return (v) => v !== null && v.toLowerCase() === x;
    case "doesNotEqual":
    case "!=":
    case "not":
      return (v) => v === null || v.toLowerCase() !== x;
    case "contains":
      return (v) => v !== null && v.toLowerCase().includes(x);
    case "doesNotContain":
      return (v) => v === null || !v.toLowerCase().includes(x);
    case "startsWith":
      return (v) => v !== null && v.toLowerCase().startsWith(x);
    case "endsWith":
      return (v) => v !== null && v.toLowerCase().endsWith(x);
    case "lessThan":
    case "<":
      return (v) => v !== null && v < String(item.value);
    case "lessThanOrEqualTo":
    case "lessThanOrEqual":
    case "<=":
      return (v) => v !== null && v <= String(item.value);
    case "greaterThan":
    case ">":
      return (v) => v !== null && v > String(item.value);
    case "greaterThanOrEqualTo":
    case "greaterThanOrEqual":
    case ">=":
      return (v) => v !== null && v >= String(item.value);
    default:
      return () => true;
  }
}

/** Sorts row indices (all rows when `rows` is null) by the sort items; missing values last. Stable. */
export async function sortRows(
  reader: DatasetReader,
  rows: Uint32Array | null,
  sort: SortItem[],
  param: string,
): Promise<Uint32Array | null> {
  if (sort.length === 0) return rows;
  const order = rows ? Array.from(rows) : Array.from({ length: reader.rowCount }, (_, i) => i);
  const keys: { desc: boolean; numbers?: Float64Array; strings?: (string | null)[] }[] = [];
  for (const item of sort) {
    const column = columnOf(reader, item.field, param);
    if (NUMERIC_TYPES.has(column.type)) keys.push({ desc: item.desc, numbers: await reader.numbers(column) });
    else keys.push({ desc: item.desc, strings: await reader.strings(column) });
  }
  const collator = new Intl.Collator(undefined, { numeric: true });
  order.sort((a, b) => {
    for (const key of keys) {
      let c = 0;
      if (key.numbers) {
        const x = key.numbers[a]!;
        const y = key.numbers[b]!;
        if (Number.isNaN(x) || Number.isNaN(y)) {
          if (Number.isNaN(x) !== Number.isNaN(y)) return Number.isNaN(x) ? 1 : -1;
          continue;
        }
        c = x - y;
      } else {
        const x = key.strings![a]!;
        const y = key.strings![b]!;
        if (x === null || y === null) {
          if ((x === null) !== (y === null)) return x === null ? 1 : -1;
          continue;
        }
        c = collator.compare(x, y);
      }
      if (c !== 0) return key.desc ? -c : c;
    }
    return a - b;
  });
  return Uint32Array.from(order);
}

/** Rows as objects keyed by column (the data grid's rows). */
export async function rowsAt(
  reader: DatasetReader,
  rows: ArrayLike<number>,
): Promise<Record<string, Cell>[]> {
  const out: Record<string, Cell>[] = Array.from({ length: rows.length }, () => ({}));
  for (const column of reader.meta.columns) {
    const cells = await reader.cellsAt(column, rows);
    for (let i = 0; i < cells.length; i++) out[i]![column.name] = cells[i]!;
  }
  return out;
}

function csvText(cell: Cell): string {
  if (cell === null) return "";
  if (typeof cell === "string") return neutralizeCsvCell(cell);
  return String(cell);
}

/**
 * The CSV of a dataset (or of the given rows) in chunks: a header, then `chunkRows` rows at a time; string
 * cells a spreadsheet would run as formulas are neutralized (platform/csv.ts).
 */
export async function* csvChunks(
  reader: DatasetReader,
  rows: Uint32Array | null,
  options: { chunkRows?: number; signal?: AbortSignal } = {},
): AsyncGenerator<string> {
  const chunkRows = options.chunkRows ?? 5_000;
  const columns = reader.meta.columns;
  yield stringify([columns.map((column) => neutralizeCsvCell(column.name))]);
  const total = rows ? rows.length : reader.rowCount;
  for (let start = 0; start < total; start += chunkRows) {
    if (options.signal?.aborted) return;
    const end = Math.min(total, start + chunkRows);
    const cells: Cell[][] = [];
    for (const column of columns)
      cells.push(
        rows
          ? await reader.cellsAt(column, rows.subarray(start, end))
          : await reader.cells(column, start, end),
      );
    const records: string[][] = [];
    for (let r = 0; r < end - start; r++) records.push(cells.map((column) => csvText(column[r]!)));
    yield stringify(records);
  }
}

/** DashAI's and our type names (any case) to ours. */
export function columnTypeOf(name: string): ColumnType | null {
  const lower = name.trim().toLowerCase();
  const aliases: Record<string, ColumnType> = {
    integer: "integer",
    int: "integer",
    int64: "integer",
    float: "float",
    float64: "float",
    double: "float",
    numeric: "float",
    categorical: "categorical",
    category: "categorical",
    text: "text",
    string: "text",
    str: "text",
    boolean: "boolean",
    bool: "boolean",
    datetime: "datetime",
    date: "datetime",
    timestamp: "datetime",
  };
  return aliases[lower] ?? null;
}

/** The dtype shown beside the type (Arrow's names, as DashAI shows them). */
export function dtypeOf(type: ColumnType): string {
  return {
    integer: "int64",
    float: "float64",
    boolean: "bool",
    datetime: "timestamp[ms]",
    categorical: "category",
    text: "string",
  }[type];
}

/**
 * Changes a column's type: the column is converted into new files (a value that does not fit is an error
 * naming it, and nothing changes), then meta.json switches to them.
 */
export async function changeColumnType(
  store: DatasetStore,
  id: number,
  reader: DatasetReader,
  name: string,
  type: ColumnType,
): Promise<DatasetMeta> {
  const column = reader.column(name)!;
  if (column.type === type) return reader.meta;
  const dir = reader.dir;
  const key = `${column.key.split("_")[0]}_${Date.now().toString(36)}`;
  const toNumeric = NUMERIC_TYPES.has(type);
  const writer = await ColumnWriter.create(dir, key, toNumeric ? "f64" : "str");
  const chunk = 65_536;
  for (let start = 0; start < reader.rowCount; start += chunk) {
    const end = Math.min(reader.rowCount, start + chunk);
    const cells = await reader.cells(column, start, end);
    for (let r = 0; r < cells.length; r++) {
      const cell = cells[r]!;
      if (!toNumeric) {
        writer.string(cell === null ? null : String(cell));
        continue;
      }
      let value: number | undefined;
      if (cell === null) value = NaN;
      else if (NUMERIC_TYPES.has(column.type)) {
        const raw =
          typeof cell === "boolean" ? (cell ? 1 : 0) : typeof cell === "string" ? Date.parse(cell) : cell;
        value =
          type === "integer" && !Number.isSafeInteger(raw)
            ? undefined
            : type === "boolean" && raw !== 0 && raw !== 1
              ? undefined
              : raw;
      } else value = textToNumber(type, String(cell));
      if (value === undefined) {
        await writer.close();
        await removeColumnFiles(dir, key);
        throw new IngestError(
          `column "${name}": value ${JSON.stringify(cell)} in row ${start + r + 1} is not ${article(type)}`,
        );
      }
      writer.number(value);
    }
    await writer.drain();
  }
  await writer.close();
  const meta: DatasetMeta = {
    ...reader.meta,
    columns: reader.meta.columns.map((c) => (c.name === name ? { name, type, key, nulls: writer.nulls } : c)),
  };
  await store.writeMeta(dir, meta);
  await removeColumnFiles(dir, column.key);
  return meta;
}

async function removeColumnFiles(dir: string, key: string): Promise<void> {
  const { rm } = await import("node:fs/promises");
  const { join } = await import("node:path");
  for (const ext of ["f64", "off", "str", "nul"]) await rm(join(dir, `${key}.${ext}`), { force: true });
}

export { DatasetStore };
