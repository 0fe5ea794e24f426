// The lab engine's public surface: pure ML code (no Prisma, tRPC, Fastify or other modules). `train`
// splits a table, fits the recorded preprocessing and a model (optionally after a hyperparameter search
// on the validation split), and scores the metrics per split; `predict` reads only the TrainedModel.
import { findComponent, OPTIMIZER_PARAMS } from "./components.js";
import { EngineError, throwIfAborted } from "./errors.js";
import type { Labels } from "./ensembles.js";
import { optimize, type Sampler, type Trial } from "./hpo.js";
import {
  classificationMetric,
  isClassificationMetric,
  isRegressionMetric,
  type MetricName,
  metricMaximize,
  regressionMetric,
} from "./metrics.js";
import { findModel, type ModelDefinition } from "./models.js";
import { resolveParams, type SearchDimension } from "./params.js";
import { predictMatrix } from "./predict.js";
import {
  column,
  encodeTarget,
  fitPreprocessing,
  type Matrix,
  targetClasses,
  transform,
} from "./preprocess.js";
import { type SplitRatios, splitRows } from "./split.js";
import type { Table, Task, TrainedModel } from "./types.js";

export * from "./types.js";
export { COMPONENTS, findComponent, type ComponentDefinition, type ComponentType } from "./components.js";
export { CancelledError, EngineError } from "./errors.js";
export type { Trial, TrialValue } from "./hpo.js";
export { classificationMetric, regressionMetric, metricMaximize, type MetricName } from "./metrics.js";
export { MODELS, type ModelDefinition, registerPluginModel, unregisterPluginModel } from "./models.js";
export type { Labels } from "./ensembles.js";
export { paramsSchema, type Localized, type ParamSpec, type ParamSpecs } from "./params.js";
export type { Matrix } from "./preprocess.js";
export { hpoPlot, parameterImportance, PLOT_TYPES, type PlotFigure, type PlotType } from "./plots.js";
export { predict, predictMatrix } from "./predict.js";
export { fitPreprocessing, transform } from "./preprocess.js";
export { splitRows, type SplitRatios, type Splits } from "./split.js";

export type SplitName = "train" | "validation" | "test";

export interface OptimizerRequest {
  /** "OptunaOptimizer" or "HyperOptOptimizer". */
  name: string;
  /** n_trials, sampler. */
  params?: Record<string, unknown>;
  /** The metric the search maximizes (or minimizes) on the validation split. */
  goalMetric: string;
}

export interface TrainRequest {
  /** The model component name (`RandomForestClassifier`, ...). */
  model: string;
  /** scikit-learn-named parameters; each a bare value or DashAI's {optimize, fixed_value, lower_bound, upper_bound, choices}. */
  params?: Record<string, unknown>;
  task: Task;
  inputColumns: string[];
  outputColumn: string;
  splits: SplitRatios;
  seed: number;
  /** Metric names for every split, or per split. Default: every metric of the task. */
  metrics?: string[] | Partial<Record<SplitName, string[]>>;
  optimizer?: OptimizerRequest | null;
}

export interface TrainOptions {
  signal?: AbortSignal;
  /** 0–100 and a message. */
  progress?: (percent: number, message: string) => void;
}

export type MetricValues = Record<string, number | null>;

export interface TrainResult {
  trained: TrainedModel;
  metrics: Record<SplitName, MetricValues>;
  /** The row indexes of each split (after dropping rows with no target). */
  splits: Record<SplitName, number[]>;
  /** With an optimizer: every trial, the searched parameter names, the best parameters retrained. */
  trials?: Trial[];
  searchedParams?: string[];
  bestParams?: Record<string, unknown>;
}

const SPLITS: SplitName[] = ["train", "validation", "test"];

function metricNames(request: TrainRequest): Record<SplitName, MetricName[]> {
  const valid = (name: string): MetricName => {
    if (
      request.task === "TabularClassificationTask" ? isClassificationMetric(name) : isRegressionMetric(name)
    )
      return name as MetricName;
    if (isClassificationMetric(name) || isRegressionMetric(name))
      throw new EngineError("invalid_input", `Metric "${name}" does not apply to ${request.task}`);
    throw new EngineError("unknown_component", `Unknown metric "${name}"`);
  };
  const all = (
    request.task === "TabularClassificationTask"
      ? ["Accuracy", "F1", "Precision", "Recall", "ROCAUC", "LogLoss", "MatthewsCorrCoef", "CohenKappa"]
      : ["MAE", "MSE", "RMSE", "R2"]
  ) as MetricName[];
  const m = request.metrics;
  const out = {} as Record<SplitName, MetricName[]>;
  for (const split of SPLITS) {
    const names = m === undefined ? all : Array.isArray(m) ? m : (m[split] ?? all);
    out[split] = names.map(valid);
  }
  return out;
}

