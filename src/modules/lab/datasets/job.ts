// DatasetJob: loads an uploaded file (or a guard dataset's finalized labels) into a dataset. The form's
// checks (dataset, format, a parse of files up to LAB_SYNC_CHECK_MB) answer 422 before anything is queued;
// the job writes into a staging directory and moves it into place only when the whole load succeeded, so a
// failed or cancelled load leaves nothing half stored (the dataset becomes ERROR with the reason).
import { z } from "zod";
import type { PrismaClient } from "../../../generated/prisma/client.js";
import { ConflictError, NotFoundError, ValidationError } from "../../../platform/errors.js";
import { defineJob, PermanentJobError } from "../../../platform/jobs.js";
import { finalizedLabelRows, type GuardLabelReader } from "../../guard/index.js";
import type { ColumnType } from "../engine/types.js";
import { unprocessable } from "../errors.js";
import type { LabJobKind, LabJobService } from "../jobs/service.js";
import { DATASET_STATUS } from "./datasets.schema.js";
import { ingestFile, IngestError, ingestRows, type SourceFormat, validateFile } from "./ingest.js";
import { columnTypeOf } from "./query.js";
import type { LabNotebookService } from "../notebooks/service.js";
import { DatasetStore } from "./store.js";

export interface DatasetJobData {
  datasetId: number;
  source:
    | { kind: "file"; path: string; name: string; format: SourceFormat; separator?: string }
    | { kind: "guard"; guardDatasetId: string }
    | { kind: "notebook"; notebookId: number };
  types?: Record<string, ColumnType>;
  renames?: Record<string, string>;
}

/** Files up to this size are parsed completely before the job is queued (a broken one gets 422 at once). */
export const SYNC_CHECK_BYTES = 64 * 1024 * 1024;

const kwargsSchema = z.object({
  dataset_id: z.coerce.number().int().min(1).max(2_147_483_647),
  notebook_id: z.unknown().optional(),
  url: z.string().max(4096).nullable().optional(),
  params: z
    .object({
      dataloader: z.string().max(100).optional(),
      name: z.string().max(255).optional(),
      separator: z.string().min(1).max(2).optional(),
      inferred_types: z.record(z.string(), z.union([z.string(), z.object({ type: z.string() })])).optional(),
      column_renames: z.record(z.string(), z.string().min(1).max(255)).optional(),
    })
    .loose()
    .default({}),
});

