// ModelJob (`POST /api/v1/job/` with `{"run_id"}`, as DashAI's frontend starts training): trains the run's
// model on its session's dataset in a worker thread (runs/thread.ts), stores the trained model (and its ONNX
// export) under LAB_DATA_DIR/runs/<id>/, the metrics per split and the search's trials on the run, and logs
// the finished run to tracking as a run of project `lab-<session name>`.
import { z } from "zod";
import type { PrismaClient } from "../../../generated/prisma/client.js";
import { ConflictError, NotFoundError, ValidationError } from "../../../platform/errors.js";
import { defineJob, PermanentJobError } from "../../../platform/jobs.js";
import type { Logger } from "../../../platform/logger.js";
import { recordRun, type TrackingRecorder } from "../../tracking/index.js";
import type { LabDatasetService } from "../datasets/service.js";
import { EngineError, MODELS, type Task, type TrainRequest } from "../engine/index.js";
import { exportTrainedModelToOnnx, isOnnxExportable } from "../engine/onnx/index.js";
import { unprocessable } from "../errors.js";
import type { LabJobKind } from "../jobs/service.js";
import type { LabModelSessionService } from "../model-sessions/service.js";
import { RUN_STATUS } from "./runs.schema.js";
import { defaultGoal, type LabRunService } from "./service.js";
import { trainInThread } from "./thread.js";

export interface ModelJobData {
  runId: number;
}

const kwargsSchema = z.object({ run_id: z.coerce.number().int().min(1).max(2_147_483_647) });

/** A tracking project or run name from free text (tracking allows letters, digits, '.', '_' and '-'). */
export function trackingName(text: string): string {
  const clean = text.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[.-]+/, "");
  return (clean || "_").slice(0, 128);
}

const object = (value: unknown): Record<string, unknown> =>
  value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};