/** Score `names` for a fitted model on preprocessed rows. */
export function scoreMetrics(
  trained: TrainedModel,
  x: Matrix,
  y: Float64Array,
  names: MetricName[],
): MetricValues {
  const out: MetricValues = {};
  if (x.rows === 0 || names.length === 0) {
    for (const name of names) out[name] = null;
    return out;
  }
  const predictions = predictMatrix(trained, x);
  for (const name of names) {
    let value: number;
    if (trained.task === "TabularClassificationTask")
      value = classificationMetric(name as never, y, predictions.probabilities!, trained.classes!.length);
    else value = regressionMetric(name as never, y, predictions.values!);
    out[name] = Number.isFinite(value) ? value : null;
  }
  return out;
}

interface Prepared {
  definition: ModelDefinition;
  trainedBase: Omit<TrainedModel, "artifact" | "params">;
  x: Record<SplitName, Matrix>;
  y: Record<SplitName, Float64Array>;
  rows: Record<SplitName, number[]>;
  labels: Labels;
}

function prepare(table: Table, request: TrainRequest): Prepared {
  const definition = findModel(request.model);
  if (definition.task !== request.task)
    throw new EngineError(
      "invalid_input",
      `Model "${request.model}" is for ${definition.task}, not ${request.task}`,
    );
  if (request.inputColumns.includes(request.outputColumn))
    throw new EngineError(
      "invalid_input",
      `Column "${request.outputColumn}" cannot be both an input and the output`,
    );
  for (const name of request.inputColumns) column(table, name);
  const allRows = Array.from({ length: table.rowCount }, (_, i) => i);
  const classification = request.task === "TabularClassificationTask";
  const classes = classification ? targetClasses(table, request.outputColumn, allRows) : undefined;
  if (classification && classes!.length < 2)
    throw new EngineError(
      "invalid_input",
      `The output column "${request.outputColumn}" needs at least two classes to train a classifier`,
    );
  const labelled = encodeTarget(table, request.outputColumn, request.task, allRows, classes);
  if (labelled.rows.length < 2)
    throw new EngineError(
      "invalid_input",
      `The output column "${request.outputColumn}" has fewer than two rows with a value`,
    );
  const parts = splitRows(
    labelled.rows,
    request.splits,
    request.seed,
    classification ? labelled.y : undefined,
  );
  const preprocessing = fitPreprocessing(table, request.inputColumns, {
    standardize: definition.standardize,
    rows: parts.train,
  });
  const x = {} as Record<SplitName, Matrix>;
  const y = {} as Record<SplitName, Float64Array>;
  for (const split of SPLITS) {
    x[split] = transform(preprocessing, table, parts[split]);
    y[split] = encodeTarget(table, request.outputColumn, request.task, parts[split], classes).y;
  }
  const labels: Labels = classification
    ? { kind: "classification", y: y.train, classCount: classes!.length }
    : { kind: "regression", y: y.train };
  return {
    definition,
    trainedBase: {
      model: definition.name,
      task: request.task,
      target: request.outputColumn,
      classes,
      preprocessing,
    },
    x,
    y,
    rows: parts,
    labels,
  };
}

function resolveOptimizer(
  optimizer: OptimizerRequest,
  task: Task,
): { nTrials: number; sampler: Sampler; goal: MetricName } {
  findComponent(optimizer.name, "Optimizer");
  const { fixed } = resolveParams(optimizer.name, OPTIMIZER_PARAMS[optimizer.name]!, optimizer.params);
  const sampler: Sampler = fixed.sampler === "RandomSampler" || fixed.sampler === "rand" ? "random" : "tpe";
  const goal = optimizer.goalMetric;
  const ok = task === "TabularClassificationTask" ? isClassificationMetric(goal) : isRegressionMetric(goal);
  if (!ok) throw new EngineError("invalid_input", `goal_metric "${goal}" is not a metric of ${task}`);
  return { nTrials: fixed.n_trials as number, sampler, goal: goal as MetricName };
}

