// The risk model: training in the background (one instance at a time, through a lock in the state store),
// versions stored in the database as ONNX, served by onnxruntime-node on every instance (pub/sub tells
// them a new version exists), and the scorer the challenge service calls in its submit path.
import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { init as initTrackingRun, type Run } from "../../../../clients/ts/tracking/index.js";
import { Prisma, type PrismaClient } from "../../../generated/prisma/client.js";
import { ConflictError, ValidationError } from "../../../platform/errors.js";
import type { StateStore } from "../../../platform/state/index.js";
import { inProcessTransport } from "../../tracking/in-process.js";
import type { TrackingService } from "../../tracking/service.js";
import type { RiskScorer } from "../challenges/service.js";
import { isoDate } from "../shared.schema.js";
import {
  FEATURE_COUNT,
  FEATURE_NAMES,
  FEATURE_SET,
  featureBatch,
  featureVector,
  type SessionFeatures,
} from "./features.js";
import { accuracy, fitLogistic, logLoss, predict, rocAuc, trainTestSplit } from "./logistic.js";
import type { MlStatus, ModelInfo, ModelMetrics } from "./ml.schema.js";
import { exportLogisticOnnx, ModelRejected, OnnxRiskModel } from "./onnx.js";

export const MIN_TRAINING_SESSIONS = 100;
export const TRACKING_PROJECT = "hiveguard-risk-model";
/** Published (with the new version number) whenever a model version is stored. */
export const MODEL_CHANGED_CHANNEL = "ml:model:changed";
const LOCK_KEY = "ml:train:lock";
const STATE_KEY = "ml:training";
const LOCK_TTL_MS = 60_000;
const HEARTBEAT_MS = 15_000;
/** How often every instance checks for a newer model even without a notice (a missed message). */
const REFRESH_MS = 30_000;
const READ_BATCH = 5_000;
/** An uploaded model is evaluated on at most this many recent labeled sessions. */
const UPLOAD_EVALUATION_ROWS = 20_000;

export interface TrainingParams {
  l2: number;
  testShare: number;
  seed: number;
  maxIterations: number;
}

export const DEFAULT_TRAINING: TrainingParams = { l2: 1, testShare: 0.2, seed: 42, maxIterations: 50 };

export interface MlServiceDeps {
  prisma: PrismaClient;
  state: StateStore;
  log: Logger;
  tracking: TrackingService;
  /** Where the tracking SDK keeps operations it could not deliver (the in-process transport rarely needs it). */
  trackingQueueDir: string;
  training?: Partial<TrainingParams>;
}

interface Loaded {
  info: ModelInfo;
  model: OnnxRiskModel;
}

type TrainingState = MlStatus["training"];

