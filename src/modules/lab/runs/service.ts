// Runs: a model (and optionally a hyperparameter search) under a model session. CRUD, reset, the
// operations (predictions) hanging off a run, HPO plots, and the run's files (runs/store.ts). Training
// itself is a ModelJob (runs/job.ts).
import type { PrismaClient } from "../../../generated/prisma/client.js";
import { ConflictError, NotFoundError } from "../../../platform/errors.js";
import type { LabComponentService } from "../components/service.js";
import {
  checkTrainConfig,
  EngineError,
  hpoPlot,
  metricMaximize,
  type PlotType,
  type Task,
  type Trial,
} from "../engine/index.js";
import { OnnxModelRejected, OnnxPredictor } from "../engine/onnx/index.js";
import { unprocessable } from "../errors.js";
import type { LabJobService } from "../jobs/service.js";
import type { ModelSessionOut } from "../model-sessions/model-sessions.schema.js";
import type { LabModelSessionService } from "../model-sessions/service.js";
import { type LabRunOut, RUN_STATUS } from "./runs.schema.js";
import type { RunStore } from "./store.js";

export interface RunRow {
  id: number;
  sessionId: number;
  name: string;
  description: string | null;
  modelName: string;
  parameters: unknown;
  optimizerName: string | null;
  optimizerParameters: unknown;
  goalMetric: string | null;
  status: number;
  source: string;
  jobId: string | null;
  error: string | null;
  trainMetrics: unknown;
  validationMetrics: unknown;
  testMetrics: unknown;
  trials: unknown;
  searchedParams: unknown;
  bestParams: unknown;
  hasOnnx: boolean;
  startTime: Date | null;
  endTime: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

const object = (value: unknown): Record<string, unknown> =>
  value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
const metrics = (value: unknown) => (value ? (value as Record<string, number | null>) : null);

export function runOut(row: RunRow): LabRunOut {
  const searched = Array.isArray(row.searchedParams) && Array.isArray(row.trials);
  const plot = (type: string) => (searched ? `/api/v1/run/plot/${row.id}/${type}` : null);
  return {
    id: row.id,
    model_session_id: row.sessionId,
    experiment_id: row.sessionId,
    name: row.name,
    run_name: row.name,
    description: row.description,
    run_description: row.description,
    model_name: row.modelName,
    parameters: object(row.parameters),
    optimizer_name: row.optimizerName,
    optimizer_parameters: object(row.optimizerParameters),
    goal_metric: row.goalMetric,
    status: row.status,
    source: row.source === "onnx" ? "onnx" : "trained",
    job_id: row.jobId,
    error: row.error,
    train_metrics: metrics(row.trainMetrics),
    validation_metrics: metrics(row.validationMetrics),
    test_metrics: metrics(row.testMetrics),
    best_parameters: row.bestParams ? object(row.bestParams) : null,
    trials: Array.isArray(row.trials) ? (row.trials as LabRunOut["trials"]) : null,
    plot_history_path: plot("history"),
    plot_slice_path: plot("slice"),
    plot_contour_path: plot("contour"),
    plot_importance_path: plot("importance"),
    onnx_path: row.hasOnnx ? `/api/v1/run/${row.id}/onnx` : null,
    start_time: row.startTime?.toISOString() ?? null,
    end_time: row.endTime?.toISOString() ?? null,
    created: row.createdAt.toISOString(),
    last_modified: row.updatedAt.toISOString(),
  };
}

export interface RunConfigInput {
  model_name: string;
  parameters: Record<string, unknown>;
  optimizer_name?: string | null;
  optimizer_parameters?: Record<string, unknown> | null;
  goal_metric?: string | null;
}

const BUSY = new Set<number>([RUN_STATUS.DELIVERED, RUN_STATUS.STARTED]);

/** The task's default goal metric for a search. */
export const defaultGoal = (task: string) => (task === "RegressionTask" ? "R2" : "Accuracy");

/** What the runs need of the explainers (set once the explainers service exists: it needs the runs). */
interface RunExplainers {
  count(runId: number): Promise<number>;
  deleteForRun(runId: number): Promise<void>;
}

export class LabRunService {
  explainers: RunExplainers | null = null;

  constructor(
    private readonly prisma: PrismaClient,
    readonly store: RunStore,
    private readonly sessions: LabModelSessionService,
    private readonly components: LabComponentService,
    private readonly jobs: LabJobService,
  ) {}

  async list(sessionId?: number): Promise<LabRunOut[]> {
    if (sessionId !== undefined) await this.sessions.get(sessionId);
    const rows = await this.prisma.labRun.findMany({
      where: sessionId === undefined ? {} : { sessionId },
      orderBy: { id: "asc" },
    });
    return Promise.all(rows.map(async (row) => runOut(await this.reconcile(row))));
  }

  async row(id: number): Promise<RunRow> {
    const row = await this.prisma.labRun.findUnique({ where: { id } });
    if (!row) throw new NotFoundError(`Run ${id} not found`);
    return this.reconcile(row);
  }

