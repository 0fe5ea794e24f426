// What the explainers read: a model as a function from a table (the raw input columns) to its outputs, so
// the same explainer code serves an in-process model (the engine's TrainedModel) and an ONNX-served one.
import { EngineError, throwIfAborted } from "../errors.js";
import type { OnnxPredictor } from "../onnx/predictor.js";
import { predict } from "../predict.js";
import type { Predictions, Table, TableColumn, Task, TrainedModel } from "../types.js";

/** Row-major outputs: regression one value per row, classification one probability per class. */
export interface ModelOutputs {
  outputs: number;
  values: Float64Array;
}

export interface ExplainableModel {
  task: Task;
  /** Classification: class labels in output order. */
  classes?: string[];
  /** The raw columns the model reads. */
  inputColumns: string[];
  /** The output column (names a regression's output). */
  target?: string;
  predict(table: Table): Promise<ModelOutputs>;
}

/** The names of the outputs (the class labels, or the target's name for regression). */
export function outputNames(model: ExplainableModel): string[] {
  return model.task === "RegressionTask" ? [model.target ?? "prediction"] : model.classes!;
}

function outputsOf(p: Predictions, task: Task, rows: number): ModelOutputs {
  if (task === "RegressionTask") {
    if (!p.values) throw new EngineError("invalid_input", "The model gives no regression value");
    return { outputs: 1, values: p.values };
  }
  if (!p.probabilities)
    throw new EngineError("invalid_input", "The model gives no class probabilities to explain");
  const k = p.probabilities[0]?.length ?? 0;
  const values = new Float64Array(rows * k);
  for (let i = 0; i < rows; i++) {
    const row = p.probabilities[i]!;
    for (let c = 0; c < k; c++) values[i * k + c] = row[c]!;
  }
  return { outputs: k, values };
}

/** A model trained in process (predict.ts: the recorded preprocessing, then the artifact). */
export function inProcessModel(trained: TrainedModel): ExplainableModel {
  return {
    task: trained.task,
    classes: trained.classes,
    inputColumns: trained.preprocessing.inputColumns,
    target: trained.target,
    predict: async (table) => outputsOf(predict(trained, table), trained.task, table.rowCount),
  };
}

/** A model served by onnxruntime (the run's .onnx file). */
export function onnxModel(
  predictor: OnnxPredictor,
  task: Task,
  inputColumns: string[],
  target: string,
  classes?: string[],
): ExplainableModel {
  const known = classes ?? predictor.classes;
  if (task === "TabularClassificationTask" && !known)
    throw new EngineError("invalid_input", "The ONNX model's classes are unknown: it cannot be explained");
  return {
    task,
    classes: known,
    inputColumns,
    target,
    predict: async (table) => outputsOf(await predictor.predict(table), task, table.rowCount),
  };
}

/** The rows `rows` of `table`, repeated `times` times (a new table; columns copied). */
export function takeRows(table: Table, rows: ArrayLike<number>, times = 1): Table {
  const n = rows.length;
  const columns = table.columns.map((col): TableColumn => {
    if (col.values instanceof Float64Array) {
      const values = new Float64Array(n * times);
      for (let r = 0; r < times; r++) for (let i = 0; i < n; i++) values[r * n + i] = col.values[rows[i]!]!;
      return { ...col, values } as TableColumn;
    }
    const source = col.values as (string | null)[];
    const values = new Array<string | null>(n * times);
    for (let r = 0; r < times; r++) for (let i = 0; i < n; i++) values[r * n + i] = source[rows[i]!] ?? null;
    return { ...col, values } as TableColumn;
  });
  return { rowCount: n * times, columns };
}

/** Index of a column, or a 422 naming it. */
export function columnIndex(table: Table, name: string): number {
  const index = table.columns.findIndex((c) => c.name === name);
  if (index < 0) throw new EngineError("invalid_input", `Column "${name}" is not in the data`);
  return index;
}

/** Between batches: stop when cancelled, and let the event loop breathe (heartbeats, the cancel itself). */
export async function pause(signal: AbortSignal | undefined): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
  throwIfAborted(signal);
}
