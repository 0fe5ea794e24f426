// Explorers of a notebook (DashAI's `/api/v1/explorer/`): POST checks the columns and parameters against
// the notebook (422 naming the problem), stores the explorer and queues its ExplorerJob; the job reads a
// sample of the notebook (the rule in docs/lab.md) and stores the figures as Plotly JSON. Results are
// read with POST /{id}/results/, a figure is overridden with PUT (kept apart from the computed ones).
import { Prisma, type PrismaClient } from "../../../generated/prisma/client.js";
import { NotFoundError } from "../../../platform/errors.js";
import { engine422 } from "../converters/service.js";
import { DATASET_STATUS } from "../datasets/datasets.schema.js";
import { type Figure, planExplorer, POINT_ROWS, sampleIndices, STAT_ROWS } from "../engine/explorers.js";
import type { Table, TableColumn } from "../engine/types.js";
import { unprocessable } from "../errors.js";
import type { LabJobService } from "../jobs/service.js";
import type { LabNotebookService } from "../notebooks/service.js";
import type { createExplorerSchema, LabExplorerOut, updateExplorerSchema } from "./explorers.schema.js";
import type { z } from "zod";

export interface ExplorerRow {
  id: number;
  notebookId: number;
  name: string | null;
  explorationType: string;
  columns: unknown;
  parameters: unknown;
  status: number;
  jobId: string | null;
  error: string | null;
  result: unknown;
  overrides: unknown;
  createdAt: Date;
  updatedAt: Date;
}

export interface ExplorerResult {
  figures: Figure[];
  /** Rows read and rows in the notebook (equal when nothing was sampled). */
  rows: number;
  total_rows: number;
}

export function explorerOut(row: ExplorerRow): LabExplorerOut {
  return {
    id: row.id,
    notebook_id: row.notebookId,
    name: row.name,
    exploration_type: row.explorationType,
    columns: (row.columns ?? []) as unknown[],
    parameters: (row.parameters ?? {}) as Record<string, unknown>,
    status: row.status,
    job_id: row.jobId,
    error: row.error,
    created: row.createdAt.toISOString(),
    last_modified: row.updatedAt.toISOString(),
  };
}

/** A column's name as DashAI's frontend sends it (a string or `{columnName}`). */
export function columnName(column: unknown): string {
  if (typeof column === "string") return column;
  const c = (column ?? {}) as { columnName?: string; name?: string; column?: string };
  const name = c.columnName ?? c.name ?? c.column;
  if (!name) throw unprocessable("A column must be a name or an object with columnName");
  return name;
}

const STRING_CHUNK = 100_000;

