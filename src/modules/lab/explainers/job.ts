// ExplainerJob (`POST /api/v1/job/` with `{"explainer_id", "explainer_scope"}`, as DashAI's frontend starts an
// explanation): reads the run's dataset (global: a sample of a split; local: the background from the train
// split and the chosen rows of the explainer's dataset), runs the explainer on the run's model (in process
// or through onnxruntime) in a worker thread (thread.ts: the server keeps answering, a cancel terminates the
// thread), and stores the result and its Plotly figures on the explainer.
import { z } from "zod";
import type { PrismaClient } from "../../../generated/prisma/client.js";
import { ConflictError, ValidationError } from "../../../platform/errors.js";
import { defineJob, PermanentJobError } from "../../../platform/jobs.js";
import type { LabDatasetService } from "../datasets/service.js";
import { EngineError, type MetricName, type Task } from "../engine/index.js";
import { sampleRows, splitOfRun, takeRows } from "../engine/explain/index.js";
import type { LabJobKind } from "../jobs/service.js";
import type { LabModelSessionService } from "../model-sessions/service.js";
import type { ExplainTask } from "./compute.js";
import { EXPLAINER_STATUS, type ExplainerScope } from "./explainers.schema.js";
import { defaultScoring, type LabExplainerService, sessionSplits } from "./service.js";
import { explainInThread } from "./thread.js";

export interface ExplainerJobData {
  explainerId: number;
  scope: ExplainerScope;
}

const kwargsSchema = z.object({
  explainer_id: z.coerce.number().int().min(1).max(2_147_483_647),
  explainer_scope: z.enum(["global", "local"]).default("global"),
});

const object = (value: unknown): Record<string, unknown> =>
  value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

export function explainerJob(deps: {
  prisma: PrismaClient;
  explainers: LabExplainerService;
  sessions: LabModelSessionService;
  datasets: LabDatasetService;
}): LabJobKind<ExplainerJobData> {
  const { prisma, explainers, datasets } = deps;

  const type = defineJob<ExplainerJobData, { explainer_id: number }>({
    name: "lab.ExplainerJob",
    timeoutSeconds: 6 * 3600,
    run: async ({ data, signal, progress }) => {
      try {
        const started = await prisma.labExplainer.updateMany({
          where: { id: data.explainerId },
          data: { status: EXPLAINER_STATUS.STARTED, error: null },
        });
        if (started.count === 0)
          throw new PermanentJobError(`explainer ${data.explainerId} no longer exists`);
        const row = await explainers.row(data.scope, data.explainerId);
        const { run, session } = await explainers.explainableRun(row.runId, row.backend);
        const params = object(row.parameters);
        const taskName = session.task_name as Task;
        const target = session.output_columns[0]!;
        const { ratios, seed } = sessionSplits(session);
        progress(0, "Reading the dataset");
        const table = await datasets.table(session.dataset_id, [...session.input_columns, target]);
        signal.throwIfAborted();
        const splitRows = (split: "train" | "validation" | "test", max: number) => {
          const rows = splitOfRun(table, { task: taskName, target, ratios, seed }, split);
          if (rows.length === 0)
            throw new EngineError("invalid_input", `The run's ${split} split is empty: choose another split`);
          return takeRows(table, sampleRows(rows, max, params.random_state as number));
        };
        const source = await explainers.modelSource(run, session, row.backend);
        let task: ExplainTask;
        if (row.explainerName === "PermutationFeatureImportance")
          task = {
            explainer: row.explainerName,
            data: splitRows(params.split as "test", params.max_samples as number),
            options: {
              target,
              metric: ((params.scoring as string | null) ??
                defaultScoring(taskName, run.goalMetric)) as MetricName,
              nRepeats: params.n_repeats as number,
              seed: params.random_state as number,
            },
          };
        else if (row.explainerName === "PartialDependence") {
          const features = params.features as string[];
          task = {
            explainer: row.explainerName,
            data: splitRows(params.split as "test", params.max_samples as number),
            options: {
              features: features.length > 0 ? features : session.input_columns,
              gridResolution: params.grid_resolution as number,
              lowerPercentile: params.lower_percentile as number,
              upperPercentile: params.upper_percentile as number,
            },
          };
        } else if (row.explainerName === "KernelShap") {
          const background = splitRows("train", params.n_background_samples as number);
          const rows = (object(row.instances).rows as number[] | undefined) ?? [];
          const data = await datasets.table(row.datasetId!, session.input_columns);
          for (const r of rows)
            if (r >= data.rowCount)
              throw new EngineError(
                "invalid_input",
                `Row ${r} is beyond the dataset's ${data.rowCount} rows`,
              );
          task = {
            explainer: row.explainerName,
            background,
            instances: takeRows(data, rows),
            rows,
            options: { nSamples: params.n_samples as number, seed: params.random_state as number },
          };
        } else throw new EngineError("invalid_input", `Unknown explainer "${row.explainerName}"`);
        signal.throwIfAborted();
        // In a worker thread: the server keeps answering while it computes; a cancel terminates it.
        const { explanation, plots } = await explainInThread(source, task, {
          signal,
          progress: (percent, message) => progress(Math.min(97, 3 + percent * 0.94), message),
        });
        signal.throwIfAborted();
        progress(98, "Saving the explanation");
        const done = await prisma.labExplainer.updateMany({
          where: { id: data.explainerId },
          data: {
            status: EXPLAINER_STATUS.FINISHED,
            error: null,
            explanation: explanation as object,
            plots: plots as object,
          },
        });
        if (done.count === 0)
          throw new PermanentJobError(`explainer ${data.explainerId} was deleted meanwhile`);
        progress(100, "Finished");
        return { explainer_id: data.explainerId };
      } catch (error) {
        const message = signal.aborted
          ? String((signal.reason as Error | undefined)?.message ?? "cancelled")
          : (error as Error).message;
        await prisma.labExplainer
          .updateMany({
            where: { id: data.explainerId },
            data: { status: EXPLAINER_STATUS.ERROR, error: message },
          })
          .catch(() => {});
        if (error instanceof EngineError || (error as { status?: number }).status === 422)
          throw new PermanentJobError(message);
        throw error;
      }
    },
  });

  return {
    jobType: "ExplainerJob",
    type,
    async prepare({ kwargs, file }) {
      if (file) throw ValidationError.field(["body", "file"], "ExplainerJob takes no file");
      const parsed = kwargsSchema.safeParse(kwargs);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw ValidationError.field(["body", "kwargs", ...issue.path.map(String)], issue.message);
      }
      const scope = parsed.data.explainer_scope;
      const row = await explainers.row(scope, parsed.data.explainer_id);
      if (explainers.busy(row))
        throw new ConflictError(`Explainer ${row.id} is already running (job ${row.jobId})`);
      await explainers.explainableRun(row.runId, row.backend);
      return { explainerId: row.id, scope };
    },
    async enqueued(data, jobId) {
      await explainers.delivered(data.explainerId, jobId);
    },
  };
}
