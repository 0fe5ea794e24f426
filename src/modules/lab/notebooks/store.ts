// A notebook's data: the working copy converters rewrite (LAB_DATA_DIR/notebooks/datasets/<id>/) and the
// copy of the dataset as it was when the notebook was made (LAB_DATA_DIR/notebooks-base/datasets/<id>/),
// which a revert starts again from. Both are columnar datasets (datasets/store.ts).
import { rm } from "node:fs/promises";
import { join } from "node:path";
import type { Table } from "../engine/types.js";
import {
  ColumnWriter,
  type DatasetMeta,
  DatasetStore,
  NUMERIC_TYPES,
  type StoredColumn,
} from "../datasets/store.js";

export class NotebookStore {
  readonly current: DatasetStore;
  readonly base: DatasetStore;
  constructor(dataDir: string) {
    this.current = new DatasetStore(join(dataDir, "notebooks"));
    this.base = new DatasetStore(join(dataDir, "notebooks-base"));
  }

  async remove(id: number): Promise<void> {
    await this.current.remove(id);
    await this.base.remove(id);
  }

  /** The working copy as a Table (every column). */
  async table(id: number): Promise<Table> {
    const reader = await this.current.reader(id);
    if (!reader) throw new Error(`notebook ${id} has no data`);
    try {
      return await reader.table();
    } finally {
      await reader.close();
    }
  }

  /** Writes a Table as the notebook's working copy (staged, then moved into place). */
  async write(id: number, table: Table): Promise<DatasetMeta> {
    const dir = await this.current.staging();
    try {
      const meta = await writeTable(this.current, dir, table);
      await this.current.commit(dir, id);
      return meta;
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** Puts the base copy back as the working copy. */
  async reset(id: number): Promise<void> {
    await this.current.copyDir(this.base.dir(id), id);
  }
}

/** Writes a Table into a staging directory as a stored dataset; returns its meta. */
export async function writeTable(store: DatasetStore, dir: string, table: Table): Promise<DatasetMeta> {
  const columns: StoredColumn[] = [];
  for (const [i, column] of table.columns.entries()) {
    const key = `c${i}`;
    const numeric = NUMERIC_TYPES.has(column.type);
    const writer = await ColumnWriter.create(dir, key, numeric ? "f64" : "str");
    try {
      if (column.values instanceof Float64Array) writer.numbers(column.values);
      else
        for (let row = 0; row < column.values.length; row++) {
          writer.string(column.values[row] ?? null);
          if (row % 8192 === 8191) await writer.drain();
        }
    } finally {
      await writer.close();
    }
    columns.push({ name: column.name, type: column.type, key, nulls: writer.nulls });
  }
  const meta: DatasetMeta = { version: 1, rowCount: table.rowCount, columns };
  await store.writeMeta(dir, meta);
  return meta;
}
