// ConverterJob applies one step to its notebook's working copy; ConverterRevertJob (queued by DELETE
// /api/v1/converter/{id}) rebuilds the working copy from the base copy by re-applying the steps before the
// deleted one. Both read the whole table, transform it in memory (engine/converters.ts) and write the
// result to a staging directory moved into place at the end: a failed or cancelled job leaves the data as
// it was.
import { z } from "zod";
import type { PrismaClient } from "../../../generated/prisma/client.js";
import { NotFoundError, ValidationError } from "../../../platform/errors.js";
import { defineJob, PermanentJobError } from "../../../platform/jobs.js";
import { DATASET_STATUS } from "../datasets/datasets.schema.js";
import { EngineError } from "../engine/errors.js";
import { findConverter } from "../engine/converters.js";
import type { Table } from "../engine/types.js";
import { unprocessable } from "../errors.js";
import type { LabJobKind } from "../jobs/service.js";
import type { LabNotebookService } from "../notebooks/service.js";
import type { ConverterRow } from "./service.js";

interface Deps {
  prisma: PrismaClient;
  notebooks: LabNotebookService;
  /** Loads enabled plugins this process has not (a worker started before their install). */
  syncPlugins?: () => Promise<void>;
}

function applyStep(table: Table, step: ConverterRow) {
  const definition = findConverter(step.converter);
  if (!definition) throw new PermanentJobError(`converter ${step.converter} is not registered`);
  const columns = ((step.scope ?? {}) as { columns?: string[] }).columns ?? [];
  try {
    return definition.apply(table, columns, (step.parameters ?? {}) as Record<string, unknown>);
  } catch (error) {
    if (error instanceof EngineError) throw new PermanentJobError(error.message);
    throw error;
  }
}

const reason = (signal: AbortSignal, error: unknown) =>
  signal.aborted
    ? String((signal.reason as Error | undefined)?.message ?? "cancelled")
    : (error as Error).message;

export function converterJob({ prisma, notebooks, syncPlugins }: Deps): LabJobKind<{ converterId: number }> {
  const kwargs = z.object({ converter_id: z.coerce.number().int().min(1).max(2_147_483_647) });
  const type = defineJob<{ converterId: number }, { total_rows: number; total_columns: number }>({
    name: "lab.ConverterJob",
    timeoutSeconds: 3600,
    run: async ({ data, signal, progress }) => {
      const step = await prisma.labConverter.findUnique({ where: { id: data.converterId } });
      if (!step) throw new PermanentJobError(`converter ${data.converterId} no longer exists`);
      try {
        await prisma.labConverter.updateMany({
          where: { id: step.id },
          data: { status: DATASET_STATUS.STARTED, error: null },
        });
        progress(5, "reading the notebook");
        const table = await notebooks.store.table(step.notebookId);
        signal.throwIfAborted();
        progress(30, `applying ${step.converter}`);
        if (!findConverter(step.converter)) await syncPlugins?.();
        const out = applyStep(table, step);
        signal.throwIfAborted();
        progress(70, "writing the notebook");
        const meta = await notebooks.store.write(step.notebookId, out.table);
        await notebooks.touch(step.notebookId, meta);
        await prisma.labConverter.updateMany({
          where: { id: step.id },
          data: { status: DATASET_STATUS.FINISHED, result: (out.info ?? {}) as object, error: null },
        });
        progress(100, `${meta.rowCount} rows, ${meta.columns.length} columns`);
        return { total_rows: meta.rowCount, total_columns: meta.columns.length };
      } catch (error) {
        await prisma.labConverter
          .updateMany({
            where: { id: step.id },
            data: { status: DATASET_STATUS.ERROR, error: reason(signal, error) },
          })
          .catch(() => {});
        throw error;
      }
    },
  });
  return {
    jobType: "ConverterJob",
    type,
    async prepare({ kwargs: raw }) {
      const parsed = kwargs.safeParse(raw);
      if (!parsed.success)
        throw ValidationError.field(["body", "kwargs", "converter_id"], parsed.error.issues[0]!.message);
      const step = await prisma.labConverter.findUnique({ where: { id: parsed.data.converter_id } });
      if (!step) throw new NotFoundError(`Converter ${parsed.data.converter_id} not found`);
      if (step.status === DATASET_STATUS.FINISHED || step.status === DATASET_STATUS.ERROR)
        throw unprocessable(`Converter ${step.id} has already run (status ${step.status})`);
      return { converterId: step.id };
    },
    // POST /api/v1/converter/ queued it already: DashAI's frontend submitting it again gets that job.
    async existing(data) {
      const step = await prisma.labConverter.findUnique({ where: { id: data.converterId } });
      return step?.jobId ?? null;
    },
    async enqueued(data, jobId) {
      await prisma.labConverter.updateMany({
        where: { id: data.converterId, status: DATASET_STATUS.NOT_STARTED },
        data: { status: DATASET_STATUS.DELIVERED, jobId },
      });
    },
  };
}

export interface RevertData {
  notebookId: number;
  converterIds: number[];
}

export function converterRevertJob({ prisma, notebooks, syncPlugins }: Deps): LabJobKind<RevertData> {
  const type = defineJob<RevertData, { total_rows: number; total_columns: number }>({
    name: "lab.ConverterRevertJob",
    timeoutSeconds: 3600,
    run: async ({ data, signal, progress }) => {
      const ids = data.converterIds;
      try {
        await prisma.labConverter.updateMany({
          where: { id: { in: ids } },
          data: { status: DATASET_STATUS.STARTED },
        });
        const reader = await notebooks.store.base.reader(data.notebookId);
        if (!reader) throw new PermanentJobError(`notebook ${data.notebookId} no longer exists`);
        let table: Table;
        try {
          table = await reader.table();
        } finally {
          await reader.close();
        }
        const steps = await prisma.labConverter.findMany({
          where: { id: { in: ids } },
          orderBy: { id: "asc" },
        });
        if (steps.some((step) => !findConverter(step.converter))) await syncPlugins?.();
        const results = new Map<number, unknown>();
        for (const [i, step] of steps.entries()) {
          signal.throwIfAborted();
          progress(5 + (85 * i) / steps.length, `re-applying ${step.converter} (${i + 1}/${steps.length})`);
          const out = applyStep(table, step);
          table = out.table;
          results.set(step.id, out.info ?? {});
        }
        signal.throwIfAborted();
        const meta = await notebooks.store.write(data.notebookId, table);
        await notebooks.touch(data.notebookId, meta);
        for (const step of steps)
          await prisma.labConverter.updateMany({
            where: { id: step.id },
            data: { status: DATASET_STATUS.FINISHED, result: results.get(step.id) as object, error: null },
          });
        progress(100, `${steps.length} steps re-applied`);
        return { total_rows: meta.rowCount, total_columns: meta.columns.length };
      } catch (error) {
        // The working copy goes back to the base so it matches the (now empty) list of finished steps.
        await notebooks.store.reset(data.notebookId).catch(() => {});
        await prisma.labConverter
          .updateMany({
            where: { id: { in: ids } },
            data: { status: DATASET_STATUS.ERROR, error: `revert failed: ${reason(signal, error)}` },
          })
          .catch(() => {});
        throw error;
      }
    },
  });
  return {
    jobType: "ConverterRevertJob",
    type,
    prepare: () => {
      throw unprocessable("ConverterRevertJob is queued by DELETE /api/v1/converter/{id}");
    },
    async enqueued(data, jobId) {
      await prisma.labConverter.updateMany({ where: { id: { in: data.converterIds } }, data: { jobId } });
    },
  };
}
