// The risk model as the rest of the app sees it: status, training on request, uploads, and the scorer the
// challenge service calls in its submit path. The concerns live apart:
// - registry.ts: versions stored in the database (the newest is the active one), the sessions training reads;
// - serving.ts: the in-memory ONNX scorer, replicated across instances over pub/sub;
// - training.ts: the training job on the platform queue (one run at a time: an exclusive job type).
import type { Logger } from "pino";
import type { PrismaClient } from "../../../generated/prisma/client.js";
import { ConflictError, ValidationError } from "../../../platform/errors.js";
import { JobConflictError, type JobQueue, type JobStatus } from "../../../platform/jobs.js";
import type { StateStore } from "../../../platform/state/index.js";
import type { TrackingRecorder } from "../../tracking/index.js";
import type { RiskScorer } from "../challenges/service.js";
import { isoDate } from "../shared.schema.js";
import { featureBatch } from "./features.js";
import type { MlStatus, ModelInfo, ModelMetrics } from "./ml.schema.js";
import { ModelRejected, OnnxRiskModel } from "./onnx.js";
import { emptyMetrics, RiskModelRegistry } from "./registry.js";
import { RiskModelServing } from "./serving.js";
import { evaluate, MIN_TRAINING_SESSIONS, type TrainingParams, trainingJob } from "./training.js";

export { MODEL_CHANGED_CHANNEL } from "./serving.js";
export {
  DEFAULT_TRAINING,
  MIN_TRAINING_SESSIONS,
  TRACKING_PROJECT,
  TRAINING_JOB,
  type TrainingParams,
  trainOnRows,
} from "./training.js";

/** An uploaded model is evaluated on at most this many recent labeled sessions. */
const UPLOAD_EVALUATION_ROWS = 20_000;

export interface RiskModelServiceDeps {
  prisma: PrismaClient;
  state: StateStore;
  log: Logger;
  tracking: TrackingRecorder;
  /** The platform job queue; the training job type is registered on it here (before it starts). */
  jobs: JobQueue;
  training?: Partial<TrainingParams>;
}

type TrainingState = MlStatus["training"];

export class RiskModelService {
  readonly registry: RiskModelRegistry;
  readonly serving: RiskModelServing;
  readonly trainingJob: ReturnType<typeof trainingJob>;

  constructor(private readonly deps: RiskModelServiceDeps) {
    this.registry = new RiskModelRegistry(deps.prisma);
    this.serving = new RiskModelServing({ registry: this.registry, state: deps.state, log: deps.log });
    this.trainingJob = trainingJob({
      registry: this.registry,
      serving: this.serving,
      tracking: deps.tracking,
      log: deps.log,
      params: deps.training,
    });
    deps.jobs.register(this.trainingJob);
  }

  /** Loads the newest stored model and listens for newer ones. */
  start(): Promise<void> {
    return this.serving.start();
  }

  stop(): Promise<void> {
    return this.serving.stop();
  }

  /** The challenge service's risk hook: human confidence of a submitted session (1.0 with no model). */
  get scorer(): RiskScorer {
    return this.serving.scorer;
  }

  /** The model this instance serves (null before the first one). */
  get activeModel(): ModelInfo | null {
    return this.serving.activeModel;
  }

  /** Scores raw feature rows with the active model (null with no model); used by tests and the bench. */
  scoreBatch(batch: Float32Array): Promise<Float32Array | null> {
    return this.serving.scoreBatch(batch);
  }

  async status(): Promise<MlStatus> {
    const [withFeatures, labeled, lastTrained, latest] = await Promise.all([
      this.registry.countWithFeatures(),
      this.registry.countLabeled(),
      this.registry.lastTrainedAt(),
      this.deps.jobs.latest(this.trainingJob.name),
    ]);
    return {
      model_ready: this.serving.activeModel !== null,
      sessions_with_features: withFeatures,
      labeled_sessions: labeled,
      min_sessions_to_train: MIN_TRAINING_SESSIONS,
      last_trained: lastTrained ? isoDate(lastTrained) : null,
      model: this.serving.activeModel,
      training: trainingState(latest),
    };
  }

  /**
   * Queues a training run and returns at once. 409 while one is queued or runs (on any instance: the job
   * type is exclusive); 422 with fewer than MIN_TRAINING_SESSIONS labeled sessions.
   */
  async startTraining(): Promise<{ status: "training_started" }> {
    const labeled = await this.registry.countLabeled();
    if (labeled < MIN_TRAINING_SESSIONS) {
      throw ValidationError.field(
        ["body"],
        `Training needs at least ${MIN_TRAINING_SESSIONS} labeled sessions (submitted challenges); there are ${labeled}, so ${MIN_TRAINING_SESSIONS - labeled} more are needed`,
        "not_enough_sessions",
      );
    }
    try {
      await this.deps.jobs.enqueue(this.trainingJob, {});
    } catch (error) {
      if (!(error instanceof JobConflictError)) throw error;
      const started = error.existing.startedAt ?? error.existing.createdAt;
      throw new ConflictError(
        `A training run is already in progress (started ${isoDate(started)}); wait for it to finish (see GET /dashboard/api/ml/status)`,
      );
    }
    return { status: "training_started" };
  }

  /**
   * Validates an ONNX file (loads it in onnxruntime-node, scores a probe batch), evaluates it on recent
   * labeled sessions, stores it as the newest version and makes it active everywhere. A file that fails any
   * check is refused with 422 and the active model is unchanged.
   */
  async uploadModel(bytes: Uint8Array): Promise<ModelInfo> {
    if (bytes.length === 0)
      throw ValidationError.field(["body"], "empty body: send the ONNX file", "onnx_invalid");
    let model: OnnxRiskModel;
    try {
      model = await OnnxRiskModel.load(bytes);
    } catch (error) {
      if (error instanceof ModelRejected)
        throw ValidationError.field(["body"], error.message, "onnx_invalid");
      throw error;
    }
    try {
      const rows = await this.registry.recentLabeled(UPLOAD_EVALUATION_ROWS);
      let metrics: ModelMetrics = emptyMetrics();
      if (rows.length > 0) {
        const scores = await model.score(featureBatch(rows.map((row) => row.features)));
        const y = rows.map((row) => (row.human ? 1 : 0));
        metrics = { ...metrics, ...evaluate(scores, y), test_sessions: rows.length };
      }
      const info = await this.registry.store({ source: "uploaded", onnx: bytes, metrics, trainedOn: 0 });
      this.deps.log.info({ version: info.version }, "risk model uploaded");
      await this.serving.activate(model, info);
      return info;
    } finally {
      // activate() keeps it when it became the active model; otherwise release it here
      if (!this.serving.isActive(model)) await model.release().catch(() => {});
    }
  }
}

/** The latest training job as the documented `training` object (progress 0–1). */
function trainingState(job: JobStatus | null): TrainingState {
  if (!job) return { state: "idle", started_at: null, finished_at: null, progress: 0, error: null };
  const startedAt = isoDate(job.startedAt ?? job.createdAt);
  const finishedAt = job.finishedAt ? isoDate(job.finishedAt) : null;
  const progress = Math.min(1, Math.max(0, job.progress / 100));
  switch (job.state) {
    case "completed":
      return { state: "completed", started_at: startedAt, finished_at: finishedAt, progress: 1, error: null };
    case "failed":
    case "cancelled":
      return { state: "failed", started_at: startedAt, finished_at: finishedAt, progress, error: job.error };
    default:
      // queued, running, or waiting for a retry after its worker stopped
      return { state: "running", started_at: startedAt, finished_at: null, progress, error: null };
  }
}
