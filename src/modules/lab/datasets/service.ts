// Lab datasets: rows in lab_datasets (name, status, counts), data in the columnar store (store.ts), loads
// through the DatasetJob (job.ts). Reads refuse a dataset that is not FINISHED with 422, as DashAI does.
import type { PrismaClient } from "../../../generated/prisma/client.js";
import { ConflictError, NotFoundError, ValidationError } from "../../../platform/errors.js";
import type { GuardDatasetLookup } from "../../guard/index.js";
import type { Table } from "../engine/types.js";
import { unprocessable } from "../errors.js";
import type { LabJobService } from "../jobs/service.js";
import type { RunStore } from "../runs/store.js";
import { DATASET_STATUS, type LabDatasetOut } from "./datasets.schema.js";
import { IngestError } from "./ingest.js";
import {
  changeColumnType,
  columnTypeOf,
  csvChunks,
  dtypeOf,
  filterRows,
  parseFilterModel,
  parseSortModel,
  QueryError,
  rowsAt,
  sortRows,
} from "./query.js";
import { type Cell, type DatasetMeta, type DatasetReader, DatasetStore } from "./store.js";

interface DatasetRow {
  id: number;
  name: string;
  status: number;
  filePath: string | null;
  totalRows: number | null;
  totalColumns: number | null;
  jobId: string | null;
  error: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export function datasetOut(row: DatasetRow): LabDatasetOut {
  return {
    id: row.id,
    name: row.name,
    created: row.createdAt.toISOString(),
    last_modified: row.updatedAt.toISOString(),
    file_path: row.filePath,
    status: row.status,
    total_rows: row.totalRows,
    total_columns: row.totalColumns,
    folder_id: null,
    task: null,
    job_id: row.jobId,
    error: row.error,
  };
}

const isUniqueViolation = (error: unknown) => (error as { code?: string }).code === "P2002";
const isMissing = (error: unknown) => (error as { code?: string }).code === "P2025";

export class LabDatasetService {
  /** Per-dataset chain of meta.json writers (type changes, renames) in this process. */
  private readonly locks = new Map<number, Promise<unknown>>();

  constructor(
    private readonly prisma: PrismaClient,
    readonly store: DatasetStore,
    private readonly jobs: LabJobService,
    private readonly runFiles: RunStore,
  ) {}

  async list(): Promise<LabDatasetOut[]> {
    const rows = await this.prisma.labDataset.findMany({ orderBy: { id: "asc" } });
    return Promise.all(rows.map(async (row) => datasetOut(await this.reconcile(row))));
  }

  async create(name: string): Promise<LabDatasetOut> {
    try {
      return datasetOut(await this.prisma.labDataset.create({ data: { name } }));
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`A dataset named "${name}" already exists`);
      throw error;
    }
  }

  async row(id: number): Promise<DatasetRow> {
    const row = await this.prisma.labDataset.findUnique({ where: { id } });
    if (!row) throw new NotFoundError(`Dataset ${id} not found`);
    return this.reconcile(row);
  }

  async get(id: number): Promise<LabDatasetOut> {
    return datasetOut(await this.row(id));
  }

  /**
   * A load whose job ended without reaching the dataset (cancelled while queued, its worker lost and the job
   * failed by recovery) leaves the row DELIVERED/STARTED: seen from the job's state, it becomes ERROR.
   */
  private async reconcile(row: DatasetRow): Promise<DatasetRow> {
    if ((row.status !== DATASET_STATUS.DELIVERED && row.status !== DATASET_STATUS.STARTED) || !row.jobId)
      return row;
    const state = await this.jobs.state(row.jobId);
    if (state !== "failed" && state !== "cancelled" && state !== null) return row;
    const error = state === "cancelled" ? "the load was cancelled" : "the load job ended without finishing";
    const updated = await this.prisma.labDataset.updateMany({
      where: { id: row.id, status: row.status, jobId: row.jobId },
      data: { status: DATASET_STATUS.ERROR, error },
    });
    return updated.count > 0 ? { ...row, status: DATASET_STATUS.ERROR, error } : row;
  }

  async rename(id: number, name: string | undefined): Promise<LabDatasetOut> {
    await this.row(id);
    if (name === undefined) return this.get(id);
    try {
      return datasetOut(await this.prisma.labDataset.update({ where: { id }, data: { name } }));
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError(`A dataset named "${name}" already exists`);
      if (isMissing(error)) throw new NotFoundError(`Dataset ${id} not found`);
      throw error;
    }
  }

  /** Deletes the row (its model sessions with it), cancels a load in progress, removes the files. */
  async delete(id: number): Promise<void> {
    const row = await this.row(id);
    // The cascade takes the dataset's sessions, their runs and predictions: their files go too.
    const runFiles = await this.runFiles.filesOf(this.prisma, { session: { datasetId: id } });
    await this.prisma.labDataset.delete({ where: { id } }).catch((error: unknown) => {
      if (isMissing(error)) throw new NotFoundError(`Dataset ${id} not found`);
      throw error;
    });
    await this.runFiles.removeFiles(runFiles);
    if (row.jobId && row.status !== DATASET_STATUS.FINISHED && row.status !== DATASET_STATUS.ERROR)
      await this.jobs.cancel(row.jobId).catch(() => {});
    await this.store.remove(id);
  }

