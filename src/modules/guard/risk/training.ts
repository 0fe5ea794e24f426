// Training: a job on the platform queue (src/platform/jobs.ts), so it runs on any instance's worker or a
// separate `hiveguard worker` process, reports progress, stops when cancelled or at shutdown, and is
// retried (with backoff) when the process running it died. One run at a time across all instances: the
// job type is exclusive. The fit itself (`trainOnRows`) is pure and shared with the benchmark.
import type { Logger } from "pino";
import { defineJob, PermanentJobError } from "../../../platform/jobs.js";
import { type RecordedRun, recordRun, type TrackingRecorder } from "../../tracking/index.js";
import { FEATURE_COUNT, FEATURE_NAMES, FEATURE_SET, featureVector } from "./features.js";
import { accuracy, fitLogistic, logLoss, predict, rocAuc, trainTestSplit } from "./logistic.js";
import type { ModelInfo, ModelMetrics } from "./ml.schema.js";
import { exportLogisticOnnx, OnnxRiskModel } from "./onnx.js";
import { emptyMetrics, type RiskModelRegistry } from "./registry.js";
import type { RiskModelServing } from "./serving.js";

export const MIN_TRAINING_SESSIONS = 100;
export const TRACKING_PROJECT = "hiveguard-risk-model";
/** The job type's name (the queue in the database). */
export const TRAINING_JOB = "guard.risk.train";
const READ_BATCH = 5_000;

export interface TrainingParams {
  l2: number;
  testShare: number;
  seed: number;
  maxIterations: number;
}

export const DEFAULT_TRAINING: TrainingParams = { l2: 1, testShare: 0.2, seed: 42, maxIterations: 50 };

export interface TrainingJobDeps {
  registry: RiskModelRegistry;
  serving: RiskModelServing;
  /** Each training is logged as a run of project `hiveguard-risk-model`. */
  tracking: TrackingRecorder;
  log: Logger;
  params?: Partial<TrainingParams>;
}

/** The training job type: reads the labeled sessions, fits, exports to ONNX, stores and activates it. */
export function trainingJob(deps: TrainingJobDeps) {
  const params = { ...DEFAULT_TRAINING, ...deps.params };
  return defineJob<Record<string, never>, { version: number }>({
    name: TRAINING_JOB,
    exclusive: true,
    // Safe to run again: it reads, fits and stores a new version at the very end.
    retry: { limit: 2, delaySeconds: 5, backoff: true },
    timeoutSeconds: 3600,
    run: async ({ signal, progress, log }) => {
      const info = await train(deps, params, signal, progress, log);
      return { version: info.version };
    },
  });
}

async function train(
  deps: TrainingJobDeps,
  params: TrainingParams,
  signal: AbortSignal,
  progress: (percent: number, message?: string) => void,
  log: Logger,
): Promise<ModelInfo> {
  const startedAt = new Date();
  const run: RecordedRun = recordRun(
    deps.tracking,
    {
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
    },
    (message) => log.warn({ tracking: message }, "tracking the training run"),
  );
  try {
    // 1. Read the labeled sessions in keyset batches (0 → 30 %).
    progress(0, "reading labeled sessions");
    const total = await deps.registry.countLabeled();
    const x: number[] = [];
    const y: number[] = [];
    for await (const batch of deps.registry.readLabeled(READ_BATCH)) {
      signal.throwIfAborted();
      for (const row of batch) {
        x.push(...featureVector(row.features));
        y.push(row.human ? 1 : 0);
      }
      progress(30 * Math.min(1, y.length / Math.max(1, total)), `read ${y.length} of ${total} sessions`);
    }
    const n = y.length;
    if (n < MIN_TRAINING_SESSIONS)
      throw new PermanentJobError(
        `only ${n} labeled sessions could be read (${MIN_TRAINING_SESSIONS} needed)`,
      );

    // 2. Fit on the training split (30 → 90 %).
    const result = await trainOnRows(Float64Array.from(x), Float64Array.from(y), params, (i, max) => {
      signal.throwIfAborted();
      progress(30 + 60 * (i / max), `fitting: iteration ${i} of at most ${max}`);
    });
    for (const [step, loss] of result.lossByIteration.entries()) run.log({ train_loss: loss }, { step });

    // 3. Export to ONNX, check it scores as the fitted model does, store it, make it active (90 → 100 %).
    progress(90, "exporting to ONNX");
    const onnxBytes = exportLogisticOnnx(result.model, { trained_on: String(n) });
    const loaded = await OnnxRiskModel.load(onnxBytes);
    try {
      const testX = Float32Array.from(result.testX);
      const onnxScores = await loaded.score(testX, result.testY.length);
      const tsScores = predict(result.model, testX, result.testY.length);
      let onnxMaxAbsDiff = 0;
      for (let i = 0; i < tsScores.length; i++)
        onnxMaxAbsDiff = Math.max(onnxMaxAbsDiff, Math.abs(tsScores[i]! - onnxScores[i]!));
      const metrics: ModelMetrics = { ...result.metrics, onnx_max_abs_diff: onnxMaxAbsDiff };
      signal.throwIfAborted();
      const info = await deps.registry.store({ source: "trained", onnx: onnxBytes, metrics, trainedOn: n });
      log.info({ version: info.version, metrics }, "risk model trained");
      run.setConfig({ model_version: info.version });
      run.log(
        Object.fromEntries(
          Object.entries(metrics).filter((entry): entry is [string, number] => typeof entry[1] === "number"),
        ),
        { step: result.lossByIteration.length },
      );
      await deps.serving.activate(loaded, info);
      progress(100, `stored as version ${info.version}`);
      await run.finish(0);
      return info;
    } finally {
      if (!deps.serving.isActive(loaded)) await loaded.release().catch(() => {});
    }
  } catch (error) {
    await run.finish(1);
    throw error;
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

export function evaluate(scores: ArrayLike<number>, y: ArrayLike<number>) {
  if (y.length === 0) return { accuracy: null, roc_auc: null, log_loss: null };
  const round = (value: number) => Math.round(value * 1e6) / 1e6;
  const auc = rocAuc(scores, y);
  return {
    accuracy: round(accuracy(scores, y)),
    roc_auc: auc === null ? null : round(auc),
    log_loss: round(logLoss(scores, y)),
  };
}
