// Notebooks (DashAI's `/api/v1/notebook/`): a working copy of a finished dataset that explorers read and
// converter steps rewrite. Creating one copies the dataset's columnar files twice: the working copy and
// the base a revert starts again from (notebooks/store.ts).
import type { PrismaClient } from "../../../generated/prisma/client.js";
import { ConflictError, NotFoundError } from "../../../platform/errors.js";
import { DATASET_STATUS } from "../datasets/datasets.schema.js";
import type { LabDatasetService } from "../datasets/service.js";
import type { DatasetMeta } from "../datasets/store.js";
import { unprocessable } from "../errors.js";
import type { LabJobService } from "../jobs/service.js";
import type { LabNotebookOut } from "./notebooks.schema.js";
import type { NotebookStore } from "./store.js";

interface NotebookRow {
  id: number;
  name: string;
  description: string | null;
  datasetId: number | null;
  totalRows: number;
  totalColumns: number;
  createdAt: Date;
  updatedAt: Date;
}

export function notebookOut(row: NotebookRow): LabNotebookOut {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    dataset_id: row.datasetId,
    file_path: `notebooks/${row.id}`,
    total_rows: row.totalRows,
    total_columns: row.totalColumns,
    created: row.createdAt.toISOString(),
    last_modified: row.updatedAt.toISOString(),
  };
}

const BUSY = [DATASET_STATUS.NOT_STARTED, DATASET_STATUS.DELIVERED, DATASET_STATUS.STARTED];

export class LabNotebookService {
  constructor(
    private readonly prisma: PrismaClient,
    readonly store: NotebookStore,
    private readonly datasets: LabDatasetService,
    private readonly jobs: LabJobService,
  ) {}

  async list(): Promise<LabNotebookOut[]> {
    const rows = await this.prisma.labNotebook.findMany({ orderBy: { id: "asc" } });
    return rows.map(notebookOut);
  }

  async row(id: number): Promise<NotebookRow> {
    const row = await this.prisma.labNotebook.findUnique({ where: { id } });
    if (!row) throw new NotFoundError(`Notebook ${id} not found`);
    return row;
  }

  async get(id: number): Promise<LabNotebookOut> {
    return notebookOut(await this.row(id));
  }

  async create(input: {
    dataset_id: number;
    name?: string | null;
    description?: string | null;
  }): Promise<LabNotebookOut> {
    const dataset = await this.datasets.row(input.dataset_id);
    if (dataset.status !== DATASET_STATUS.FINISHED) throw unprocessable("Dataset is not in finished state");
    const row = await this.prisma.labNotebook.create({
      data: {
        name: input.name?.trim() || "Untitled Notebook",
        description: input.description ?? null,
        datasetId: dataset.id,
        totalRows: dataset.totalRows ?? 0,
        totalColumns: dataset.totalColumns ?? 0,
      },
    });
    try {
      await this.store.base.copyDir(this.datasets.store.dir(dataset.id), row.id);
      await this.store.reset(row.id);
    } catch (error) {
      await this.prisma.labNotebook.delete({ where: { id: row.id } }).catch(() => {});
      await this.store.remove(row.id).catch(() => {});
      throw error;
    }
    return notebookOut(row);
  }

  async update(id: number, name: string, description?: string | null): Promise<LabNotebookOut> {
    await this.row(id);
    const row = await this.prisma.labNotebook.update({
      where: { id },
      data: { name: name.trim(), ...(description !== undefined && { description }) },
    });
    return notebookOut(row);
  }

  async delete(id: number): Promise<void> {
    await this.row(id);
    await this.prisma.labNotebook.deleteMany({ where: { id } });
    await this.store.remove(id);
  }

  async deleteMany(ids: number[]): Promise<number> {
    const rows = await this.prisma.labNotebook.findMany({ where: { id: { in: ids } }, select: { id: true } });
    await this.prisma.labNotebook.deleteMany({ where: { id: { in: rows.map((r) => r.id) } } });
    for (const row of rows) await this.store.remove(row.id);
    return rows.length;
  }

  /** The working copy's columns. */
  async meta(id: number): Promise<DatasetMeta> {
    await this.row(id);
    const meta = await this.store.current.meta(id);
    if (!meta) throw new NotFoundError(`Notebook ${id} has no data`);
    return meta;
  }

  /** Columns and a page of rows of the working copy. */
  async data(id: number, page: number, pageSize: number) {
    await this.row(id);
    const reader = await this.store.current.reader(id);
    if (!reader) throw new NotFoundError(`Notebook ${id} has no data`);
    try {
      const start = Math.min(page * pageSize, reader.rowCount);
      const end = Math.min(start + pageSize, reader.rowCount);
      const rows: Record<string, unknown>[] = Array.from({ length: end - start }, () => ({}));
      for (const column of reader.meta.columns) {
        const cells = await reader.cells(column, start, end);
        cells.forEach((cell, i) => (rows[i]![column.name] = cell));
      }
      return {
        total_rows: reader.rowCount,
        columns: reader.meta.columns.map((c) => ({ name: c.name, type: c.type, nulls: c.nulls })),
        rows: rows as Record<string, number | boolean | string | null>[],
      };
    } finally {
      await reader.close();
    }
  }

  /** Records new totals after the working copy changed. */
  async touch(id: number, meta: DatasetMeta): Promise<void> {
    await this.prisma.labNotebook.updateMany({
      where: { id },
      data: { totalRows: meta.rowCount, totalColumns: meta.columns.length },
    });
  }

  /**
   * Refuses (409) while a converter step of the notebook is queued or running: steps rewrite the working
   * copy one after the other. A step whose job ended without reaching it (cancelled while queued) is
   * marked ERROR first.
   */
  async assertIdle(id: number): Promise<void> {
    const busy = await this.prisma.labConverter.findMany({
      where: { notebookId: id, status: { in: BUSY } },
      orderBy: { id: "asc" },
    });
    for (const step of busy) {
      const state = step.jobId ? await this.jobs.state(step.jobId) : null;
      if (state === "failed" || state === "cancelled" || (state === null && step.jobId)) {
        await this.prisma.labConverter.updateMany({
          where: { id: step.id, status: step.status },
          data: { status: DATASET_STATUS.ERROR, error: "the converter job ended without finishing" },
        });
        continue;
      }
      throw new ConflictError(
        `Notebook ${id} is being converted (converter ${step.id}, job ${step.jobId ?? "not queued"}): wait for it to finish`,
      );
    }
  }
}
