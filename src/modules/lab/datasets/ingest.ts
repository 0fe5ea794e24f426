// Loading a file (CSV, JSON, JSONL, Parquet) or a stream of row objects into the columnar store, with type
// inference per column. Two phases, both with bounded memory: every value is first written as text to a raw
// column of a staging directory while per-column statistics say which types still fit; then each numeric
// column is converted chunk by chunk into float64, and text columns keep their raw files. The staging
// directory becomes the dataset only when everything succeeded (DatasetStore.commit): a failure leaves
// nothing behind.
import { createReadStream } from "node:fs";
import { open, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parse as parseCsv } from "csv-parse";
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import type { ColumnType } from "../engine/types.js";
import {
  ColumnWriter,
  DatasetReader,
  type DatasetMeta,
  type DatasetStore,
  NUMERIC_TYPES,
  type StoredColumn,
} from "./store.js";

export type SourceFormat = "csv" | "json" | "jsonl" | "parquet";

/** A load that cannot work (the message is the reason shown to the user). */
export class IngestError extends Error {
  override name = "IngestError";
}

export interface IngestOptions {
  /** CSV field separator (default: `,`, or `;`/tab when the header line has those and no comma). */
  separator?: string;
  /** Types the user chose, by column name (skip inference for those columns). */
  types?: Record<string, ColumnType>;
  /** Renames applied to the source's column names. */
  renames?: Record<string, string>;
  signal?: AbortSignal;
  /** Fraction of the work done (0–1) and a message. */
  progress?(fraction: number, message: string): void;
}

export const MAX_COLUMNS = 2_000;
const CHUNK_ROWS = 65_536;

/** Values read as missing in text sources (pandas' defaults, less the exotic ones). */
const MISSING = new Set([
  "",
  "NA",
  "N/A",
  "n/a",
  "NaN",
  "nan",
  "-nan",
  "null",
  "NULL",
  "None",
  "<NA>",
  "#N/A",
]);

const INTEGER = /^[-+]?\d+$/;
const FLOAT = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^[-+]?(inf|infinity)$/i;
const BOOLEAN = /^(true|false)$/i;
const DATETIME =
  /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$|^\d{4}\/\d{2}\/\d{2}$/;

/** Parses a date-time text as UTC when it names no zone (ms since the epoch, NaN when invalid). */
export function parseDatetime(text: string): number {
  let t = text.trim().replace(/^(\d{4})\/(\d{2})\/(\d{2})$/, "$1-$2-$3");
  if (!DATETIME.test(t)) return NaN;
  t = t.replace(" ", "T");
  if (t.length > 10 && !/(Z|[+-]\d{2}:?\d{2})$/.test(t)) t += "Z";
  return Date.parse(t);
}

/** Converts one text value to a stored number of the given type (NaN: missing; undefined: does not fit). */
export function textToNumber(type: ColumnType, text: string | null): number | undefined {
  if (text === null) return NaN;
  const t = text.trim();
  if (MISSING.has(t)) return NaN;
  switch (type) {
    case "integer": {
      if (INTEGER.test(t)) {
        const value = Number(t);
        return Number.isSafeInteger(value) ? value : undefined;
      }
      // 3.0 is an integer; 3.5 is not.
      const value = FLOAT.test(t) ? Number(t) : NaN;
      return Number.isSafeInteger(value) ? value : undefined;
    }
    case "float":
      if (!FLOAT.test(t)) return undefined;
      return /inf/i.test(t) ? (t.startsWith("-") ? -Infinity : Infinity) : Number(t);
    case "boolean":
      if (BOOLEAN.test(t)) return t.toLowerCase() === "true" ? 1 : 0;
      if (t === "0" || t === "1") return Number(t);
      if (/^(yes|no)$/i.test(t)) return t.toLowerCase() === "yes" ? 1 : 0;
      return undefined;
    case "datetime": {
      const value = parseDatetime(t);
      return Number.isNaN(value) ? undefined : value;
    }
    default:
      return undefined;
  }
}

/** What the values of a column seen so far allow. */
class ColumnStats {
  present = 0;
  integer = true;
  float = true;
  boolean = true;
  datetime = true;
  length = 0;
  readonly distinct = new Set<string>();
  distinctOverflow = false;

