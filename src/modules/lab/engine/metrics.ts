// Metrics, defined as scikit-learn defines them (docs/lab-engine.md). Classification metrics read the true
// class indexes and the predicted probabilities (the predicted label is the most probable class);
// F1, Precision and Recall are binary (positive class = the second class in sorted order, like
// scikit-learn's pos_label=1) for two classes and macro averages for more; ROC-AUC is one-vs-rest macro
// for more than two classes.

export type ClassificationMetricName =
  "Accuracy" | "F1" | "Precision" | "Recall" | "ROCAUC" | "LogLoss" | "MatthewsCorrCoef" | "CohenKappa";
export type RegressionMetricName = "MAE" | "MSE" | "RMSE" | "R2";
export type MetricName = ClassificationMetricName | RegressionMetricName;

export const CLASSIFICATION_METRICS: ClassificationMetricName[] = [
  "Accuracy",
  "F1",
  "Precision",
  "Recall",
  "ROCAUC",
  "LogLoss",
  "MatthewsCorrCoef",
  "CohenKappa",
];
export const REGRESSION_METRICS: RegressionMetricName[] = ["MAE", "MSE", "RMSE", "R2"];

/** Whether a larger value is better (the optimizer's direction). */
export function metricMaximize(name: MetricName): boolean {
  return !["LogLoss", "MAE", "MSE", "RMSE"].includes(name);
}

function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let c = 1; c < row.length; c++) if (row[c]! > row[best]!) best = c;
  return best;
}

/** confusion[t][p] */
export function confusionMatrix(
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
  classCount: number,
): number[][] {
  const m = Array.from({ length: classCount }, () => new Array<number>(classCount).fill(0));
  for (let i = 0; i < yTrue.length; i++) {
    const row = m[yTrue[i]!]!;
    row[yPred[i]!] = row[yPred[i]!]! + 1;
  }
  return m;
}

function precisionRecall(m: number[][], c: number): { precision: number; recall: number; f1: number } {
  const k = m.length;
  const tp = m[c]![c]!;
  let predicted = 0;
  let actual = 0;
  for (let i = 0; i < k; i++) {
    predicted += m[i]![c]!;
    actual += m[c]![i]!;
  }
  const precision = predicted > 0 ? tp / predicted : 0;
  const recall = actual > 0 ? tp / actual : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1 };
}

/** Area under the ROC curve of scores for a binary truth (ties get average ranks, Mann-Whitney U). */
export function binaryAuc(positive: ArrayLike<boolean>, scores: ArrayLike<number>): number {
  const n = scores.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let rankSumPos = 0;
  let nPos = 0;
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let q = i; q <= j; q++)
      if (positive[order[q]!]) {
        rankSumPos += rank;
        nPos++;
      }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) return Number.NaN;
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

export function classificationMetric(
  name: ClassificationMetricName,
  yTrue: ArrayLike<number>,
  probabilities: ArrayLike<number>[],
  classCount: number,
): number {
  const n = yTrue.length;
  if (n === 0) return Number.NaN;
  const yPred = probabilities.map(argmax);
  const m = confusionMatrix(yTrue, yPred, classCount);
  const binary = classCount === 2;
  switch (name) {
    case "Accuracy": {
      let correct = 0;
      for (let i = 0; i < n; i++) if (yTrue[i] === yPred[i]) correct++;
      return correct / n;
    }
    case "F1":
    case "Precision":
    case "Recall": {
      const key = name === "F1" ? "f1" : name === "Precision" ? "precision" : "recall";
      if (binary) return precisionRecall(m, 1)[key];
      let s = 0;
      for (let c = 0; c < classCount; c++) s += precisionRecall(m, c)[key];
      return s / classCount;
    }
    case "ROCAUC": {
      if (binary)
        return binaryAuc(
          Array.from({ length: n }, (_, i) => yTrue[i] === 1),
          probabilities.map((p) => p[1]!),
        );
      let s = 0;
      let used = 0;
      for (let c = 0; c < classCount; c++) {
        const auc = binaryAuc(
          Array.from({ length: n }, (_, i) => yTrue[i] === c),
          probabilities.map((p) => p[c]!),
        );
        if (!Number.isNaN(auc)) {
          s += auc;
          used++;
        }
      }
      return used > 0 ? s / used : Number.NaN;
    }
    case "LogLoss": {
      const eps = 1e-15;
      let s = 0;
      for (let i = 0; i < n; i++) {
        const row = probabilities[i]!;
        let total = 0;
        for (let c = 0; c < row.length; c++) total += row[c]!;
        const p = Math.min(1 - eps, Math.max(eps, row[yTrue[i]!]! / (total || 1)));
        s -= Math.log(p);
      }
      return s / n;
    }
    case "MatthewsCorrCoef":
    case "CohenKappa": {
      let correct = 0;
      const t = new Array<number>(classCount).fill(0);
      const p = new Array<number>(classCount).fill(0);
      for (let a = 0; a < classCount; a++)
        for (let b = 0; b < classCount; b++) {
          t[a] = t[a]! + m[a]![b]!;
          p[b] = p[b]! + m[a]![b]!;
          if (a === b) correct += m[a]![b]!;
        }
      let tp = 0;
      let pp = 0;
      let tt = 0;
      for (let c = 0; c < classCount; c++) {
        tp += t[c]! * p[c]!;
        pp += p[c]! * p[c]!;
        tt += t[c]! * t[c]!;
      }
      if (name === "MatthewsCorrCoef") {
        const denominator = Math.sqrt((n * n - pp) * (n * n - tt));
        return denominator === 0 ? 0 : (correct * n - tp) / denominator;
      }
      const po = correct / n;
      const pe = tp / (n * n);
      return pe === 1 ? (po === 1 ? 1 : 0) : (po - pe) / (1 - pe);
    }
  }
}

export function regressionMetric(
  name: RegressionMetricName,
  yTrue: ArrayLike<number>,
  yPred: ArrayLike<number>,
): number {
  const n = yTrue.length;
  if (n === 0) return Number.NaN;
  let abs = 0;
  let sq = 0;
  let mean = 0;
  for (let i = 0; i < n; i++) {
    const d = yTrue[i]! - yPred[i]!;
    abs += Math.abs(d);
    sq += d * d;
    mean += yTrue[i]!;
  }
  mean /= n;
  switch (name) {
    case "MAE":
      return abs / n;
    case "MSE":
      return sq / n;
    case "RMSE":
      return Math.sqrt(sq / n);
    case "R2": {
      let total = 0;
      for (let i = 0; i < n; i++) total += (yTrue[i]! - mean) ** 2;
      if (total === 0) return sq === 0 ? 1 : 0;
      return 1 - sq / total;
    }
  }
}

export function isClassificationMetric(name: string): name is ClassificationMetricName {
  return (CLASSIFICATION_METRICS as string[]).includes(name);
}
export function isRegressionMetric(name: string): name is RegressionMetricName {
  return (REGRESSION_METRICS as string[]).includes(name);
}
