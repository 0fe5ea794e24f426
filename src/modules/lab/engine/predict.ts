// Predictions computed from the artifact alone (the same numbers the ONNX export carries), so a model
// predicts identically in process, after a restart, and through onnxruntime.
import { EngineError } from "./errors.js";
import { type Matrix, transform } from "./preprocess.js";
import { leafOf } from "./tree.js";
import type { ModelArtifact, Predictions, Table, TrainedModel } from "./types.js";

/** The model outputs per row (row-major rows × outputs), after the link / post transform. */
export function artifactOutputs(
  artifact: ModelArtifact,
  x: Matrix,
  classCount: number,
): { outputs: number; values: Float64Array } {
  const { rows, cols } = x;
  switch (artifact.type) {
    case "linear": {
      const k = artifact.intercepts.length;
      const values = new Float64Array(rows * k);
      for (let i = 0; i < rows; i++) {
        for (let c = 0; c < k; c++) {
          let s = artifact.intercepts[c]!;
          const w = artifact.coefficients[c]!;
          for (let j = 0; j < cols; j++) s += w[j]! * x.data[i * cols + j]!;
          values[i * k + c] = s;
        }
      }
      applyLink(
        values,
        rows,
        k,
        artifact.link === "logistic" ? "logistic" : artifact.link === "softmax" ? "softmax" : "none",
      );
      return { outputs: k, values };
    }
    case "trees": {
      const k = artifact.baseValues.length;
      const values = new Float64Array(rows * k);
      for (const tree of artifact.trees) {
        for (let i = 0; i < rows; i++) {
          const leaf = tree.values[leafOf(tree, x.data, i * cols)]!;
          for (let c = 0; c < k; c++) values[i * k + c] = values[i * k + c]! + leaf[c]!;
        }
      }
      const divisor = artifact.aggregate === "average" ? Math.max(1, artifact.trees.length) : 1;
      for (let i = 0; i < rows; i++)
        for (let c = 0; c < k; c++)
          values[i * k + c] = artifact.baseValues[c]! + (artifact.scale * values[i * k + c]!) / divisor;
      applyLink(values, rows, k, artifact.postTransform);
      return { outputs: k, values };
    }
    case "knn": {
      const classification = classCount > 0;
      const k = classification ? classCount : 1;
      const values = new Float64Array(rows * k);
      const m = artifact.points.length;
      const nn = Math.min(artifact.k, m);
      const dist = new Float64Array(m);
      const order = new Int32Array(m);
      for (let i = 0; i < rows; i++) {
        for (let q = 0; q < m; q++) {
          const point = artifact.points[q]!;
          let d = 0;
          for (let j = 0; j < cols; j++) {
            const diff = point[j]! - x.data[i * cols + j]!;
            d += diff * diff;
          }
          dist[q] = Math.sqrt(d);
          order[q] = q;
        }
        // Partial selection of the nn nearest (ties: the lower index first, like a stable sort).
        const nearest = Array.from(order)
          .sort((a, b) => dist[a]! - dist[b]! || a - b)
          .slice(0, nn);
        let exact = nearest.filter((q) => dist[q] === 0);
        const use = artifact.weights === "distance" && exact.length > 0 ? exact : nearest;
        exact = [];
        let wsum = 0;
        for (const q of use) {
          const w = artifact.weights === "distance" && dist[q]! > 0 ? 1 / dist[q]! : 1;
          wsum += w;
          if (classification)
            values[i * k + artifact.targets[q]!] = values[i * k + artifact.targets[q]!]! + w;
          else values[i] = values[i]! + w * artifact.targets[q]!;
        }
        for (let c = 0; c < k; c++) values[i * k + c] = values[i * k + c]! / wsum;
      }
      return { outputs: k, values };
    }
    case "naive_bayes": {
      const k = artifact.classPriors.length;
      const values = new Float64Array(rows * k);
      for (let i = 0; i < rows; i++) {
        for (let c = 0; c < k; c++) {
          let s = Math.log(Math.max(1e-300, artifact.classPriors[c]!));
          const mean = artifact.means[c]!;
          const variance = artifact.variances[c]!;
          for (let j = 0; j < cols; j++) {
            const d = x.data[i * cols + j]! - mean[j]!;
            s -= 0.5 * Math.log(2 * Math.PI * variance[j]!) + (d * d) / (2 * variance[j]!);
          }
          values[i * k + c] = s;
        }
      }
      applyLink(values, rows, k, "softmax");
      return { outputs: k, values };
    }
    case "dummy": {
      const k = artifact.output.length;
      const values = new Float64Array(rows * k);
      for (let i = 0; i < rows; i++) for (let c = 0; c < k; c++) values[i * k + c] = artifact.output[c]!;
      return { outputs: k, values };
    }
  }
}

function applyLink(
  values: Float64Array,
  rows: number,
  k: number,
  link: "none" | "logistic" | "softmax",
): void {
  if (link === "logistic")
    for (let i = 0; i < values.length; i++) values[i] = 1 / (1 + Math.exp(-values[i]!));
  else if (link === "softmax") {
    for (let i = 0; i < rows; i++) {
      let max = -Infinity;
      for (let c = 0; c < k; c++) max = Math.max(max, values[i * k + c]!);
      let sum = 0;
      for (let c = 0; c < k; c++) {
        const e = Math.exp(values[i * k + c]! - max);
        values[i * k + c] = e;
        sum += e;
      }
      for (let c = 0; c < k; c++) values[i * k + c] = values[i * k + c]! / sum;
    }
  }
}

/** Predictions for an already preprocessed matrix. */
export function predictMatrix(trained: TrainedModel, x: Matrix): Predictions {
  const classes = trained.classes;
  if (trained.task === "RegressionTask") {
    const { outputs, values } = artifactOutputs(trained.artifact, x, 0);
    if (outputs !== 1) throw new EngineError("invalid_input", "A regression model must have one output");
    return { values };
  }
  if (!classes || classes.length === 0) throw new EngineError("invalid_input", "The model has no classes");
  const { outputs, values } = artifactOutputs(trained.artifact, x, classes.length);
  const probabilities: number[][] = [];
  const labels: string[] = [];
  for (let i = 0; i < x.rows; i++) {
    let row: number[];
    if (outputs === 1 && classes.length === 2) row = [1 - values[i]!, values[i]!];
    else if (outputs === 1) row = [1];
    else row = Array.from(values.subarray(i * outputs, (i + 1) * outputs));
    let best = 0;
    for (let c = 1; c < row.length; c++) if (row[c]! > row[best]!) best = c;
    probabilities.push(row);
    labels.push(classes[best]!);
  }
  return { labels, probabilities };
}

/** Preprocess `table` with the recorded steps, then predict every row. */
export function predict(trained: TrainedModel, table: Table): Predictions {
  return predictMatrix(trained, transform(trained.preprocessing, table));
}
