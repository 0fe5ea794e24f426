// Converter steps of a notebook (DashAI's `/api/v1/converter/`). POST checks the step against the
// notebook's current columns (unknown column, wrong type: 422 naming it), saves it and queues its
// ConverterJob. DELETE drops the step and every later one, puts the notebook's base copy back and queues a
// ConverterRevertJob that re-applies the steps before it, in order (converters/job.ts).
import type { PrismaClient } from "../../../generated/prisma/client.js";
import { NotFoundError } from "../../../platform/errors.js";
import { DATASET_STATUS } from "../datasets/datasets.schema.js";
import { EngineError } from "../engine/errors.js";
import { planConverter } from "../engine/converters.js";
import { unprocessable } from "../errors.js";
import type { LabJobService } from "../jobs/service.js";
import type { LabNotebookService } from "../notebooks/service.js";
import type { createConverterSchema, LabConverterOut } from "./converters.schema.js";
import type { z } from "zod";

export interface ConverterRow {
  id: number;
  notebookId: number;
  converter: string;
  parameters: unknown;
  scope: unknown;
  status: number;
  jobId: string | null;
  error: string | null;
  result: unknown;
  createdAt: Date;
  updatedAt: Date;
}

export function converterOut(row: ConverterRow): LabConverterOut {
  const scope = (row.scope ?? {}) as { columns?: string[] };
  return {
    id: row.id,
    notebook_id: row.notebookId,
    converter: row.converter,
    parameters: (row.parameters ?? {}) as Record<string, unknown>,
    scope: { columns: scope.columns ?? [] },
    status: row.status,
    job_id: row.jobId,
    error: row.error,
    result: (row.result ?? null) as Record<string, unknown> | null,
    created: row.createdAt.toISOString(),
    last_modified: row.updatedAt.toISOString(),
  };
}

/** An EngineError as the API's 422 (the message names the column or parameter). */
export function engine422<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof EngineError) throw unprocessable(error.message);
    throw error;
  }
}

export class LabConverterService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly notebooks: LabNotebookService,
    private readonly jobs: LabJobService,
  ) {}

  async row(id: number): Promise<ConverterRow> {
    const row = await this.prisma.labConverter.findUnique({ where: { id } });
    if (!row) throw new NotFoundError(`Converter ${id} not found`);
    return row;
  }

  async get(id: number): Promise<LabConverterOut> {
    return converterOut(await this.row(id));
  }

  /** Every step of a notebook (all states), in order. */
  async all(notebookId: number): Promise<LabConverterOut[]> {
    await this.notebooks.row(notebookId);
    const rows = await this.prisma.labConverter.findMany({ where: { notebookId }, orderBy: { id: "asc" } });
    return rows.map(converterOut);
  }

  /** The finished steps of a notebook, in the order they were applied. */
  async finished(notebookId: number): Promise<LabConverterOut[]> {
    await this.notebooks.row(notebookId);
    const rows = await this.prisma.labConverter.findMany({
      where: { notebookId, status: DATASET_STATUS.FINISHED },
      orderBy: { id: "asc" },
    });
    return rows.map(converterOut);
  }

  async create(input: z.infer<typeof createConverterSchema>): Promise<LabConverterOut> {
    const name = input.converter ?? input.converter_name ?? input.name;
    if (!name) throw unprocessable("Missing the converter's name (converter)");
    const meta = await this.notebooks.meta(input.notebook_id);
    await this.notebooks.assertIdle(input.notebook_id);
    const requested = input.scope?.columns ?? input.columns;
    const names = requested?.map((column) => {
      if (typeof column === "string") return column;
      const found = meta.columns[column];
      if (!found)
        throw unprocessable(`Unknown column ${column} (the notebook has ${meta.columns.length} columns)`);
      return found.name;
    });
    const plan = engine422(() =>
      planConverter(name, meta.columns, names, input.parameters ?? input.params ?? {}),
    );
    const row = await this.prisma.labConverter.create({
      data: {
        notebookId: input.notebook_id,
        converter: plan.definition.name,
        parameters: plan.params as object,
        scope: { columns: plan.columns },
      },
    });
    const jobId = await this.jobs.enqueue("ConverterJob", { converterId: row.id });
    return converterOut({ ...(await this.row(row.id)), jobId });
  }

  /**
   * Reverts the notebook to the state before the step: the step and every later one are deleted, the base
   * copy is put back and the steps before it are re-applied by one job (its id is answered; null when no
   * step precedes it).
   */
  async delete(id: number): Promise<{ jobId: string | null }> {
    const step = await this.row(id);
    await this.notebooks.assertIdle(step.notebookId);
    const before = await this.prisma.labConverter.findMany({
      where: { notebookId: step.notebookId, id: { lt: id }, status: DATASET_STATUS.FINISHED },
      orderBy: { id: "asc" },
      select: { id: true },
    });
    await this.prisma.labConverter.deleteMany({ where: { notebookId: step.notebookId, id: { gte: id } } });
    // Failed steps before it changed nothing: they go too (the revert keeps finished steps only).
    await this.prisma.labConverter.deleteMany({
      where: { notebookId: step.notebookId, id: { lt: id }, status: { not: DATASET_STATUS.FINISHED } },
    });
    if (before.length === 0) {
      await this.notebooks.store.reset(step.notebookId);
      const meta = await this.notebooks.store.current.meta(step.notebookId);
      if (meta) await this.notebooks.touch(step.notebookId, meta);
      return { jobId: null };
    }
    await this.prisma.labConverter.updateMany({
      where: { id: { in: before.map((s) => s.id) } },
      data: { status: DATASET_STATUS.DELIVERED },
    });
    const jobId = await this.jobs.enqueue("ConverterRevertJob", {
      notebookId: step.notebookId,
      converterIds: before.map((s) => s.id),
    });
    return { jobId };
  }
}