  see(text: string | null): void {
    if (text === null) return;
    const t = text.trim();
    if (MISSING.has(t)) return;
    this.present++;
    this.length += t.length;
    if (this.integer && !(INTEGER.test(t) && Number.isSafeInteger(Number(t)))) this.integer = false;
    if (this.float && !FLOAT.test(t)) this.float = false;
    if (this.boolean && !BOOLEAN.test(t)) this.boolean = false;
    if (this.datetime && Number.isNaN(parseDatetime(t))) this.datetime = false;
    if (!this.distinctOverflow) {
      this.distinct.add(t);
      if (this.distinct.size > 1000) this.distinctOverflow = true;
    }
  }

  type(): ColumnType {
    if (this.present === 0) return "text";
    if (this.boolean) return "boolean";
    if (this.integer) return "integer";
    if (this.float) return "float";
    if (this.datetime) return "datetime";
    const distinct = this.distinct.size;
    const categorical =
      !this.distinctOverflow &&
      distinct <= Math.max(2, this.present * 0.5) &&
      this.length / this.present <= 100;
    return categorical ? "categorical" : "text";
  }
}

/** Raw (text) columns of a load in progress, in the order their names first appear. */
class RawTable {
  rows = 0;
  readonly names: string[] = [];
  readonly writers: ColumnWriter[] = [];
  readonly stats: ColumnStats[] = [];
  private readonly index = new Map<string, number>();
  constructor(private readonly dir: string) {}

  async column(name: string): Promise<number> {
    const known = this.index.get(name);
    if (known !== undefined) return known;
    if (this.names.length >= MAX_COLUMNS) throw new IngestError(`more than ${MAX_COLUMNS} columns`);
    const i = this.names.length;
    const writer = await ColumnWriter.create(this.dir, `r${i}`, "str");
    // A column first seen in a later row (JSON): the rows before it are missing.
    for (let row = 0; row < this.rows; row++) writer.string(null);
    await writer.drain();
    this.index.set(name, i);
    this.names.push(name);
    this.writers.push(writer);
    this.stats.push(new ColumnStats());
    return i;
  }

  /** One row of texts, aligned with `names` (CSV: the header). */
  async addRow(values: (string | null)[]): Promise<void> {
    for (let i = 0; i < this.writers.length; i++) {
      const value = values[i] ?? null;
      this.stats[i]!.see(value);
      this.writers[i]!.string(value);
    }
    // Let the buffers handed to the files be written (memory stays bounded).
    if ((++this.rows & 4095) === 0) for (const writer of this.writers) await writer.drain();
  }

  /** One row object (JSON, JSONL, Parquet, guard labels): keys name the columns. */
  async addObject(row: Record<string, unknown>): Promise<void> {
    const values: (string | null)[] = new Array(this.names.length).fill(null);
    for (const [key, value] of Object.entries(row)) {
      const i = await this.column(key);
      values[i] = valueToText(value);
    }
    await this.addRow(values);
  }

  async close(): Promise<void> {
    for (const writer of this.writers) await writer.close();
  }
}

function valueToText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  if (typeof value === "number") return Number.isNaN(value) ? null : String(value);
  if (typeof value === "bigint" || typeof value === "boolean") return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString("utf8");
  return JSON.stringify(value, (_key, inner: unknown) => (typeof inner === "bigint" ? String(inner) : inner));
}