  /**
   * A training whose job ended without reaching the run (cancelled while queued, its worker lost) leaves the
   * row DELIVERED/STARTED: seen from the job's state, it becomes ERROR.
   */
  private async reconcile(row: RunRow): Promise<RunRow> {
    if (!BUSY.has(row.status) || !row.jobId) return row;
    const state = await this.jobs.state(row.jobId);
    if (state !== "failed" && state !== "cancelled" && state !== null) return row;
    const error =
      state === "cancelled" ? "the training was cancelled" : "the training job ended without finishing";
    const updated = await this.prisma.labRun.updateMany({
      where: { id: row.id, status: row.status, jobId: row.jobId },
      data: { status: RUN_STATUS.ERROR, error },
    });
    if (updated.count > 0) return { ...row, status: RUN_STATUS.ERROR, error };
    // Changed meanwhile (the job's own ending wrote it): read it again.
    return (await this.prisma.labRun.findUnique({ where: { id: row.id } })) ?? row;
  }

  async get(id: number): Promise<LabRunOut> {
    return runOut(await this.row(id));
  }

  /** Checks a run's model, parameters and optimizer against its session's task (422 naming the problem). */
  checkConfig(session: ModelSessionOut, input: RunConfigInput) {
    const model = this.components.find(input.model_name, "Model");
    if (!model) throw unprocessable(`Unknown model "${input.model_name}"`);
    const optimizerName = input.optimizer_name || null;
    if (optimizerName && !this.components.find(optimizerName, "Optimizer"))
      throw unprocessable(`Unknown optimizer "${optimizerName}"`);
    try {
      return checkTrainConfig(
        input.model_name,
        session.task_name as Task,
        input.parameters,
        optimizerName
          ? {
              name: optimizerName,
              params: input.optimizer_parameters ?? {},
              goalMetric: input.goal_metric || defaultGoal(session.task_name),
            }
          : null,
      );
    } catch (error) {
      if (error instanceof EngineError) throw unprocessable(error.message);
      throw error;
    }
  }

  async create(
    input: RunConfigInput & { model_session_id: number; name: string; description?: string | null },
  ) {
    const session = await this.sessions.get(input.model_session_id);
    this.checkConfig(session, input);
    const row = await this.prisma.labRun.create({
      data: {
        sessionId: session.id,
        name: input.name,
        description: input.description ?? null,
        modelName: input.model_name,
        parameters: input.parameters as object,
        optimizerName: input.optimizer_name || null,
        optimizerParameters: (input.optimizer_parameters ?? {}) as object,
        goalMetric: input.goal_metric || null,
      },
    });
    return runOut(row);
  }

  async update(
    id: number,
    patch: {
      name?: string;
      description?: string | null;
      parameters?: Record<string, unknown>;
      optimizer_name?: string | null;
      optimizer_parameters?: Record<string, unknown> | null;
      goal_metric?: string | null;
    },
  ): Promise<LabRunOut> {
    const row = await this.row(id);
    const configChanged =
      patch.parameters !== undefined ||
      patch.optimizer_name !== undefined ||
      patch.optimizer_parameters !== undefined ||
      patch.goal_metric !== undefined;
    if (configChanged) {
      if (BUSY.has(row.status)) throw new ConflictError(`Run ${id} is training; cancel its job first`);
      if (row.source === "onnx") throw unprocessable("An uploaded ONNX run has no parameters to change");
      const session = await this.sessions.get(row.sessionId);
      this.checkConfig(session, {
        model_name: row.modelName,
        parameters: patch.parameters ?? object(row.parameters),
        optimizer_name: patch.optimizer_name !== undefined ? patch.optimizer_name : row.optimizerName,
        optimizer_parameters:
          patch.optimizer_parameters !== undefined
            ? patch.optimizer_parameters
            : object(row.optimizerParameters),
        goal_metric: patch.goal_metric !== undefined ? patch.goal_metric : row.goalMetric,
      });
    }
    const data: Record<string, unknown> = {};
    if (patch.name !== undefined) data.name = patch.name;
    if (patch.description !== undefined) data.description = patch.description;
    if (patch.parameters !== undefined) data.parameters = patch.parameters;
    if (patch.optimizer_name !== undefined) data.optimizerName = patch.optimizer_name || null;
    if (patch.optimizer_parameters !== undefined) data.optimizerParameters = patch.optimizer_parameters ?? {};
    if (patch.goal_metric !== undefined) data.goalMetric = patch.goal_metric || null;
    // A trained run whose configuration changes no longer describes its model: back to NOT_STARTED.
    if (configChanged && row.status !== RUN_STATUS.NOT_STARTED) {
      Object.assign(data, this.clearedResults());
      await this.store.remove(id);
    }
    const updated = await this.prisma.labRun.update({ where: { id }, data });
    return runOut(updated);
  }

  clearedResults() {
    return {
      status: RUN_STATUS.NOT_STARTED,
      error: null,
      jobId: null,
      trainMetrics: null as never,
      validationMetrics: null as never,
      testMetrics: null as never,
      trials: null as never,
      searchedParams: null as never,
      bestParams: null as never,
      hasOnnx: false,
      startTime: null,
      endTime: null,
    };
  }