export function datasetJob(deps: {
  prisma: PrismaClient;
  store: DatasetStore;
  jobs: LabJobService;
  labels: GuardLabelReader | null;
  notebooks: LabNotebookService;
}): LabJobKind<DatasetJobData> {
  const { prisma, store, jobs } = deps;

  const fail = async (datasetId: number, message: string) => {
    await prisma.labDataset
      .updateMany({ where: { id: datasetId }, data: { status: DATASET_STATUS.ERROR, error: message } })
      .catch(() => {});
  };

  const type = defineJob<DatasetJobData, { total_rows: number; total_columns: number }>({
    name: "lab.DatasetJob",
    timeoutSeconds: 6 * 3600,
    run: async ({ data, signal, progress }) => {
      const source = data.source;
      try {
        const started = await prisma.labDataset.updateMany({
          where: { id: data.datasetId },
          data: { status: DATASET_STATUS.STARTED, error: null },
        });
        if (started.count === 0) throw new PermanentJobError(`dataset ${data.datasetId} no longer exists`);
        const options = {
          types: data.types,
          renames: data.renames,
          signal,
          progress: (fraction: number, message: string) => progress(fraction * 100, message),
        };
        if (source.kind === "notebook") {
          // A notebook saved as a dataset: its working copy, copied as it is now.
          progress(10, `copying notebook ${source.notebookId}`);
          await store.copyDir(deps.notebooks.store.current.dir(source.notebookId), data.datasetId);
          const meta = await store.meta(data.datasetId);
          if (!meta) throw new PermanentJobError(`notebook ${source.notebookId} has no data`);
          await prisma.labDataset.updateMany({
            where: { id: data.datasetId },
            data: {
              status: DATASET_STATUS.FINISHED,
              filePath: DatasetStore.filePath(data.datasetId),
              totalRows: meta.rowCount,
              totalColumns: meta.columns.length,
              error: null,
            },
          });
          progress(100, `${meta.rowCount} rows, ${meta.columns.length} columns`);
          return { total_rows: meta.rowCount, total_columns: meta.columns.length };
        }
        const { dir, meta } =
          source.kind === "file"
            ? await ingestFile(store, jobs.uploadPath(source.path), source.format, {
                ...options,
                separator: source.separator,
              })
            : await ingestRows(store, guardBatches(deps.labels, source.guardDatasetId, signal), options);
        signal.throwIfAborted();
        await store.commit(dir, data.datasetId);
        const done = await prisma.labDataset.updateMany({
          where: { id: data.datasetId },
          data: {
            status: DATASET_STATUS.FINISHED,
            filePath: DatasetStore.filePath(data.datasetId),
            totalRows: meta.rowCount,
            totalColumns: meta.columns.length,
            error: null,
          },
        });
        if (done.count === 0) {
          await store.remove(data.datasetId);
          throw new PermanentJobError(`dataset ${data.datasetId} was deleted during the load`);
        }
        progress(100, `${meta.rowCount} rows, ${meta.columns.length} columns`);
        return { total_rows: meta.rowCount, total_columns: meta.columns.length };
      } catch (error) {
        const message = signal.aborted
          ? String((signal.reason as Error | undefined)?.message ?? "cancelled")
          : (error as Error).message;
        await fail(data.datasetId, message);
        throw error instanceof IngestError ? new PermanentJobError(message) : error;
      } finally {
        if (source.kind === "file") await jobs.removeUpload(source).catch(() => {});
      }
    },
  });

  return {
    jobType: "DatasetJob",
    type,
    async prepare({ kwargs, file }) {
      const parsed = kwargsSchema.safeParse(kwargs);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw ValidationError.field(["body", "kwargs", ...issue.path.map(String)], issue.message);
      }
      const { dataset_id: datasetId, params, url, notebook_id: notebookId } = parsed.data;
      const row = await prisma.labDataset.findUnique({ where: { id: datasetId } });
      if (!row) throw new NotFoundError(`Dataset ${datasetId} not found`);
      if (row.status === DATASET_STATUS.DELIVERED || row.status === DATASET_STATUS.STARTED)
        throw new ConflictError(`Dataset ${datasetId} is already being loaded (job ${row.jobId})`);
      if (!file) {
        if (url) throw unprocessable("Loading a dataset from a URL is not supported: upload the file");
        if (notebookId !== undefined && notebookId !== null) {
          const id = Number(notebookId);
          if (!Number.isInteger(id) || id < 1)
            throw ValidationError.field(["body", "kwargs", "notebook_id"], "Expected a notebook id");
          await deps.notebooks.row(id);
          await deps.notebooks.assertIdle(id);
          return { datasetId, source: { kind: "notebook", notebookId: id } };
        }
        throw ValidationError.field(
          ["body", "file"],
          "Field required: the dataset file (multipart field `file`)",
        );
      }
      const types: Record<string, ColumnType> = {};
      for (const [column, value] of Object.entries(params.inferred_types ?? {})) {
        const name = typeof value === "string" ? value : value.type;
        const type = columnTypeOf(name);
        if (!type)
          throw ValidationError.field(
            ["body", "kwargs", "params", "inferred_types", column],
            `Unknown type "${name}"`,
          );
        types[column] = type;
      }
      let format: SourceFormat;
      try {
        format = await validateFile(jobs.uploadPath(file.path), file.name, {
          loader: params.dataloader,
          separator: params.separator,
          fullCheckBytes: SYNC_CHECK_BYTES,
        });
      } catch (error) {
        if (error instanceof IngestError) throw unprocessable(`${file.name || "file"}: ${error.message}`);
        throw error;
      }
      return {
        datasetId,
        source: { kind: "file", path: file.path, name: file.name, format, separator: params.separator },
        types,
        renames: params.column_renames,
      };
    },
    async enqueued(data, jobId) {
      await prisma.labDataset.updateMany({
        where: { id: data.datasetId },
        data: { status: DATASET_STATUS.DELIVERED, jobId, error: null },
      });
    },
  };
}

async function* guardBatches(labels: GuardLabelReader | null, datasetId: string, signal: AbortSignal) {
  if (!labels) throw new PermanentJobError("the guard module is not running here");
  for await (const batch of finalizedLabelRows(labels, datasetId, { signal }))
    yield batch as unknown as Record<string, unknown>[];
}