export class MlService {
  private current: Loaded | null = null;
  private loading: Promise<void> = Promise.resolve();
  private failedVersions = new Set<number>();
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => Promise<void>) | null = null;
  private job: Promise<void> | null = null;
  private stopping = false;
  private readonly instance = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly params: TrainingParams;

  constructor(private readonly deps: MlServiceDeps) {
    this.params = { ...DEFAULT_TRAINING, ...deps.training };
  }

  /** Loads the newest stored model and listens for newer ones. */
  async start(): Promise<void> {
    this.unsubscribe = await this.deps.state.subscribe(MODEL_CHANGED_CHANNEL, () => void this.refresh());
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), REFRESH_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.unsubscribe?.();
    await this.job?.catch(() => {});
    await this.loading;
    await this.current?.model.release().catch(() => {});
    this.current = null;
  }

  /** The challenge service's risk hook: human confidence of a submitted session (1.0 with no model). */
  readonly scorer: RiskScorer = {
    score: async (features) => {
      const current = this.current;
      if (!current) return 1.0;
      try {
        const [score] = await current.model.score(featureBatch([features as SessionFeatures]), 1);
        return Math.min(1, Math.max(0, score!));
      } catch (error) {
        this.deps.log.warn({ err: error, version: current.info.version }, "risk model failed; scoring 1.0");
        return 1.0;
      }
    },
  };

  /** The model this instance serves (null before the first one). */
  get activeModel(): ModelInfo | null {
    return this.current?.info ?? null;
  }

  /** Scores raw feature rows with the active model (null with no model); used by tests and the bench. */
  async scoreBatch(batch: Float32Array): Promise<Float32Array | null> {
    return this.current ? this.current.model.score(batch) : null;
  }

  async status(): Promise<MlStatus> {
    const [withFeatures, labeled, lastTrained, training] = await Promise.all([
      this.deps.prisma.challengeSession.count({ where: { features: { not: Prisma.DbNull } } }),
      this.countLabeled(),
      this.deps.prisma.riskModel.findFirst({
        where: { source: "trained" },
        orderBy: { version: "desc" },
        select: { createdAt: true },
      }),
      this.trainingState(),
    ]);
    return {
      model_ready: this.current !== null,
      sessions_with_features: withFeatures,
      labeled_sessions: labeled,
      min_sessions_to_train: MIN_TRAINING_SESSIONS,
      last_trained: lastTrained ? isoDate(lastTrained.createdAt) : null,
      model: this.current?.info ?? null,
      training,
    };
  }

  /**
   * Starts a training run in the background and returns at once. 409 while one runs (on any instance:
   * the lock lives in the state store); 422 with fewer than MIN_TRAINING_SESSIONS labeled sessions.
   */
  async startTraining(): Promise<{ status: "training_started" }> {
    const labeled = await this.countLabeled();
    if (labeled < MIN_TRAINING_SESSIONS) {
      throw ValidationError.field(
        ["body"],
        `Training needs at least ${MIN_TRAINING_SESSIONS} labeled sessions (submitted challenges); there are ${labeled}, so ${MIN_TRAINING_SESSIONS - labeled} more are needed`,
        "not_enough_sessions",
      );
    }
    const runId = randomUUID();
    const acquired = await this.deps.state.set(LOCK_KEY, `${this.instance}:${runId}`, {
      ttlMs: LOCK_TTL_MS,
      ifNotExists: true,
    });
    if (!acquired) {
      const state = await this.trainingState();
      throw new ConflictError(
        `A training run is already in progress${state.started_at ? ` (started ${state.started_at})` : ""}; wait for it to finish (see GET /dashboard/api/ml/status)`,
      );
    }
    const startedAt = new Date();
    await this.writeState({
      state: "running",
      started_at: isoDate(startedAt),
      finished_at: null,
      progress: 0,
      error: null,
    });
    const heartbeat = setInterval(() => void this.deps.state.expire(LOCK_KEY, LOCK_TTL_MS), HEARTBEAT_MS);
    heartbeat.unref();
    this.job = this.train(startedAt)
      .then(async () => {
        await this.writeState({
          state: "completed",
          finished_at: isoDate(new Date()),
          progress: 1,
          error: null,
        });
      })
      .catch(async (error: unknown) => {
        this.deps.log.error({ err: error }, "risk model training failed");
        await this.writeState({
          state: "failed",
          finished_at: isoDate(new Date()),
          error: error instanceof Error ? error.message : String(error),
        }).catch(() => {});
      })
      .finally(async () => {
        clearInterval(heartbeat);
        if ((await this.deps.state.get(LOCK_KEY).catch(() => null))?.endsWith(runId))
          await this.deps.state.del(LOCK_KEY).catch(() => {});
        this.job = null;
      });
    return { status: "training_started" };
  }

  /** Resolves when this instance's running training (if any) has finished. */
  async waitForTraining(): Promise<void> {
    await this.job;
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
      const rows = await this.deps.prisma.challengeSession.findMany({
        where: { gtCorrect: { not: null }, features: { not: Prisma.DbNull } },
        orderBy: [{ createdAt: "desc" }, { id: "desc" }],
        take: UPLOAD_EVALUATION_ROWS,
        select: { features: true, gtCorrect: true },
      });
      let metrics: ModelMetrics = emptyMetrics();
      if (rows.length > 0) {
        const scores = await model.score(featureBatch(rows.map((row) => row.features as SessionFeatures)));
        const y = rows.map((row) => (row.gtCorrect ? 1 : 0));
        metrics = { ...metrics, ...evaluate(scores, y), test_sessions: rows.length };
      }
      const stored = await this.deps.prisma.riskModel.create({
        data: {
          source: "uploaded",
          onnx: new Uint8Array(bytes),
          featureNames: [...FEATURE_NAMES],
          metrics,
          trainedOn: 0,
        },
      });
      this.deps.log.info({ version: stored.version }, "risk model uploaded");
      await this.activate(stored.version, model, toInfo(stored));
      return toInfo(stored);
    } finally {
      // activate() keeps it when it became the active model; otherwise release it here
      if (this.current?.model !== model) await model.release().catch(() => {});
    }
  }

  // ── training ──────────────────────────────────────────────────────────────────────────────────────

  private async train(startedAt: Date): Promise<void> {
    const { prisma, log } = this.deps;
    const params = this.params;
    const run: Run = initTrackingRun({
      project: TRACKING_PROJECT,
      name: `train-${startedAt.toISOString().replace(/[:.]/g, "-")}`,
      config: {
        model: "logistic_regression",
        l2: params.l2,
        test_share: params.testShare,
        seed: params.seed,
        max_iterations: params.maxIterations,
        feature_set: FEATURE_SET,
        features: [...FEATURE_NAMES],
      },
      tags: ["risk-model"],
      transport: inProcessTransport(this.deps.tracking),
      queueDir: this.deps.trackingQueueDir,
      onWarning: (message) => log.warn({ tracking: message }, "tracking the training run"),
    });
    try {
      // 1. Read the labeled sessions in keyset batches (0 → 30 %).
      const total = await this.countLabeled();
      const x: number[] = [];
      const y: number[] = [];
      let cursor: { createdAt: Date; id: string } | null = null;
      for (;;) {
        if (this.stopping) throw new Error("the server is shutting down");
        const rows: { id: string; createdAt: Date; features: unknown; gtCorrect: boolean | null }[] =
          await prisma.challengeSession.findMany({
            where: {
              gtCorrect: { not: null },
              features: { not: Prisma.DbNull },
              ...(cursor && {
                OR: [
                  { createdAt: { gt: cursor.createdAt } },
                  { createdAt: cursor.createdAt, id: { gt: cursor.id } },
                ],
              }),
            },
            orderBy: [{ createdAt: "asc" }, { id: "asc" }],
            take: READ_BATCH,
            select: { id: true, createdAt: true, features: true, gtCorrect: true },
          });
        for (const row of rows) {
          x.push(...featureVector(row.features as SessionFeatures));
          y.push(row.gtCorrect ? 1 : 0);
        }
        await this.writeState({ progress: 0.3 * Math.min(1, y.length / Math.max(1, total)) });
        if (rows.length < READ_BATCH) break;
        cursor = rows.at(-1)!;
      }
      const n = y.length;
      if (n < MIN_TRAINING_SESSIONS)
        throw new Error(`only ${n} labeled sessions could be read (${MIN_TRAINING_SESSIONS} needed)`);

      // 2. Fit on the training split (30 → 90 %).
      const result = await trainOnRows(Float64Array.from(x), Float64Array.from(y), params, (i, max) => {
        if (this.stopping) throw new Error("the server is shutting down");
        void this.writeState({ progress: 0.3 + 0.6 * (i / max) });
      });
      for (const [step, loss] of result.lossByIteration.entries()) run.log({ train_loss: loss }, { step });

      // 3. Export to ONNX, check it scores as the fitted model does, store it, make it active (90 → 100 %).
      const onnxBytes = exportLogisticOnnx(result.model, { trained_on: String(n) });
      const loaded = await OnnxRiskModel.load(onnxBytes);
      const testX = Float32Array.from(result.testX);
      const onnxScores = await loaded.score(testX, result.testY.length);
      const tsScores = predict(result.model, testX, result.testY.length);
      let onnxMaxAbsDiff = 0;
      for (let i = 0; i < tsScores.length; i++)
        onnxMaxAbsDiff = Math.max(onnxMaxAbsDiff, Math.abs(tsScores[i]! - onnxScores[i]!));
      const metrics: ModelMetrics = { ...result.metrics, onnx_max_abs_diff: onnxMaxAbsDiff };
      const stored = await prisma.riskModel.create({
        data: {
          source: "trained",
          onnx: new Uint8Array(onnxBytes),
          featureNames: [...FEATURE_NAMES],
          metrics,
          trainedOn: n,
        },
      });
      log.info({ version: stored.version, metrics }, "risk model trained");
      run.setConfig({ model_version: stored.version });
      run.log(
        Object.fromEntries(
          Object.entries(metrics).filter((entry): entry is [string, number] => typeof entry[1] === "number"),
        ),
        { step: result.lossByIteration.length },
      );
      await this.activate(stored.version, loaded, toInfo(stored));
      if (this.current?.model !== loaded) await loaded.release().catch(() => {});
      await run.finish(0);
    } catch (error) {
      await run.finish(1);
      throw error;
    }
  }

  // ── serving ───────────────────────────────────────────────────────────────────────────────────────

  /** Makes a freshly stored model active here and tells the other instances. */
  private async activate(version: number, model: OnnxRiskModel, info: ModelInfo): Promise<void> {
    this.loading = this.loading.then(() => {
      if (!this.current || this.current.info.version < version) this.swap({ info, model });
    });
    await this.loading;
    await this.deps.state.publish(MODEL_CHANGED_CHANNEL, String(version));
  }

  /** Loads the newest stored version when it is newer than the active one (serialized). */
  refresh(): Promise<void> {
    this.loading = this.loading.then(async () => {
      if (this.stopping) return;
      try {
        const newest = await this.deps.prisma.riskModel.findFirst({
          orderBy: { version: "desc" },
          select: { version: true },
        });
        if (!newest || (this.current && this.current.info.version >= newest.version)) return;
        if (this.failedVersions.has(newest.version)) return;
        const row = await this.deps.prisma.riskModel.findUniqueOrThrow({
          where: { version: newest.version },
        });
        if (row.featureNames.join(",") !== FEATURE_NAMES.join(",")) {
          this.failedVersions.add(row.version);
          this.deps.log.warn(
            { version: row.version },
            "risk model was made for another feature vector; not loaded",
          );
          return;
        }
        const model = await OnnxRiskModel.load(row.onnx);
        if (this.stopping) return void (await model.release());
        this.swap({ info: toInfo(row), model });
        this.deps.log.info({ version: row.version }, "risk model loaded");
      } catch (error) {
        this.deps.log.warn({ err: error }, "loading the newest risk model failed; keeping the active one");
      }
    });
    return this.loading;
  }

  private swap(next: Loaded): void {
    const previous = this.current;
    this.current = next;
    // A submit may still be scoring with the previous session: release it a little later.
    if (previous) setTimeout(() => void previous.model.release().catch(() => {}), 10_000).unref();
  }

  // ── state ─────────────────────────────────────────────────────────────────────────────────────────

  private countLabeled(): Promise<number> {
    return this.deps.prisma.challengeSession.count({
      where: { gtCorrect: { not: null }, features: { not: Prisma.DbNull } },
    });
  }

  private async writeState(fields: Partial<TrainingState>): Promise<void> {
    const encoded: Record<string, string> = {};
    for (const [key, value] of Object.entries(fields)) encoded[key] = JSON.stringify(value);
    await this.deps.state.hset(STATE_KEY, encoded);
  }

  private async trainingState(): Promise<TrainingState> {
    const [raw, lock] = await Promise.all([
      this.deps.state.hgetall(STATE_KEY),
      this.deps.state.get(LOCK_KEY),
    ]);
    const field = <T>(name: string, fallback: T): T => (raw[name] ? (JSON.parse(raw[name]) as T) : fallback);
    const state: TrainingState = {
      state: field<TrainingState["state"]>("state", "idle"),
      started_at: field<string | null>("started_at", null),
      finished_at: field<string | null>("finished_at", null),
      progress: field<number>("progress", 0),
      error: field<string | null>("error", null),
    };
    // The instance that ran it stopped without finishing (its lock expired).
    if (state.state === "running" && lock === null) {
      return { ...state, state: "failed", error: "interrupted: the instance running the training stopped" };
    }
    return state;
  }
}

