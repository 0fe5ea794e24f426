// Columnar storage of lab datasets on disk. A dataset is a directory `<LAB_DATA_DIR>/datasets/<id>/` with a
// `meta.json` (row count, columns with their type) and one file set per column, named by a stable key (so a
// rename touches meta.json only):
// - numeric kinds (integer, float, boolean as 0/1, datetime as epoch ms): `<key>.f64`, little-endian float64,
//   NaN for a missing value (8 bytes a row);
// - categorical and text: `<key>.off` (n + 1 float64 byte offsets) and `<key>.str` (the UTF-8 bytes one value
//   after the other), plus `<key>.nul` (one byte a row, 1 = missing) when some value is missing.
// Every read is a positional read of the rows and columns it needs: a page of the data grid reads a few
// kilobytes whatever the dataset's size, a filter or sort reads only the columns it looks at, and an export
// streams chunks of rows. Nothing keeps a whole dataset in the heap except training, which asks for a Table.
import { randomUUID } from "node:crypto";
import {
  type FileHandle,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  writeFile,
  cp,
  stat,
} from "node:fs/promises";
import { join } from "node:path";
import type { ColumnType, Table, TableColumn } from "../engine/types.js";

export const NUMERIC_TYPES: ReadonlySet<ColumnType> = new Set(["integer", "float", "boolean", "datetime"]);

export interface StoredColumn {
  name: string;
  type: ColumnType;
  /** Stable file key (`c0`, `c1`...): files keep their name when the column is renamed. */
  key: string;
  /** Missing values in the column. */
  nulls: number;
}

export interface DatasetMeta {
  version: 1;
  rowCount: number;
  columns: StoredColumn[];
}

/** A cell as the API shows it: numbers, booleans, ISO dates, strings, or null. */
export type Cell = number | boolean | string | null;

const WRITE_BUFFER = 1 << 20;

/**
 * Appends bytes to a file through a 1 MiB buffer. Writes are synchronous; a full buffer is handed to the
 * file in the background (in order), and `drain()` waits for those writes (callers drain every few
 * thousand rows, so memory stays bounded).
 */
class BufferedFile {
  private buffer = Buffer.allocUnsafe(WRITE_BUFFER);
  private used = 0;
  private position = 0;
  private pending: Promise<void> = Promise.resolve();
  private failed: unknown = null;
  private queued = 0;
  private constructor(private readonly handle: FileHandle) {}

  static async open(path: string): Promise<BufferedFile> {
    return new BufferedFile(await open(path, "w"));
  }

  /** Buffers queued for writing. */
  get backlog(): number {
    return this.queued;
  }

  private room(bytes: number): void {
    if (this.used + bytes <= this.buffer.length) return;
    this.handOff();
    if (bytes > this.buffer.length) this.buffer = Buffer.allocUnsafe(bytes);
  }

  private handOff(): void {
    if (this.used === 0) return;
    const data = this.buffer.subarray(0, this.used);
    const at = this.position;
    this.position += this.used;
    this.buffer = Buffer.allocUnsafe(Math.max(WRITE_BUFFER, this.buffer.length));
    this.used = 0;
    this.queued++;
    this.pending = this.pending.then(async () => {
      try {
        if (this.failed === null) await this.handle.write(data, 0, data.length, at);
      } catch (error) {
        this.failed = error;
      } finally {
        this.queued--;
      }
    });
  }

  write(bytes: Uint8Array): void {
    this.room(bytes.length);
    this.buffer.set(bytes, this.used);
    this.used += bytes.length;
  }

  double(value: number): void {
    this.room(8);
    this.buffer.writeDoubleLE(value, this.used);
    this.used += 8;
  }

  byte(value: number): void {
    this.room(1);
    this.buffer[this.used++] = value;
  }

  /** Writes a string as UTF-8; returns its byte length. */
  text(value: string): number {
    const length = Buffer.byteLength(value, "utf8");
    this.room(length);
    this.buffer.write(value, this.used, length, "utf8");
    this.used += length;
    return length;
  }

  async drain(): Promise<void> {
    await this.pending;
    if (this.failed !== null) throw this.failed;
  }

  async close(): Promise<void> {
    this.handOff();
    try {
      await this.drain();
    } finally {
      await this.handle.close();
    }
  }
}

/** Writes one column, row after row (synchronously; `drain()` every few thousand rows). */
export class ColumnWriter {
  rows = 0;
  nulls = 0;
  private offset = 0;
  private constructor(
    readonly key: string,
    readonly kind: "f64" | "str",
    private readonly main: BufferedFile,
    private readonly offsets: BufferedFile | null,
    private readonly nullFile: BufferedFile | null,
  ) {}

