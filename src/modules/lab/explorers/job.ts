// ExplorerJob: reads the explorer's sample of the notebook and computes its figures (engine/explorers.ts).
import { z } from "zod";
import type { PrismaClient } from "../../../generated/prisma/client.js";
import { NotFoundError, ValidationError } from "../../../platform/errors.js";
import { defineJob, PermanentJobError } from "../../../platform/jobs.js";
import { DATASET_STATUS } from "../datasets/datasets.schema.js";
import { EngineError } from "../engine/errors.js";
import { findExplorer } from "../engine/explorers.js";
import type { LabJobKind } from "../jobs/service.js";
import { columnName, type ExplorerResult, type LabExplorerService } from "./service.js";

export function explorerJob({
  prisma,
  explorers,
  syncPlugins,
}: {
  prisma: PrismaClient;
  explorers: LabExplorerService;
  /** Loads enabled plugins this process has not (a worker started before their install). */
  syncPlugins?: () => Promise<void>;
}): LabJobKind<{ explorerId: number }> {
  const kwargs = z.object({ explorer_id: z.coerce.number().int().min(1).max(2_147_483_647) });
  const type = defineJob<{ explorerId: number }, { figures: number; rows: number }>({
    name: "lab.ExplorerJob",
    timeoutSeconds: 3600,
    run: async ({ data, signal, progress }) => {
      const row = await prisma.labExplorer.findUnique({ where: { id: data.explorerId } });
      if (!row) throw new PermanentJobError(`explorer ${data.explorerId} no longer exists`);
      try {
        if (!findExplorer(row.explorationType)) await syncPlugins?.();
        const definition = findExplorer(row.explorationType);
        if (!definition) throw new PermanentJobError(`explorer ${row.explorationType} is not registered`);
        await prisma.labExplorer.updateMany({
          where: { id: row.id },
          data: { status: DATASET_STATUS.STARTED, error: null },
        });
        progress(5, "reading the notebook");
        const names = (row.columns as unknown[]).map(columnName);
        const { table, total } = await explorers.sample(row.notebookId, names, definition.rows, signal);
        signal.throwIfAborted();
        progress(50, `computing ${definition.name} on ${table.rowCount} of ${total} rows`);
        const note = table.rowCount < total ? `sample of ${table.rowCount} of ${total} rows` : "";
        let figures;
        try {
          figures = definition.compute(table, row.parameters as Record<string, unknown>, note);
        } catch (error) {
          if (error instanceof EngineError) throw new PermanentJobError(error.message);
          throw error;
        }
        signal.throwIfAborted();
        const result: ExplorerResult = { figures, rows: table.rowCount, total_rows: total };
        await prisma.labExplorer.updateMany({
          where: { id: row.id },
          data: { status: DATASET_STATUS.FINISHED, result: result as object, error: null },
        });
        progress(100, `${figures.length} figure(s)`);
        return { figures: figures.length, rows: table.rowCount };
      } catch (error) {
        const message = signal.aborted
          ? String((signal.reason as Error | undefined)?.message ?? "cancelled")
          : (error as Error).message;
        await prisma.labExplorer
          .updateMany({ where: { id: row.id }, data: { status: DATASET_STATUS.ERROR, error: message } })
          .catch(() => {});
        throw error;
      }
    },
  });
  return {
    jobType: "ExplorerJob",
    type,
    async prepare({ kwargs: raw }) {
      const parsed = kwargs.safeParse(raw);
      if (!parsed.success)
        throw ValidationError.field(["body", "kwargs", "explorer_id"], parsed.error.issues[0]!.message);
      const row = await prisma.labExplorer.findUnique({ where: { id: parsed.data.explorer_id } });
      if (!row) throw new NotFoundError(`Explorer ${parsed.data.explorer_id} not found`);
      return { explorerId: row.id };
    },
    // POST /api/v1/explorer/ queued it already: DashAI's frontend submitting ExplorerJob gets that job, as
    // long as it has not ended (a finished or failed explorer is computed again).
    async existing(data) {
      const row = await prisma.labExplorer.findUnique({ where: { id: data.explorerId } });
      return row && row.jobId && row.status !== DATASET_STATUS.FINISHED && row.status !== DATASET_STATUS.ERROR
        ? row.jobId
        : null;
    },
    async enqueued(data, jobId) {
      await prisma.labExplorer.updateMany({
        where: { id: data.explorerId },
        data: { status: DATASET_STATUS.DELIVERED, jobId, error: null },
      });
    },
  };
}