  /** Back to NOT_STARTED: results and the trained model removed (an uploaded ONNX run keeps its model). */
  async reset(id: number): Promise<LabRunOut> {
    const row = await this.row(id);
    if (row.source === "onnx") return runOut(row);
    if (BUSY.has(row.status) && row.jobId) await this.jobs.cancel(row.jobId).catch(() => {});
    await this.store.remove(id);
    const updated = await this.prisma.labRun.update({ where: { id }, data: this.clearedResults() });
    return runOut(updated);
  }

  async delete(id: number): Promise<void> {
    const row = await this.row(id);
    if (BUSY.has(row.status) && row.jobId) await this.jobs.cancel(row.jobId).catch(() => {});
    await this.deleteOperations(id);
    await this.prisma.labRun.deleteMany({ where: { id } });
    await this.store.remove(id);
  }

  async operationsCount(id: number): Promise<{ explainers: number; predictions: number }> {
    await this.row(id);
    return {
      explainers: (await this.explainers?.count(id)) ?? 0,
      predictions: await this.prisma.labPrediction.count({ where: { runId: id } }),
    };
  }

  /** Deletes the run's predictions and explainers, their files and any job still running. */
  async deleteOperations(id: number): Promise<void> {
    await this.row(id);
    await this.explainers?.deleteForRun(id);
    const predictions = await this.prisma.labPrediction.findMany({ where: { runId: id } });
    for (const prediction of predictions) {
      if (BUSY.has(prediction.status) && prediction.jobId)
        await this.jobs.cancel(prediction.jobId).catch(() => {});
      await this.store.removePrediction(prediction.id);
    }
    await this.prisma.labPrediction.deleteMany({ where: { runId: id } });
  }

  /** The run's .onnx file (404 when the run is unknown or has none). */
  async onnxFile(id: number): Promise<Buffer> {
    const row = await this.row(id);
    const bytes = row.hasOnnx ? await this.store.onnx(id) : null;
    if (!bytes) throw new NotFoundError(`Run ${id} has no ONNX file`);
    return bytes;
  }

  /**
   * A user's own ONNX model as a run of a session: loaded with onnxruntime-node and bound to the session's
   * input columns, its outputs checked against the session's task (422 with the reason otherwise). The run is
   * FINISHED at once (nothing to train) and predicts through the same routes as a trained run.
   */
  async uploadOnnx(input: {
    sessionId: number;
    name: string;
    description: string | null;
    classes?: string[];
    fileName: string;
    bytes: Buffer;
  }): Promise<LabRunOut> {
    const session = await this.sessions.get(input.sessionId);
    let predictor: OnnxPredictor;
    try {
      predictor = await OnnxPredictor.load(input.bytes, session.input_columns, {
        inputColumns: session.input_columns,
        classes: input.classes,
      });
    } catch (error) {
      if (error instanceof OnnxModelRejected) throw unprocessable(`Unusable ONNX model: ${error.message}`);
      throw error;
    }
    const classifier = predictor.isClassifier;
    const classes = predictor.classes;
    const model = predictor.metadata.model;
    await predictor.release();
    if (session.task_name === "TabularClassificationTask" && !classifier)
      throw unprocessable(
        "Unusable ONNX model: it has no label or probability output, and the session's task is TabularClassificationTask",
      );
    if (session.task_name === "RegressionTask" && classifier)
      throw unprocessable(
        "Unusable ONNX model: it outputs labels or probabilities, and the session's task is RegressionTask",
      );
    const now = new Date();
    const row = await this.prisma.labRun.create({
      data: {
        sessionId: session.id,
        name: input.name,
        description: input.description,
        modelName: model ? `ONNX (${model})` : "ONNXModel",
        parameters: { file_name: input.fileName, ...(classes ? { classes } : {}) },
        source: "onnx",
        status: RUN_STATUS.FINISHED,
        hasOnnx: true,
        startTime: now,
        endTime: now,
      },
    });
    try {
      await this.store.saveOnnx(row.id, input.bytes);
    } catch (error) {
      await this.prisma.labRun.deleteMany({ where: { id: row.id } });
      throw error;
    }
    return runOut(row);
  }

  /** A hyperparameter-search plot (Plotly JSON); 422 when the run made no search or has too few parameters. */
  async plot(id: number, type: PlotType) {
    const row = await this.row(id);
    if (!Array.isArray(row.trials) || !Array.isArray(row.searchedParams))
      throw unprocessable(
        row.status === RUN_STATUS.FINISHED
          ? `Run ${id} made no hyperparameter search (no optimizer, or no parameter with optimize: true)`
          : `Run ${id} has not finished training`,
      );
    const goal = row.goalMetric ?? defaultGoal((await this.sessions.get(row.sessionId)).task_name);
    try {
      return hpoPlot(type, {
        trials: row.trials as Trial[],
        paramNames: row.searchedParams as string[],
        metric: goal,
        maximize: metricMaximize(goal as never),
      });
    } catch (error) {
      if (error instanceof EngineError) throw unprocessable(error.message);
      throw error;
    }
  }
}