  async deleteMany(ids: number[]): Promise<number> {
    let deleted = 0;
    for (const id of new Set(ids)) {
      const exists = await this.prisma.labDataset.findUnique({ where: { id }, select: { id: true } });
      if (!exists) continue;
      await this.delete(id).catch((error: unknown) => {
        if (!(error instanceof NotFoundError)) throw error;
      });
      deleted++;
    }
    return deleted;
  }

  /** A FINISHED dataset's reader (422 otherwise); the caller closes it. */
  async open(id: number): Promise<{ row: DatasetRow; reader: DatasetReader }> {
    const row = await this.row(id);
    if (row.status !== DATASET_STATUS.FINISHED) throw unprocessable("Dataset is not in finished state");
    const reader = await this.store.reader(id);
    if (!reader) throw unprocessable("Dataset is not in finished state (its files are missing)");
    return { row, reader };
  }

  private async withReader<T>(
    id: number,
    use: (reader: DatasetReader, row: DatasetRow) => Promise<T>,
  ): Promise<T> {
    const { row, reader } = await this.open(id);
    try {
      return await use(reader, row);
    } finally {
      await reader.close();
    }
  }

  /** The engine's Table of a FINISHED dataset (the given columns, or all). */
  async table(id: number, columns?: string[]): Promise<Table> {
    return this.withReader(id, async (reader) => {
      for (const name of columns ?? [])
        if (!reader.column(name)) throw unprocessable(`Column "${name}" is not in dataset ${id}`);
      return reader.table(columns);
    });
  }

  /** Column names and types of a FINISHED dataset. */
  async columns(id: number): Promise<DatasetMeta["columns"]> {
    return this.withReader(id, async (reader) => reader.meta.columns);
  }

  /** Ten rows spread evenly over the dataset, column by column. */
  async sample(id: number): Promise<Record<string, Cell[]>> {
    return this.withReader(id, async (reader) => {
      const n = reader.rowCount;
      const count = Math.min(10, n);
      const rows = Array.from({ length: count }, (_, i) => Math.floor((i * n) / count));
      const out: Record<string, Cell[]> = {};
      for (const column of reader.meta.columns) out[column.name] = await reader.cellsAt(column, rows);
      return out;
    });
  }

  async info(id: number) {
    return this.withReader(id, async (reader, row) => ({
      id,
      name: row.name,
      total_rows: reader.rowCount,
      total_columns: reader.meta.columns.length,
      size_bytes: await this.store.size(id),
      columns: reader.meta.columns.map((column) => ({
        name: column.name,
        type: column.type,
        dtype: dtypeOf(column.type),
        nulls: column.nulls,
      })),
    }));
  }

  async types(id: number) {
    return this.withReader(id, async (reader) => typesOf(reader.meta));
  }

  /** Changes column types (one after the other; the first that cannot convert stops with a 422 naming it). */
  async changeTypes(id: number, changes: Record<string, string>) {
    return this.locked(id, () =>
      this.withReader(id, async (reader) => {
        let meta = reader.meta;
        for (const [name, typeName] of Object.entries(changes)) {
          const type = columnTypeOf(typeName);
          if (!type)
            throw ValidationError.field(
              ["body", "types", name],
              `Unknown type "${typeName}": one of integer, float, categorical, text, boolean, datetime`,
            );
          if (!reader.column(name)) throw new NotFoundError(`Column "${name}" not found in dataset ${id}`);
        }
        for (const [name, typeName] of Object.entries(changes)) {
          const current = await this.store.reader(id);
          try {
            meta = await changeColumnType(this.store, id, current!, name, columnTypeOf(typeName)!);
          } catch (error) {
            if (error instanceof IngestError) throw unprocessable(error.message);
            throw error;
          } finally {
            await current?.close();
          }
        }
        await this.touch(id);
        return typesOf(meta);
      }),
    );
  }

  async modelSessionsExist(id: number): Promise<boolean> {
    await this.open(id).then(({ reader }) => reader.close());
    return (await this.prisma.labModelSession.count({ where: { datasetId: id } })) > 0;
  }

  /** The id a `path` parameter names (404 when it names no dataset). */
  idOfPath(path: string): number {
    const id = DatasetStore.idOfPath(path);
    if (id === null) throw new NotFoundError(`No dataset at path "${path}"`);
    return id;
  }

