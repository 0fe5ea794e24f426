// The lab engine's data contract: the in-memory table training reads, and the trained-model artifact that
// training writes and that prediction and the ONNX exporter read. Plain data (JSON-serializable except the
// table's typed arrays), no Prisma, no tRPC: the engine is pure ML code.

/** A column's inferred (or user-chosen) type. */
export type ColumnType = "integer" | "float" | "categorical" | "text" | "boolean" | "datetime";

/**
 * One column of a table. Numeric kinds (integer, float, boolean as 0/1, datetime as epoch milliseconds) are a
 * Float64Array with NaN for a missing value; categorical and text are strings with null for a missing value.
 */
export type TableColumn =
  | { name: string; type: "integer" | "float" | "boolean" | "datetime"; values: Float64Array }
  | { name: string; type: "categorical" | "text"; values: (string | null)[] };

/** The rows training, prediction and explainers read (a dataset, or a selection of its columns). */
export interface Table {
  rowCount: number;
  columns: TableColumn[];
}

export type Task = "TabularClassificationTask" | "RegressionTask";

/**
 * One input column's step of the recorded preprocessing; the feature vector is the concatenation of the
 * steps' outputs, in order. `numeric`: a missing value becomes `fill` (the training mean), then
 * `(x - center) / scale` (center 0 and scale 1 when the model does not standardize). `onehot`: one feature
 * per category, in `categories` order; a missing or unseen value is all zeros.
 */
export type ColumnStep =
  | { kind: "numeric"; column: string; fill: number; center: number; scale: number }
  | { kind: "onehot"; column: string; categories: string[] };

export interface Preprocessing {
  /** Input columns, in the order the steps read them. */
  inputColumns: string[];
  steps: ColumnStep[];
  /** The feature names after preprocessing (`age`, `color=red`, ...), one per feature. */
  featureNames: string[];
}

/**
 * One decision tree, as parallel arrays over its nodes (node 0 is the root). An inner node sends a row left
 * when `features[row][feature[n]] <= threshold[n]` (BRANCH_LEQ), right otherwise; a leaf has `feature[n] = -1`
 * and its output vector in `values[n]` (one entry per model output).
 */
export interface TreeArrays {
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  values: number[][];
}

/**
 * The model itself. Outputs: regression has one output; classification has one output per class in
 * `classes` order, except a binary `linear` model with a `logistic` link, which has one output (the score of
 * `classes[1]`).
 * - `linear`: output_k = intercepts[k] + coefficients[k] · x, then the link (identity, logistic, softmax).
 * - `trees`: output = baseValues + scale × (sum of the trees' leaf vectors, divided by the tree count when
 *   `aggregate` is "average"), then `postTransform`. Random forest / extra trees average class
 *   probabilities (postTransform none); gradient boosting sums raw scores (logistic for binary with one
 *   output, softmax for multiclass).
 * - `knn`, `naive_bayes`, `dummy`: served in process only (no ONNX export).
 */
export type ModelArtifact =
  | {
      type: "linear";
      coefficients: number[][];
      intercepts: number[];
      link: "identity" | "logistic" | "softmax";
    }
  | {
      type: "trees";
      trees: TreeArrays[];
      aggregate: "average" | "sum";
      scale: number;
      baseValues: number[];
      postTransform: "none" | "logistic" | "softmax";
    }
  | { type: "knn"; k: number; weights: "uniform" | "distance"; points: number[][]; targets: number[] }
  | {
      type: "naive_bayes";
      classPriors: number[];
      means: number[][];
      variances: number[][];
    }
  | { type: "dummy"; output: number[] };

/** What a finished training leaves behind: enough to predict, explain and export without the training data. */
export interface TrainedModel {
  /** The component name (`RandomForestClassifier`, ...) and the parameters it was trained with. */
  model: string;
  params: Record<string, unknown>;
  task: Task;
  /** The output column. */
  target: string;
  /** Classification: the class labels, as strings, in output order. */
  classes?: string[];
  preprocessing: Preprocessing;
  artifact: ModelArtifact;
}

/** A prediction for each row: the label (classification) or the value (regression), and class probabilities. */
export interface Predictions {
  labels?: string[];
  values?: Float64Array;
  /** Classification: one row per input row, one probability per class in `classes` order. */
  probabilities?: number[][];
}