/** Turns the raw columns into the stored dataset in `dir` (numeric conversions, meta.json). */
async function finish(
  store: DatasetStore,
  dir: string,
  raw: RawTable,
  options: IngestOptions,
): Promise<DatasetMeta> {
  await raw.close();
  if (raw.names.length === 0) throw new IngestError("the file has no columns");
  if (raw.rows === 0) throw new IngestError("the file has no rows");
  const renamed = raw.names.map((name) => options.renames?.[name] ?? name);
  const seen = new Set<string>();
  for (const name of renamed) {
    if (seen.has(name)) throw new IngestError(`two columns are named "${name}"`);
    seen.add(name);
  }
  const rawMeta: DatasetMeta = {
    version: 1,
    rowCount: raw.rows,
    columns: raw.names.map((name, i) => ({ name, type: "text", key: `r${i}`, nulls: raw.writers[i]!.nulls })),
  };
  const reader = new DatasetReader(dir, rawMeta);
  const columns: StoredColumn[] = [];
  try {
    for (let i = 0; i < raw.names.length; i++) {
      options.signal?.throwIfAborted();
      options.progress?.(0.8 + (0.2 * i) / raw.names.length, `converting column ${renamed[i]}`);
      const chosen = options.types?.[raw.names[i]!] ?? options.types?.[renamed[i]!];
      const type = chosen ?? raw.stats[i]!.type();
      const source = rawMeta.columns[i]!;
      const key = `c${i}`;
      if (!NUMERIC_TYPES.has(type)) {
        for (const ext of ["off", "str", "nul"])
          await rename(join(dir, `r${i}.${ext}`), join(dir, `${key}.${ext}`)).catch(() => {});
        columns.push({ name: renamed[i]!, type, key, nulls: source.nulls });
        continue;
      }
      const writer = await ColumnWriter.create(dir, key, "f64");
      for (let start = 0; start < raw.rows; start += CHUNK_ROWS) {
        const end = Math.min(raw.rows, start + CHUNK_ROWS);
        const texts = await reader.strings(source, start, end);
        const values = new Float64Array(texts.length);
        for (let r = 0; r < texts.length; r++) {
          const value = textToNumber(type, texts[r]!);
          if (value === undefined)
            throw new IngestError(
              `column "${renamed[i]}": value ${JSON.stringify(texts[r])} in row ${start + r + 1} is not ${article(type)}`,
            );
          values[r] = value;
        }
        writer.numbers(values);
        await writer.drain();
      }
      await writer.close();
      for (const ext of ["off", "str", "nul"]) await rm(join(dir, `r${i}.${ext}`), { force: true });
      columns.push({ name: renamed[i]!, type, key, nulls: writer.nulls });
    }
  } finally {
    await reader.close();
  }
  const meta: DatasetMeta = { version: 1, rowCount: raw.rows, columns };
  await store.writeMeta(dir, meta);
  return meta;
}

export function article(type: ColumnType): string {
  return type === "integer" ? "an integer" : type === "datetime" ? "a date-time" : `a ${type}`;
}