  static async create(dir: string, key: string, kind: "f64" | "str"): Promise<ColumnWriter> {
    if (kind === "f64")
      return new ColumnWriter(key, kind, await BufferedFile.open(join(dir, `${key}.f64`)), null, null);
    const writer = new ColumnWriter(
      key,
      kind,
      await BufferedFile.open(join(dir, `${key}.str`)),
      await BufferedFile.open(join(dir, `${key}.off`)),
      await BufferedFile.open(join(dir, `${key}.nul`)),
    );
    writer.offsets!.double(0);
    return writer;
  }

  /** Numeric column: NaN is missing. */
  number(value: number): void {
    if (Number.isNaN(value)) this.nulls++;
    this.rows++;
    this.main.double(value);
  }

  numbers(values: Float64Array): void {
    for (const value of values) if (Number.isNaN(value)) this.nulls++;
    this.rows += values.length;
    this.main.write(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }

  /** String column: null is missing. */
  string(value: string | null): void {
    if (value === null) this.nulls++;
    else if (value.length > 0) this.offset += this.main.text(value);
    this.nullFile!.byte(value === null ? 1 : 0);
    this.rows++;
    this.offsets!.double(this.offset);
  }

  /** Waits for the buffers handed to the files (call every few thousand rows). */
  async drain(): Promise<void> {
    await this.main.drain();
    await this.offsets?.drain();
    await this.nullFile?.drain();
  }

  async close(): Promise<void> {
    await this.main.close();
    await this.offsets?.close();
    await this.nullFile?.close();
  }
}

/** Reads one stored dataset; open files are closed by `close()`. */
export class DatasetReader {
  private readonly handles = new Map<string, Promise<FileHandle>>();
  constructor(
    readonly dir: string,
    readonly meta: DatasetMeta,
  ) {}

  get rowCount(): number {
    return this.meta.rowCount;
  }

  column(name: string): StoredColumn | undefined {
    return this.meta.columns.find((column) => column.name === name);
  }

  private file(name: string): Promise<FileHandle> {
    let handle = this.handles.get(name);
    if (!handle) {
      handle = open(join(this.dir, name), "r");
      this.handles.set(name, handle);
    }
    return handle;
  }

  private async readBytes(name: string, position: number, length: number): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(length);
    if (length === 0) return buffer;
    const handle = await this.file(name);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(buffer, done, length - done, position + done);
      if (bytesRead === 0) throw new Error(`dataset file ${name} is truncated`);
      done += bytesRead;
    }
    return buffer;
  }

  private async f64(name: string, start: number, end: number): Promise<Float64Array> {
    const bytes = await this.readBytes(name, start * 8, (end - start) * 8);
    const out = new Float64Array(end - start);
    // The Buffer may not be 8-byte aligned: read each value.
    for (let i = 0; i < out.length; i++) out[i] = bytes.readDoubleLE(i * 8);
    return out;
  }

  /** Rows [start, end) of a numeric column. */
  async numbers(column: StoredColumn, start = 0, end = this.rowCount): Promise<Float64Array> {
    return this.f64(`${column.key}.f64`, start, end);
  }

  /** Rows [start, end) of a string column (null for missing). */
  async strings(column: StoredColumn, start = 0, end = this.rowCount): Promise<(string | null)[]> {
    if (end <= start) return [];
    const offsets = await this.f64(`${column.key}.off`, start, end + 1);
    const bytes = await this.readBytes(`${column.key}.str`, offsets[0]!, offsets[end - start]! - offsets[0]!);
    const nulls = column.nulls > 0 ? await this.readBytes(`${column.key}.nul`, start, end - start) : null;
    const out: (string | null)[] = new Array(end - start);
    const base = offsets[0]!;
    for (let i = 0; i < end - start; i++) {
      out[i] =
        nulls && nulls[i] === 1 ? null : bytes.toString("utf8", offsets[i]! - base, offsets[i + 1]! - base);
    }
    return out;
  }

  /** Rows [start, end) of a column as API cells. */
  async cells(column: StoredColumn, start = 0, end = this.rowCount): Promise<Cell[]> {
    if (NUMERIC_TYPES.has(column.type)) {
      const values = await this.numbers(column, start, end);
      return Array.from(values, (value) => toCell(column.type, value));
    }
    return this.strings(column, start, end);
  }

  /** The given rows (any order) of a column as API cells: one positional read per run of consecutive rows. */
  async cellsAt(column: StoredColumn, rows: ArrayLike<number>): Promise<Cell[]> {
    const out: Cell[] = new Array(rows.length);
    let i = 0;
    while (i < rows.length) {
      let j = i + 1;
      while (j < rows.length && rows[j] === rows[j - 1]! + 1) j++;
      const values = await this.cells(column, rows[i]!, rows[j - 1]! + 1);
      for (let k = 0; k < values.length; k++) out[i + k] = values[k]!;
      i = j;
    }
    return out;
  }

  /** The engine's Table of the given columns (all by default): the one read that holds whole columns. */
  async table(names?: string[]): Promise<Table> {
    const wanted = names ? names.map((name) => this.column(name)) : this.meta.columns;
    const columns: TableColumn[] = [];
    for (const column of wanted) {
      if (!column) throw new Error("unknown column");
      if (NUMERIC_TYPES.has(column.type))
        columns.push({
          name: column.name,
          type: column.type as "integer",
          values: await this.numbers(column),
        });
      else
        columns.push({ name: column.name, type: column.type as "text", values: await this.strings(column) });
    }
    return { rowCount: this.rowCount, columns };
  }

  async close(): Promise<void> {
    const handles = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(handles.map(async (handle) => (await handle.catch(() => null))?.close()));
  }
}