export class LabExplorerService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly notebooks: LabNotebookService,
    private readonly jobs: LabJobService,
  ) {}

  async row(id: number): Promise<ExplorerRow> {
    const row = await this.prisma.labExplorer.findUnique({ where: { id } });
    if (!row) throw new NotFoundError(`Explorer ${id} not found`);
    return row;
  }

  async get(id: number): Promise<LabExplorerOut> {
    return explorerOut(await this.reconcile(await this.row(id)));
  }

  async list(skip = 0, limit = 0): Promise<LabExplorerOut[]> {
    const rows = await this.prisma.labExplorer.findMany({
      orderBy: { id: "asc" },
      skip,
      ...(limit > 0 && { take: limit }),
    });
    return rows.map(explorerOut);
  }

  async ofNotebook(notebookId: number, skip = 0, limit = 0): Promise<LabExplorerOut[]> {
    await this.notebooks.row(notebookId);
    const rows = await this.prisma.labExplorer.findMany({
      where: { notebookId },
      orderBy: { id: "asc" },
      skip,
      ...(limit > 0 && { take: limit }),
    });
    return rows.map(explorerOut);
  }

  /** The explorer's columns and parameters checked against the notebook's current columns. */
  async plan(notebookId: number, type: string, columns: unknown[], parameters: Record<string, unknown>) {
    const meta = await this.notebooks.meta(notebookId);
    const names = columns.map(columnName);
    return engine422(() => planExplorer(type, meta.columns, names, parameters));
  }

  async create(input: z.infer<typeof createExplorerSchema>): Promise<LabExplorerOut> {
    const plan = await this.plan(input.notebook_id, input.exploration_type, input.columns, input.parameters);
    const row = await this.prisma.labExplorer.create({
      data: {
        notebookId: input.notebook_id,
        name: input.name ?? null,
        explorationType: plan.definition.name,
        columns: input.columns.length ? (input.columns as object[]) : plan.columns,
        parameters: plan.params as object,
      },
    });
    const jobId = await this.jobs.enqueue("ExplorerJob", { explorerId: row.id });
    return explorerOut({ ...(await this.row(row.id)), jobId });
  }

  /** New columns or parameters are checked again and recomputed (a new job); a new name alone is kept. */
  async update(input: z.infer<typeof updateExplorerSchema>): Promise<LabExplorerOut> {
    const row = await this.row(input.explorer_id);
    const recompute = input.columns !== undefined || input.parameters !== undefined;
    if (!recompute) {
      const updated = await this.prisma.labExplorer.update({
        where: { id: row.id },
        data: { ...(input.name !== undefined && { name: input.name }) },
      });
      return explorerOut(updated);
    }
    const columns = input.columns ?? (row.columns as unknown[]);
    const plan = await this.plan(
      row.notebookId,
      row.explorationType,
      columns,
      input.parameters ?? (row.parameters as Record<string, unknown>),
    );
    if (row.jobId && (row.status === DATASET_STATUS.DELIVERED || row.status === DATASET_STATUS.STARTED))
      await this.jobs.cancel(row.jobId).catch(() => {});
    await this.prisma.labExplorer.update({
      where: { id: row.id },
      data: {
        ...(input.name !== undefined && { name: input.name }),
        columns: columns.length ? (columns as object[]) : plan.columns,
        parameters: plan.params as object,
        status: DATASET_STATUS.NOT_STARTED,
        jobId: null,
        error: null,
        result: Prisma.DbNull,
        overrides: {},
      },
    });
    const jobId = await this.jobs.enqueue("ExplorerJob", { explorerId: row.id });
    return explorerOut({ ...(await this.row(row.id)), jobId });
  }

  async delete(id: number): Promise<void> {
    const row = await this.row(id);
    if (row.jobId && (row.status === DATASET_STATUS.DELIVERED || row.status === DATASET_STATUS.STARTED))
      await this.jobs.cancel(row.jobId).catch(() => {});
    await this.prisma.labExplorer.deleteMany({ where: { id } });
  }

  /** The figures (with the user's overrides in place); 422 until the explorer has finished. */
  async results(id: number): Promise<Record<string, unknown>[]> {
    const row = await this.reconcile(await this.row(id));
    if (row.status !== DATASET_STATUS.FINISHED)
      throw unprocessable(
        row.status === DATASET_STATUS.ERROR
          ? `Explorer ${id} failed: ${row.error ?? "unknown error"}`
          : `Explorer ${id} is not finished yet (status ${row.status})`,
      );
    const result = row.result as ExplorerResult;
    const overrides = (row.overrides ?? {}) as Record<string, Figure>;
    return result.figures.map((figure, i) => ({ ...(overrides[String(i)] ?? figure) }));
  }

  async override(id: number, index: number, figure: Record<string, unknown>): Promise<{ message: string }> {
    const figures = await this.results(id);
    if (index >= figures.length)
      throw unprocessable(`Figure index ${index} is out of range (the explorer has ${figures.length})`);
    const row = await this.row(id);
    const overrides = { ...((row.overrides ?? {}) as Record<string, unknown>), [String(index)]: figure };
    await this.prisma.labExplorer.update({ where: { id }, data: { overrides: overrides as object } });
    return { message: `Figure ${index} of explorer ${id} updated` };
  }

  async removeOverride(id: number, index: number): Promise<{ message: string }> {
    const row = await this.row(id);
    const overrides = { ...((row.overrides ?? {}) as Record<string, unknown>) };
    if (!(String(index) in overrides))
      throw new NotFoundError(`Figure ${index} of explorer ${id} has no override`);
    delete overrides[String(index)];
    await this.prisma.labExplorer.update({ where: { id }, data: { overrides: overrides as object } });
    return { message: `Figure ${index} of explorer ${id} restored` };
  }

  /** A job that ended without reaching its explorer (cancelled while queued) leaves it ERROR. */
  private async reconcile(row: ExplorerRow): Promise<ExplorerRow> {
    if ((row.status !== DATASET_STATUS.DELIVERED && row.status !== DATASET_STATUS.STARTED) || !row.jobId)
      return row;
    const state = await this.jobs.state(row.jobId);
    if (state !== "failed" && state !== "cancelled" && state !== null) return row;
    const error = state === "cancelled" ? "cancelled" : "the explorer job ended without finishing";
    await this.prisma.labExplorer.updateMany({
      where: { id: row.id, status: row.status, jobId: row.jobId },
      data: { status: DATASET_STATUS.ERROR, error },
    });
    return { ...row, status: DATASET_STATUS.ERROR, error };
  }

  /**
   * The rows an explorer reads: every row up to STAT_ROWS (POINT_ROWS for point clouds), else that many
   * evenly spaced rows. Numeric columns are read whole (8 bytes a row) and picked; text columns in chunks.
   */
  async sample(
    notebookId: number,
    names: string[],
    kind: "stats" | "points",
    signal?: AbortSignal,
  ): Promise<{ table: Table; total: number }> {
    const reader = await this.notebooks.store.current.reader(notebookId);
    if (!reader) throw new NotFoundError(`Notebook ${notebookId} has no data`);
    try {
      const total = reader.rowCount;
      const rows = sampleIndices(total, kind === "points" ? POINT_ROWS : STAT_ROWS);
      const columns: TableColumn[] = [];
      for (const name of names) {
        signal?.throwIfAborted();
        const column = reader.column(name);
        if (!column) throw unprocessable(`Unknown column "${name}"`);
        if (["integer", "float", "boolean", "datetime"].includes(column.type)) {
          const all = await reader.numbers(column);
          columns.push({
            name,
            type: column.type as "float",
            values: rows.length === total ? all : Float64Array.from(rows, (r) => all[r]!),
          });
          continue;
        }
        const values: (string | null)[] = new Array(rows.length);
        let k = 0;
        for (let start = 0; start < total && k < rows.length; start += STRING_CHUNK) {
          signal?.throwIfAborted();
          const end = Math.min(total, start + STRING_CHUNK);
          if (rows[k]! >= end) continue;
          const chunk = await reader.strings(column, start, end);
          while (k < rows.length && rows[k]! < end) values[k] = chunk[rows[k++]! - start]!;
        }
        columns.push({ name, type: column.type as "text", values });
      }
      return { table: { rowCount: rows.length, columns }, total };
    } finally {
      await reader.close();
    }
  }
}