// ── the training computation, shared with the benchmark ─────────────────────────────────────────────

export interface TrainOutcome {
  model: Awaited<ReturnType<typeof fitLogistic>>["model"];
  metrics: ModelMetrics;
  lossByIteration: number[];
  testX: number[];
  testY: number[];
}

/** Splits, fits on the training part and evaluates on the held-out part. Rows: x is n × FEATURE_COUNT. */
export async function trainOnRows(
  x: Float64Array,
  y: Float64Array,
  params: TrainingParams = DEFAULT_TRAINING,
  onIteration?: (iteration: number, max: number) => void,
): Promise<TrainOutcome> {
  const d = FEATURE_COUNT;
  const n = y.length;
  const { train, test } = trainTestSplit(n, params.testShare, params.seed);
  const pick = (rows: number[]) => {
    const xs = new Float64Array(rows.length * d);
    rows.forEach((row, i) => xs.set(x.subarray(row * d, row * d + d), i * d));
    return { x: xs, y: Float64Array.from(rows, (row) => y[row]!) };
  };
  const trainSet = pick(train);
  const testSet = pick(test);
  const lossByIteration: number[] = [];
  const started = performance.now();
  const fit = await fitLogistic(
    { x: trainSet.x, y: trainSet.y, n: train.length, d },
    {
      l2: params.l2,
      maxIterations: params.maxIterations,
      onIteration,
      onLoss: (loss) => lossByIteration.push(loss / Math.max(1, train.length)),
    },
  );
  const trainingMs = performance.now() - started;
  const scores = predict(fit.model, testSet.x, test.length);
  return {
    model: fit.model,
    metrics: {
      ...emptyMetrics(),
      ...evaluate(scores, testSet.y),
      training_ms: Math.round(trainingMs * 10) / 10,
      train_sessions: train.length,
      test_sessions: test.length,
      iterations: fit.iterations,
    },
    lossByIteration,
    testX: Array.from(testSet.x),
    testY: Array.from(testSet.y),
  };
}

function evaluate(scores: ArrayLike<number>, y: ArrayLike<number>) {
  if (y.length === 0) return { accuracy: null, roc_auc: null, log_loss: null };
  const round = (value: number) => Math.round(value * 1e6) / 1e6;
  const auc = rocAuc(scores, y);
  return {
    accuracy: round(accuracy(scores, y)),
    roc_auc: auc === null ? null : round(auc),
    log_loss: round(logLoss(scores, y)),
  };
}

function emptyMetrics(): ModelMetrics {
  return {
    accuracy: null,
    roc_auc: null,
    log_loss: null,
    training_ms: null,
    train_sessions: null,
    test_sessions: null,
    iterations: null,
    onnx_max_abs_diff: null,
  };
}

function toInfo(row: {
  version: number;
  source: string;
  createdAt: Date;
  trainedOn: number;
  metrics: unknown;
}): ModelInfo {
  return {
    version: row.version,
    source: row.source === "uploaded" ? "uploaded" : "trained",
    created_at: isoDate(row.createdAt),
    trained_on: row.trainedOn,
    metrics: { ...emptyMetrics(), ...(row.metrics as Partial<ModelMetrics>) },
  };
}