/** Train one model on a table; see TrainRequest. Throws EngineError (422) on unusable input, CancelledError on abort. */
export function train(table: Table, request: TrainRequest, options: TrainOptions = {}): TrainResult {
  const { signal } = options;
  const progress = options.progress ?? (() => {});
  throwIfAborted(signal);
  progress(0, "Preparing the data");
  const names = metricNames(request);
  const { fixed, space } = resolveParams(request.model, findModel(request.model).params, request.params);
  const optimizer = request.optimizer ? resolveOptimizer(request.optimizer, request.task) : null;
  const prepared = prepare(table, request);
  const { definition, trainedBase, x, y, labels } = prepared;
  progress(5, "Data prepared");

  const fitWith = (
    params: Record<string, unknown>,
    ctx: { from: number; to: number; message: string },
  ): TrainedModel => {
    const artifact = definition.fit(x.train, labels, params, request.seed, {
      signal,
      progress: (fraction) => progress(ctx.from + (ctx.to - ctx.from) * fraction, ctx.message),
    });
    return { ...trainedBase, params, artifact };
  };

  let params = fixed;
  let trials: Trial[] | undefined;
  if (optimizer && space.length > 0) {
    // Score on validation; with no validation rows, on test; with neither, on train.
    const scoreSplit: SplitName = x.validation.rows > 0 ? "validation" : x.test.rows > 0 ? "test" : "train";
    const maximize = metricMaximize(optimizer.goal);
    const result = optimize(
      space,
      (trialParams) => {
        const trained = fitWith({ ...fixed, ...trialParams }, { from: 5, to: 5, message: "" });
        return (
          scoreMetrics(trained, x[scoreSplit], y[scoreSplit], [optimizer.goal])[optimizer.goal] ?? Number.NaN
        );
      },
      {
        nTrials: optimizer.nTrials,
        sampler: optimizer.sampler,
        seed: request.seed,
        maximize,
        signal,
        onTrial: (done, total, trial) =>
          progress(
            5 + (75 * done) / total,
            `Trial ${done}/${total}: ${optimizer.goal} = ${trial.value ?? "failed"}`,
          ),
      },
    );
    trials = result.trials;
    if (!result.best) {
      const last = result.trials[result.trials.length - 1];
      throw new EngineError(
        "invalid_input",
        `Every one of the ${result.trials.length} trials failed; narrow the search ranges and try again${last?.error ? ` (last error: ${last.error})` : ""}`,
      );
    }
    params = { ...fixed, ...result.best.params };
  }
  const start = trials ? 80 : 5;
  const trained = fitWith(params, {
    from: start,
    to: 95,
    message: trials ? "Retraining with the best parameters" : "Training",
  });
  throwIfAborted(signal);
  progress(95, "Scoring");
  const metrics = {} as Record<SplitName, MetricValues>;
  for (const split of SPLITS) metrics[split] = scoreMetrics(trained, x[split], y[split], names[split]);
  progress(100, "Finished");
  return {
    trained,
    metrics,
    splits: prepared.rows,
    ...(trials
      ? { trials, searchedParams: space.map((d: SearchDimension) => d.name), bestParams: params }
      : {}),
  };
}

/**
 * Checks a model's parameters (and an optimizer's) without training, as `train` would read them: throws
 * EngineError (422) naming the problem; returns the names of the parameters a search would explore.
 */
export function checkTrainConfig(
  model: string,
  task: Task,
  params: Record<string, unknown> | undefined,
  optimizer: OptimizerRequest | null | undefined,
): { searchedParams: string[] } {
  const definition = findModel(model);
  if (definition.task !== task)
    throw new EngineError("invalid_input", `Model "${model}" is for ${definition.task}, not ${task}`);
  const { space } = resolveParams(model, definition.params, params);
  if (optimizer) resolveOptimizer(optimizer, task);
  return { searchedParams: space.map((d) => d.name) };
}

/**
 * The row indexes of each split of `table`, exactly as training made them (rows without a target dropped,
 * the same seed, stratified by class for classification): what a prediction on a split reads.
 */
export function splitsOf(
  table: Table,
  request: Pick<TrainRequest, "task" | "outputColumn" | "splits" | "seed">,
): Record<SplitName, number[]> {
  const allRows = Array.from({ length: table.rowCount }, (_, i) => i);
  const classification = request.task === "TabularClassificationTask";
  const classes = classification ? targetClasses(table, request.outputColumn, allRows) : undefined;
  const labelled = encodeTarget(table, request.outputColumn, request.task, allRows, classes);
  return splitRows(labelled.rows, request.splits, request.seed, classification ? labelled.y : undefined);
}