export function modelJob(deps: {
  prisma: PrismaClient;
  runs: LabRunService;
  sessions: LabModelSessionService;
  datasets: LabDatasetService;
  tracking: TrackingRecorder | null;
  log: Logger;
  /** The enabled plugins' entries (their models train in the thread). */
  plugins: () => Promise<{ name: string; entry: string }[]>;
}): LabJobKind<ModelJobData> {
  const { prisma, runs, sessions, datasets } = deps;

  const type = defineJob<ModelJobData, { train: unknown; validation: unknown; test: unknown }>({
    name: "lab.ModelJob",
    timeoutSeconds: 6 * 3600,
    run: async ({ data, signal, progress }) => {
      const startTime = new Date();
      try {
        const started = await prisma.labRun.updateMany({
          where: { id: data.runId },
          data: { status: RUN_STATUS.STARTED, error: null, startTime, endTime: null },
        });
        if (started.count === 0) throw new PermanentJobError(`run ${data.runId} no longer exists`);
        const run = await runs.row(data.runId);
        const session = await sessions.get(run.sessionId);
        const splits = JSON.parse(session.splits) as Record<string, number>;
        const output = session.output_columns[0]!;
        progress(0, "Reading the dataset");
        const table = await datasets.table(session.dataset_id, [...session.input_columns, output]);
        signal.throwIfAborted();
        const task = session.task_name as Task;
        const optimizerName = run.optimizerName;
        const goal = run.goalMetric || defaultGoal(task);
        const metricsOf = (names: string[]) => (names.length > 0 ? names : undefined);
        const request: TrainRequest = {
          model: run.modelName,
          params: object(run.parameters),
          task,
          inputColumns: session.input_columns,
          outputColumn: output,
          splits: { train: splits.train!, validation: splits.validation!, test: splits.test! },
          seed: Number(splits.seed ?? 42),
          metrics: {
            train: metricsOf(session.train_metrics),
            validation: metricsOf(session.validation_metrics),
            test: metricsOf(session.test_metrics),
          },
          optimizer: optimizerName
            ? { name: optimizerName, params: object(run.optimizerParameters), goalMetric: goal }
            : null,
        };
        const result = await trainInThread(table, request, {
          plugins: MODELS.some((m) => m.name === run.modelName) ? [] : await deps.plugins(),
          signal,
          progress: (percent, message) => progress(Math.min(97, percent * 0.97), message),
        });
        progress(97, "Saving the model");
        await runs.store.saveModel(data.runId, result.trained);
        let hasOnnx = false;
        if (isOnnxExportable(result.trained)) {
          await runs.store.saveOnnx(
            data.runId,
            exportTrainedModelToOnnx(result.trained, { run_id: String(data.runId) }),
          );
          hasOnnx = true;
        }
        signal.throwIfAborted();
        const done = await prisma.labRun.updateMany({
          where: { id: data.runId },
          data: {
            status: RUN_STATUS.FINISHED,
            error: null,
            trainMetrics: result.metrics.train,
            validationMetrics: result.metrics.validation,
            testMetrics: result.metrics.test,
            trials: (result.trials ?? null) as never,
            searchedParams: (result.searchedParams ?? null) as never,
            bestParams: (result.bestParams ?? null) as never,
            hasOnnx,
            endTime: new Date(),
          },
        });
        if (done.count === 0) {
          await runs.store.remove(data.runId);
          throw new PermanentJobError(`run ${data.runId} was deleted during the training`);
        }
        await logToTracking(deps, {
          session: session.name,
          sessionId: session.id,
          datasetId: session.dataset_id,
          task,
          runId: data.runId,
          runName: run.name,
          model: run.modelName,
          params: result.trained.params,
          optimizer: optimizerName,
          optimizerParams: object(run.optimizerParameters),
          goal,
          metrics: result.metrics,
          trials: result.trials,
        });
        progress(100, "Finished");
        return result.metrics;
      } catch (error) {
        const message = signal.aborted
          ? String((signal.reason as Error | undefined)?.message ?? "cancelled")
          : (error as Error).message;
        await prisma.labRun
          .updateMany({
            where: { id: data.runId },
            data: { status: RUN_STATUS.ERROR, error: message, endTime: new Date() },
          })
          .catch(() => {});
        if (error instanceof EngineError) throw new PermanentJobError(message);
        throw error;
      }
    },
  });

  return {
    jobType: "ModelJob",
    type,
    async prepare({ kwargs, file }) {
      if (file) throw ValidationError.field(["body", "file"], "ModelJob takes no file");
      const parsed = kwargsSchema.safeParse(kwargs);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw ValidationError.field(["body", "kwargs", ...issue.path.map(String)], issue.message);
      }
      const runId = parsed.data.run_id;
      const row = await prisma.labRun.findUnique({ where: { id: runId } });
      if (!row) throw new NotFoundError(`Run ${runId} not found`);
      if (row.source === "onnx")
        throw unprocessable(`Run ${runId} is an uploaded ONNX model: nothing to train`);
      if (row.status === RUN_STATUS.DELIVERED || row.status === RUN_STATUS.STARTED)
        throw new ConflictError(`Run ${runId} is already training (job ${row.jobId})`);
      const session = await sessions.get(row.sessionId);
      await datasets.columns(session.dataset_id); // 422 when the dataset is not FINISHED
      runs.checkConfig(session, {
        model_name: row.modelName,
        parameters: object(row.parameters),
        optimizer_name: row.optimizerName,
        optimizer_parameters: object(row.optimizerParameters),
        goal_metric: row.goalMetric,
      });
      return { runId };
    },
    async enqueued(data, jobId) {
      await runs.store.remove(data.runId);
      await prisma.labRun.updateMany({
        where: { id: data.runId },
        data: { ...runs.clearedResults(), status: RUN_STATUS.DELIVERED, jobId },
      });
    },
  };
}

async function logToTracking(
  deps: { tracking: TrackingRecorder | null; log: Logger },
  run: {
    session: string;
    sessionId: number;
    datasetId: number;
    task: string;
    runId: number;
    runName: string;
    model: string;
    params: Record<string, unknown>;
    optimizer: string | null;
    optimizerParams: Record<string, unknown>;
    goal: string;
    metrics: Record<string, Record<string, number | null>>;
    trials?: { number: number; value: number | null; params: Record<string, unknown> }[];
  },
): Promise<void> {
  if (!deps.tracking) return;
  const recorded = recordRun(
    deps.tracking,
    {
      project: trackingName(`lab-${run.session}`),
      name: trackingName(`${run.runId}-${run.runName}`),
      config: {
        model: run.model,
        parameters: run.params,
        optimizer: run.optimizer,
        optimizer_parameters: run.optimizer ? run.optimizerParams : null,
        goal_metric: run.optimizer ? run.goal : null,
        task: run.task,
        lab_run_id: run.runId,
        model_session_id: run.sessionId,
        dataset_id: run.datasetId,
      },
      tags: ["lab", run.model],
    },
    (message) => deps.log.warn({ tracking: message, runId: run.runId }, "lab: logging the run to tracking"),
  );
  for (const trial of run.trials ?? [])
    if (trial.value !== null) recorded.log({ [`trial/${run.goal}`]: trial.value }, { step: trial.number });
  const finals: Record<string, number> = {};
  for (const [split, values] of Object.entries(run.metrics))
    for (const [name, value] of Object.entries(values))
      if (value !== null) finals[`${split}/${name}`] = value;
  if (Object.keys(finals).length > 0) recorded.log(finals);
  await recorded.finish(0);
}