/** Detects the format from the file name, the loader DashAI names, and the first bytes. */
export async function detectFormat(
  path: string,
  fileName: string | undefined,
  loader?: string,
): Promise<SourceFormat> {
  const handle = await open(path, "r");
  const head = Buffer.alloc(8192);
  const { bytesRead } = await handle.read(head, 0, head.length, 0).finally(() => handle.close());
  const bytes = head.subarray(0, bytesRead);
  if (bytesRead === 0 || bytes.toString("utf8").trim() === "") throw new IngestError("the file is empty");
  if (bytes.subarray(0, 4).toString("latin1") === "PAR1") return "parquet";
  const name = (fileName ?? "").toLowerCase();
  const hint = (loader ?? "").toLowerCase();
  if (name.endsWith(".parquet") || hint.includes("parquet"))
    throw new IngestError("not a Parquet file (it does not start with PAR1)");
  if (bytes.includes(0)) throw new IngestError("a binary file: send CSV, JSON, JSONL or Parquet");
  const text = bytes
    .toString("utf8")
    .replace(/^\uFEFF/, "")
    .trimStart();
  if (name.endsWith(".jsonl") || name.endsWith(".ndjson")) return "jsonl";
  if (name.endsWith(".json") || hint.includes("json")) {
    if (text.startsWith("[")) return "json";
    if (text.startsWith("{")) {
      const firstLine = text.split("\n", 1)[0]!.trim();
      return firstLine.endsWith("}") && !firstLine.endsWith("}}") && isJson(firstLine) ? "jsonl" : "json";
    }
    throw new IngestError(
      "not JSON: a JSON dataset is an array of row objects, or one object per line (JSONL)",
    );
  }
  if (/\.(xlsx?|zip|gz|png|jpe?g|gif|pdf)$/.test(name))
    throw new IngestError(
      `unsupported file type (${name.split(".").pop()}): send CSV, JSON, JSONL or Parquet`,
    );
  return "csv";
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** The CSV separator: the one given, else the most frequent of `,`, `;`, tab in the header line. */
async function csvSeparator(path: string, given: string | undefined): Promise<string> {
  if (given) return given === "\\t" ? "\t" : given;
  const handle = await open(path, "r");
  const head = Buffer.alloc(65536);
  const { bytesRead } = await handle.read(head, 0, head.length, 0).finally(() => handle.close());
  const line = head.subarray(0, bytesRead).toString("utf8").split(/\r?\n/, 1)[0] ?? "";
  const count = (c: string) => line.split(c).length - 1;
  const [best] = [",", ";", "\t"].sort((a, b) => count(b) - count(a));
  return count(best!) > 0 ? best! : ",";
}

/**
 * Checks a file before its load is queued (the errors a user gets at once, as 422): the format, an empty
 * file, and for a CSV up to `fullCheckBytes` a complete parse (broken quotes, rows with another column count).
 */
export async function validateFile(
  path: string,
  fileName: string | undefined,
  options: { loader?: string; separator?: string; fullCheckBytes: number },
): Promise<SourceFormat> {
  const format = await detectFormat(path, fileName, options.loader);
  const size = (await stat(path)).size;
  if (format === "parquet") {
    try {
      const file = await asyncBufferFromFile(path);
      const metadata = await parquetMetadataAsync(file);
      if (Number(metadata.num_rows) === 0) throw new IngestError("the file has no rows");
    } catch (error) {
      if (error instanceof IngestError) throw error;
      throw new IngestError(`not a readable Parquet file: ${(error as Error).message}`);
    }
    return format;
  }
  if (size > options.fullCheckBytes) return format;
  if (format === "csv") {
    let rows = 0;
    await readCsv(path, options.separator, async () => {
      rows++;
    });
    if (rows === 0) throw new IngestError("the file has a header but no rows");
  } else if (format === "json") {
    await readJson(path, async () => {});
  } else {
    await readJsonl(path, async () => {});
  }
  return format;
}

async function readCsv(
  path: string,
  separator: string | undefined,
  onRow: (row: string[], header: string[]) => Promise<void>,
  onBytes?: (bytes: number) => void,
): Promise<void> {
  const delimiter = await csvSeparator(path, separator);
  const input = createReadStream(path);
  if (onBytes) {
    let read = 0;
    input.on("data", (chunk) => onBytes((read += chunk.length)));
  }
  const parser = input.pipe(parseCsv({ delimiter, bom: true, relax_quotes: false, skip_empty_lines: true }));
  let header: string[] | null = null;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      if (!header) {
        header = record.map((name, i) => name.trim() || `column_${i}`);
        if (header.length === 1 && record[0]!.trim() === "")
          throw new IngestError("the header line is empty");
        continue;
      }
      if (record.length !== header.length)
        throw new IngestError(
          `broken CSV: line ${parser.info.lines} has ${record.length} fields, the header has ${header.length}`,
        );
      await onRow(record, header);
    }
  } catch (error) {
    input.destroy();
    if (error instanceof IngestError) throw error;
    const message = (error as Error).message;
    throw new IngestError(`broken CSV: ${message}`);
  }
  if (!header) throw new IngestError("the file is empty");
}

async function readJson(path: string, onRow: (row: Record<string, unknown>) => Promise<void>): Promise<void> {
  let parsed: unknown;
  try {
    parsed = JSON.parse((await readFile(path, "utf8")).replace(/^\uFEFF/, ""));
  } catch (error) {
    throw new IngestError(`broken JSON: ${(error as Error).message}`);
  }
  // An array of row objects, or an object holding one (`{"data": [...]}`), or columns (`{"a": [...], ...}`).
  let rows: unknown = parsed;
  if (rows && typeof rows === "object" && !Array.isArray(rows)) {
    const values = Object.values(rows);
    const arrays = values.filter(Array.isArray);
    if (values.length === 1 && Array.isArray(values[0])) rows = values[0];
    else if (arrays.length === values.length && values.length > 0) {
      const columns = rows as Record<string, unknown[]>;
      const length = Math.max(...Object.values(columns).map((column) => column.length));
      rows = Array.from({ length }, (_, i) =>
        Object.fromEntries(Object.entries(columns).map(([name, column]) => [name, column[i]])),
      );
    }
  }
  if (!Array.isArray(rows)) throw new IngestError("JSON dataset: expected an array of row objects");
  for (const [i, row] of rows.entries()) {
    if (!row || typeof row !== "object" || Array.isArray(row))
      throw new IngestError(`JSON dataset: item ${i + 1} is not an object`);
    await onRow(row as Record<string, unknown>);
  }
}