  /** A page of rows after filter and sort, with the number of rows that pass the filter. */
  async filter(query: {
    path: string;
    page: number;
    page_size: number;
    filterModel?: string;
    sortModel?: string;
  }) {
    const id = this.idOfPath(query.path);
    return this.withReader(id, async (reader) => {
      const rows = await this.select(reader, query.filterModel, query.sortModel, "filterModel", "sortModel");
      const total = rows ? rows.length : reader.rowCount;
      const start = Math.min(total, query.page * query.page_size);
      const end = Math.min(total, start + query.page_size);
      const page = rows
        ? rows.subarray(start, end)
        : Array.from({ length: end - start }, (_, i) => start + i);
      return { rows: await rowsAt(reader, page), total };
    });
  }

  private async select(
    reader: DatasetReader,
    filterText: string | undefined,
    sortText: string | undefined,
    filterParam: string,
    sortParam: string,
  ): Promise<Uint32Array | null> {
    try {
      const filter = parseFilterModel(filterText, filterParam);
      const sort = parseSortModel(sortText, sortParam);
      return await sortRows(reader, await filterRows(reader, filter, filterParam), sort, sortParam);
    } catch (error) {
      if (error instanceof QueryError) throw ValidationError.field(["query", error.param], error.message);
      throw error;
    }
  }

  /**
   * The CSV export: the dataset's name (for the file name) and the CSV chunks. The reader stays open until
   * the chunks are consumed or abandoned.
   */
  async exportCsv(
    id: number,
    options: { filterModel?: string; sortModel?: string; signal?: AbortSignal } = {},
  ): Promise<{ name: string; chunks: AsyncGenerator<string> }> {
    const { row, reader } = await this.open(id);
    let rows: Uint32Array | null;
    try {
      rows = await this.select(reader, options.filterModel, options.sortModel, "filter_model", "sort_model");
    } catch (error) {
      await reader.close();
      throw error;
    }
    async function* chunks() {
      try {
        yield* csvChunks(reader, rows, { signal: options.signal });
      } finally {
        await reader.close();
      }
    }
    return { name: row.name, chunks: chunks() };
  }

  /**
   * A new dataset from a guard dataset's finalized labels (item_id, data_ref, modality, label, confidence,
   * solver_count, created_at), loaded by a DatasetJob: 201 with the dataset (DELIVERED) and the job id.
   */
  async importGuard(
    guardDatasets: GuardDatasetLookup,
    guardDatasetId: string,
    name: string | undefined,
  ): Promise<LabDatasetOut> {
    const guard = await guardDatasets.get(guardDatasetId);
    const created = await this.create(name ?? `${guard.name}-labels`);
    try {
      await this.jobs.enqueue("DatasetJob", {
        datasetId: created.id,
        source: { kind: "guard", guardDatasetId },
      });
    } catch (error) {
      await this.prisma.labDataset.delete({ where: { id: created.id } }).catch(() => {});
      throw error;
    }
    return this.get(created.id);
  }

  /** A FINISHED copy named `<name>_copy` (or the given name). */
  async copy(id: number, name?: string): Promise<LabDatasetOut> {
    const { row, reader } = await this.open(id);
    await reader.close();
    const created = await this.create(name ?? `${row.name}_copy`);
    try {
      await this.store.copy(id, created.id);
      return datasetOut(
        await this.prisma.labDataset.update({
          where: { id: created.id },
          data: {
            status: DATASET_STATUS.FINISHED,
            filePath: DatasetStore.filePath(created.id),
            totalRows: row.totalRows,
            totalColumns: row.totalColumns,
          },
        }),
      );
    } catch (error) {
      await this.prisma.labDataset.delete({ where: { id: created.id } }).catch(() => {});
      await this.store.remove(created.id);
      throw error;
    }
  }

  async renameColumn(id: number, oldName: string, newName: string) {
    return this.locked(id, () =>
      this.withReader(id, async (reader) => {
        if (!reader.column(oldName))
          throw new NotFoundError(`Column "${oldName}" not found in dataset ${id}`);
        if (oldName !== newName && reader.column(newName))
          throw new ConflictError(`Dataset ${id} already has a column named "${newName}"`);
        const meta: DatasetMeta = {
          ...reader.meta,
          columns: reader.meta.columns.map((c) => (c.name === oldName ? { ...c, name: newName } : c)),
        };
        await this.store.writeMeta(reader.dir, meta);
        await this.touch(id);
        return {
          message: `Column "${oldName}" renamed to "${newName}"`,
          old_name: oldName,
          new_name: newName,
          columns: meta.columns.map((c) => c.name),
        };
      }),
    );
  }

  private async touch(id: number): Promise<void> {
    await this.prisma.labDataset.update({ where: { id }, data: { updatedAt: new Date() } }).catch(() => {});
  }

  private locked<T>(id: number, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(id) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(work);
    this.locks.set(id, next);
    void next
      .finally(() => {
        if (this.locks.get(id) === next) this.locks.delete(id);
      })
      .catch(() => {});
    return next;
  }
}

function typesOf(meta: DatasetMeta) {
  return Object.fromEntries(
    meta.columns.map((column) => [
      column.name,
      { type: column.type, dtype: dtypeOf(column.type), nulls: column.nulls },
    ]),
  );
}
