// The explainers' Plotly figures (JSON {data, layout}): horizontal bars of permutation importance (error
// bars: the std over repeats), one line (numeric) or bar (categorical) chart per partial-dependence feature,
// and one bar chart of SHAP values per explained row (the output it explains: the value for regression,
// the predicted class's probability for classification).
import type { PlotFigure } from "../plots.js";
import type { KernelShapResult } from "./kernel-shap.js";
import type { PartialDependence } from "./partial-dependence.js";
import type { PermutationImportance } from "./permutation.js";

const round = (v: number) => +v.toPrecision(6);

export function permutationPlot(result: PermutationImportance): PlotFigure {
  const order = result.features
    .map((_, i) => i)
    .sort((a, b) => result.importances_mean[a]! - result.importances_mean[b]!);
  return {
    data: [
      {
        type: "bar",
        orientation: "h",
        name: "Importance",
        y: order.map((i) => result.features[i]),
        x: order.map((i) => round(result.importances_mean[i]!)),
        error_x: { type: "data", array: order.map((i) => round(result.importances_std[i]!)), visible: true },
      },
    ],
    layout: {
      title: { text: "Permutation Feature Importance" },
      xaxis: { title: { text: `Decrease in ${result.metric}` } },
      yaxis: { title: { text: "Feature" }, automargin: true },
    },
  };
}

export function partialDependencePlots(result: PartialDependence): PlotFigure[] {
  // Binary classification: the positive class only (the other is its complement), as scikit-learn does.
  const shown = result.outputs.length === 2 ? [1] : result.outputs.map((_, k) => k);
  return result.features.map((f) => ({
    data: shown.map((k) => ({
      type: f.kind === "numeric" ? "scatter" : "bar",
      ...(f.kind === "numeric" && { mode: "lines" }),
      name: result.outputs[k],
      x: f.grid,
      y: f.average[k]!.map(round),
    })),
    layout: {
      title: { text: `Partial Dependence: ${f.feature}` },
      xaxis: { title: { text: f.feature } },
      yaxis: { title: { text: result.outputs.length === 1 ? "Average prediction" : "Average probability" } },
      showlegend: shown.length > 1,
    },
  }));
}

/** The output a row's plot shows: the only one, or the class with the highest probability. */
export function explainedOutput(prediction: number[]): number {
  let best = 0;
  for (let k = 1; k < prediction.length; k++) if (prediction[k]! > prediction[best]!) best = k;
  return best;
}

export function shapPlots(result: KernelShapResult, rowLabels: string[]): PlotFigure[] {
  return result.instances.map((instance, i) => {
    const k = explainedOutput(instance.prediction);
    const values = result.features.map((_, j) => instance.shap_values[j]![k]!);
    const order = values.map((_, j) => j).sort((a, b) => Math.abs(values[a]!) - Math.abs(values[b]!));
    const output = result.outputs.length > 1 ? ` (class ${result.outputs[k]})` : "";
    return {
      data: [
        {
          type: "bar",
          orientation: "h",
          name: "SHAP value",
          y: order.map((j) => result.features[j]),
          x: order.map((j) => round(values[j]!)),
          marker: { color: order.map((j) => (values[j]! >= 0 ? "#dc2626" : "#2563eb")) },
        },
      ],
      layout: {
        title: {
          text: `${rowLabels[i] ?? `Row ${i}`}${output}: f(x) = ${round(instance.prediction[k]!)}, base value = ${round(result.base_value[k]!)}`,
        },
        xaxis: { title: { text: "SHAP value" } },
        yaxis: { title: { text: "Feature" }, automargin: true },
      },
    };
  });
}