/** A stored number as the API shows it. */
export function toCell(type: ColumnType, value: number): Cell {
  if (Number.isNaN(value)) return null;
  if (type === "boolean") return value !== 0;
  if (type === "datetime") return new Date(value).toISOString();
  return value;
}

/** The datasets' directory tree: staging (`tmp/`) and stored datasets (`datasets/<id>/`). */
export class DatasetStore {
  constructor(readonly root: string) {}

  dir(id: number): string {
    return join(this.root, "datasets", String(id));
  }

  /** The dataset's `file_path` on the wire (relative: no server path is shown). */
  static filePath(id: number): string {
    return `datasets/${id}`;
  }

  /** The id a `file_path` names, or null (anything else, `..` included, names nothing). */
  static idOfPath(path: string): number | null {
    const match = /^datasets\/(\d{1,9})\/?$/.exec(path.trim());
    return match ? Number(match[1]) : null;
  }

  /** A fresh staging directory; moved into place by `commit`, removed by the caller on failure. */
  async staging(): Promise<string> {
    const dir = join(this.root, "tmp", randomUUID());
    await mkdir(dir, { recursive: true });
    return dir;
  }

  async writeMeta(dir: string, meta: DatasetMeta): Promise<void> {
    const tmp = join(dir, `meta.json.${randomUUID()}`);
    await writeFile(tmp, JSON.stringify(meta));
    await rename(tmp, join(dir, "meta.json"));
  }

  /** Moves a finished staging directory into place as dataset `id` (replacing what was there). */
  async commit(staging: string, id: number): Promise<void> {
    const target = this.dir(id);
    await mkdir(join(this.root, "datasets"), { recursive: true });
    const old = `${target}.old-${randomUUID()}`;
    const existed = await rename(target, old).then(
      () => true,
      () => false,
    );
    await rename(staging, target);
    if (existed) await rm(old, { recursive: true, force: true });
  }

  async meta(id: number): Promise<DatasetMeta | null> {
    try {
      return JSON.parse(await readFile(join(this.dir(id), "meta.json"), "utf8")) as DatasetMeta;
    } catch {
      return null;
    }
  }

  async reader(id: number): Promise<DatasetReader | null> {
    const meta = await this.meta(id);
    return meta ? new DatasetReader(this.dir(id), meta) : null;
  }

  async copy(from: number, to: number): Promise<void> {
    await this.copyDir(this.dir(from), to);
  }

  /** Copies a stored dataset directory (of this store or another) into place as `to`. */
  async copyDir(from: string, to: number): Promise<void> {
    const staging = await this.staging();
    try {
      await cp(from, staging, { recursive: true });
      await this.commit(staging, to);
    } catch (error) {
      await rm(staging, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * Removes what a process that died mid-load left behind: staging directories and uploads older than
   * `maxAgeMs` (a load in progress on another instance is younger than that). Returns how many.
   */
  async sweep(maxAgeMs: number): Promise<number> {
    let removed = 0;
    for (const sub of ["tmp", "uploads"]) {
      const dir = join(this.root, sub);
      const names = await readdir(dir).catch(() => [] as string[]);
      for (const name of names) {
        const path = join(dir, name);
        const info = await stat(path).catch(() => null);
        if (info && Date.now() - info.mtimeMs > maxAgeMs) {
          await rm(path, { recursive: true, force: true });
          removed++;
        }
      }
    }
    return removed;
  }

  async remove(id: number): Promise<void> {
    await rm(this.dir(id), { recursive: true, force: true });
  }

  async size(id: number): Promise<number> {
    const meta = await this.meta(id);
    if (!meta) return 0;
    let total = 0;
    for (const column of meta.columns)
      for (const ext of ["f64", "off", "str", "nul"])
        total += await stat(join(this.dir(id), `${column.key}.${ext}`)).then(
          (s) => s.size,
          () => 0,
        );
    return total;
  }
}
