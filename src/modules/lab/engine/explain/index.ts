// Explainers: pure code over a model seen as a function of a table (model.ts), for in-process and ONNX
// models alike. Global: permutation importance, partial dependence. Local: KernelSHAP.
import { encodeTarget, targetClasses } from "../preprocess.js";
import { createRng, shuffle } from "../random.js";
import { type SplitRatios, splitRows } from "../split.js";
import type { Table, Task } from "../types.js";

export { EXPLAINERS, findExplainer, type ExplainerDefinition, type ExplainerType } from "./components.js";
export { coalitions, kernelShap, solve, type KernelShapResult } from "./kernel-shap.js";
export {
  inProcessModel,
  onnxModel,
  outputNames,
  takeRows,
  type ExplainableModel,
  type ModelOutputs,
} from "./model.js";
export { numericGrid, partialDependence, type PartialDependence } from "./partial-dependence.js";
export { permutationImportance, type PermutationImportance } from "./permutation.js";
export { explainedOutput, partialDependencePlots, permutationPlot, shapPlots } from "./plots.js";

/** The rows of one split of a run's dataset, as training drew them (same classes, strata, ratios and seed). */
export function splitOfRun(
  table: Table,
  run: { task: Task; target: string; ratios: SplitRatios; seed: number },
  split: "train" | "validation" | "test",
): number[] {
  const all = Array.from({ length: table.rowCount }, (_, i) => i);
  const classification = run.task === "TabularClassificationTask";
  const classes = classification ? targetClasses(table, run.target, all) : undefined;
  const labelled = encodeTarget(table, run.target, run.task, all, classes);
  return splitRows(labelled.rows, run.ratios, run.seed, classification ? labelled.y : undefined)[split];
}

/** At most `max` of `rows`, a seeded sample (in their original order) when there are more. */
export function sampleRows(rows: number[], max: number, seed: number): number[] {
  if (rows.length <= max) return rows;
  return shuffle([...rows], createRng(seed))
    .slice(0, max)
    .sort((a, b) => a - b);
}