async function readJsonl(
  path: string,
  onRow: (row: Record<string, unknown>) => Promise<void>,
  onBytes?: (bytes: number) => void,
): Promise<void> {
  const input = createReadStream(path, { encoding: "utf8" });
  let read = 0;
  if (onBytes) input.on("data", (chunk) => onBytes((read += Buffer.byteLength(chunk as string))));
  const lines = createInterface({ input, crlfDelay: Infinity });
  let number = 0;
  try {
    for await (const line of lines) {
      number++;
      const text = number === 1 ? line.replace(/^\uFEFF/, "") : line;
      if (text.trim() === "") continue;
      let row: unknown;
      try {
        row = JSON.parse(text);
      } catch (error) {
        throw new IngestError(`broken JSONL: line ${number}: ${(error as Error).message}`);
      }
      if (!row || typeof row !== "object" || Array.isArray(row))
        throw new IngestError(`broken JSONL: line ${number} is not an object`);
      await onRow(row as Record<string, unknown>);
    }
  } finally {
    input.destroy();
  }
}

/** Loads a file into a new staging directory; returns it with its meta (the caller commits or removes it). */
export async function ingestFile(
  store: DatasetStore,
  path: string,
  format: SourceFormat,
  options: IngestOptions = {},
): Promise<{ dir: string; meta: DatasetMeta }> {
  const dir = await store.staging();
  try {
    const raw = new RawTable(dir);
    const size = Math.max(1, (await stat(path)).size);
    let checks = 0;
    const tick = () => {
      if ((++checks & 1023) === 0) options.signal?.throwIfAborted();
    };
    const onBytes = (bytes: number) => options.progress?.((0.8 * bytes) / size, `read ${raw.rows} rows`);
    if (format === "csv") {
      let started = false;
      await readCsv(
        path,
        options.separator,
        async (row, header) => {
          if (!started) {
            for (const name of header) {
              if ((await raw.column(name)) !== raw.names.length - 1)
                throw new IngestError(`two columns are named "${name}"`);
            }
            started = true;
          }
          tick();
          await raw.addRow(row);
        },
        onBytes,
      );
    } else if (format === "jsonl") {
      await readJsonl(
        path,
        async (row) => {
          tick();
          await raw.addObject(row);
        },
        onBytes,
      );
    } else if (format === "json") {
      await readJson(path, async (row) => {
        tick();
        await raw.addObject(row);
      });
    } else {
      await readParquet(path, raw, options);
    }
    const meta = await finish(store, dir, raw, options);
    return { dir, meta };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function readParquet(path: string, raw: RawTable, options: IngestOptions): Promise<void> {
  let file;
  let total: number;
  try {
    file = await asyncBufferFromFile(path);
    total = Number((await parquetMetadataAsync(file)).num_rows);
  } catch (error) {
    throw new IngestError(`not a readable Parquet file: ${(error as Error).message}`);
  }
  for (let start = 0; start < total; start += CHUNK_ROWS) {
    options.signal?.throwIfAborted();
    const end = Math.min(total, start + CHUNK_ROWS);
    let rows: Record<string, unknown>[];
    try {
      rows = (await parquetReadObjects({ file, rowStart: start, rowEnd: end })) as Record<string, unknown>[];
    } catch (error) {
      throw new IngestError(`broken Parquet file: ${(error as Error).message}`);
    }
    for (const row of rows) await raw.addObject(row);
    options.progress?.((0.8 * end) / total, `read ${end} of ${total} rows`);
  }
}

/** Loads row objects (e.g. a guard dataset's labels) into a new staging directory. */
export async function ingestRows(
  store: DatasetStore,
  batches: AsyncIterable<Record<string, unknown>[]>,
  options: IngestOptions = {},
): Promise<{ dir: string; meta: DatasetMeta }> {
  const dir = await store.staging();
  try {
    const raw = new RawTable(dir);
    for await (const batch of batches) {
      options.signal?.throwIfAborted();
      for (const row of batch) await raw.addObject(row);
      options.progress?.(0.5, `read ${raw.rows} rows`);
    }
    return { dir, meta: await finish(store, dir, raw, options) };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
