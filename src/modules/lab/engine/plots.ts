// Plotly figures (JSON: {data, layout}) of a hyperparameter search, after Optuna's visualization module:
// history (objective per trial + running best), slice (objective against each parameter), contour
// (objective over each pair of parameters) and importance (share of the objective's variance each
// parameter explains). Contour and importance need at least two searched parameters.
import { EngineError } from "./errors.js";
import type { Trial, TrialValue } from "./hpo.js";

export type PlotType = "history" | "slice" | "contour" | "importance";
export const PLOT_TYPES: PlotType[] = ["history", "slice", "contour", "importance"];

export interface PlotFigure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
}

export interface PlotInput {
  trials: Trial[];
  /** The searched parameters, in order. */
  paramNames: string[];
  metric: string;
  maximize: boolean;
}

function completed(trials: Trial[]): (Trial & { value: number })[] {
  return trials.filter((t): t is Trial & { value: number } => t.state === "COMPLETE" && t.value !== null);
}

function isNumeric(values: TrialValue[]): boolean {
  return values.every((v) => typeof v === "number");
}

export function historyPlot(input: PlotInput): PlotFigure {
  const done = completed(input.trials);
  let best: number | null = null;
  const running = done.map((t) => {
    best = best === null ? t.value : input.maximize ? Math.max(best, t.value) : Math.min(best, t.value);
    return best;
  });
  return {
    data: [
      {
        type: "scatter",
        mode: "markers",
        name: "Objective Value",
        x: done.map((t) => t.number),
        y: done.map((t) => t.value),
      },
      { type: "scatter", mode: "lines", name: "Best Value", x: done.map((t) => t.number), y: running },
    ],
    layout: {
      title: { text: "Optimization History Plot" },
      xaxis: { title: { text: "Trial" } },
      yaxis: { title: { text: input.metric } },
    },
  };
}

export function slicePlot(input: PlotInput): PlotFigure {
  const done = completed(input.trials);
  const n = Math.max(1, input.paramNames.length);
  const data = input.paramNames.map((name, i) => ({
    type: "scatter",
    mode: "markers",
    name,
    showlegend: false,
    xaxis: i === 0 ? "x" : `x${i + 1}`,
    yaxis: i === 0 ? "y" : `y${i + 1}`,
    x: done.map((t) => t.params[name] ?? null),
    y: done.map((t) => t.value),
    marker: {
      color: done.map((t) => t.number),
      colorscale: "Blues",
      showscale: i === n - 1,
      colorbar: { title: { text: "Trial" } },
    },
  }));
  const layout: Record<string, unknown> = {
    title: { text: "Slice Plot" },
    grid: { rows: 1, columns: n, pattern: "independent" },
  };
  input.paramNames.forEach((name, i) => {
    layout[i === 0 ? "xaxis" : `xaxis${i + 1}`] = { title: { text: name } };
    layout[i === 0 ? "yaxis" : `yaxis${i + 1}`] = { title: { text: i === 0 ? input.metric : "" } };
  });
  return { data, layout };
}

function requireTwo(input: PlotInput, plot: string): void {
  if (input.paramNames.length < 2)
    throw new EngineError(
      "not_enough_parameters",
      `The ${plot} plot needs at least two optimized parameters; this run optimized ${input.paramNames.length}`,
    );
}

/** Numeric coordinates of a parameter's values (categories become their index) and axis tick labels. */
function axis(values: TrialValue[]): {
  coords: number[];
  ticks?: { tickvals: number[]; ticktext: string[] };
} {
  if (isNumeric(values)) return { coords: values as number[] };
  const categories = [...new Set(values.map((v) => String(v)))];
  return {
    coords: values.map((v) => categories.indexOf(String(v))),
    ticks: { tickvals: categories.map((_, i) => i), ticktext: categories },
  };
}

const GRID = 25;

export function contourPlot(input: PlotInput): PlotFigure {
  requireTwo(input, "contour");
  const done = completed(input.trials);
  const pairs: [string, string][] = [];
  for (let a = 0; a < input.paramNames.length; a++)
    for (let b = a + 1; b < input.paramNames.length; b++)
      pairs.push([input.paramNames[a]!, input.paramNames[b]!]);
  const data: Record<string, unknown>[] = [];
  const layout: Record<string, unknown> = {
    title: { text: "Contour Plot" },
    grid: { rows: pairs.length, columns: 1, pattern: "independent" },
    height: Math.max(450, 400 * pairs.length),
  };
  pairs.forEach(([px, py], i) => {
    const suffix = i === 0 ? "" : String(i + 1);
    const ax = axis(done.map((t) => t.params[px] ?? null));
    const ay = axis(done.map((t) => t.params[py] ?? null));
    const minX = Math.min(...ax.coords);
    const maxX = Math.max(...ax.coords);
    const minY = Math.min(...ay.coords);
    const maxY = Math.max(...ay.coords);
    const xs = Array.from({ length: GRID }, (_, k) => minX + ((maxX - minX) * k) / (GRID - 1));
    const ys = Array.from({ length: GRID }, (_, k) => minY + ((maxY - minY) * k) / (GRID - 1));
    const spanX = maxX - minX || 1;
    const spanY = maxY - minY || 1;
    // Inverse-distance-weighted interpolation of the objective on the grid.
    const z = ys.map((gy) =>
      xs.map((gx) => {
        let wsum = 0;
        let vsum = 0;
        for (let t = 0; t < done.length; t++) {
          const dx = (ax.coords[t]! - gx) / spanX;
          const dy = (ay.coords[t]! - gy) / spanY;
          const d2 = dx * dx + dy * dy;
          if (d2 < 1e-12) return done[t]!.value;
          const w = 1 / (d2 * d2);
          wsum += w;
          vsum += w * done[t]!.value;
        }
        return wsum > 0 ? vsum / wsum : null;
      }),
    );
    data.push({
      type: "contour",
      x: xs,
      y: ys,
      z,
      xaxis: `x${suffix}`,
      yaxis: `y${suffix}`,
      colorscale: "Blues",
      reversescale: !input.maximize,
      showscale: i === 0,
      colorbar: { title: { text: input.metric } },
      connectgaps: true,
    });
    data.push({
      type: "scatter",
      mode: "markers",
      showlegend: false,
      x: ax.coords,
      y: ay.coords,
      xaxis: `x${suffix}`,
      yaxis: `y${suffix}`,
      marker: { color: "black", size: 6 },
      text: done.map((t) => `Trial ${t.number}: ${t.value}`),
    });
    layout[`xaxis${suffix}`] = { title: { text: px }, ...(ax.ticks ?? {}) };
    layout[`yaxis${suffix}`] = { title: { text: py }, ...(ay.ticks ?? {}) };
  });
  return { data, layout };
}

/**
 * Each parameter's importance: the share of the objective's variance explained by that parameter alone
 * (the variance of the objective's mean per bin of the parameter: quartiles for numbers, one bin per
 * category), normalized to sum 1. A compact stand-in for Optuna's fANOVA evaluator.
 */
export function parameterImportance(input: PlotInput): Record<string, number> {
  const done = completed(input.trials);
  const values = done.map((t) => t.value);
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  const raw: Record<string, number> = {};
  for (const name of input.paramNames) {
    const params = done.map((t) => t.params[name] ?? null);
    let keys: string[];
    if (isNumeric(params)) {
      const sorted = [...(params as number[])].sort((a, b) => a - b);
      const cuts = [0.25, 0.5, 0.75].map((q) => sorted[Math.floor(q * (sorted.length - 1))]!);
      keys = (params as number[]).map((v) => String(cuts.filter((c) => v > c).length));
    } else keys = params.map((v) => String(v));
    const groups = new Map<string, number[]>();
    keys.forEach((k, i) => {
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k)!.push(values[i]!);
    });
    let between = 0;
    for (const group of groups.values()) {
      const m = group.reduce((a, b) => a + b, 0) / group.length;
      between += group.length * (m - mean) ** 2;
    }
    raw[name] = between;
  }
  const total = Object.values(raw).reduce((a, b) => a + b, 0);
  const out: Record<string, number> = {};
  for (const name of input.paramNames)
    out[name] = total > 0 ? raw[name]! / total : 1 / input.paramNames.length;
  return out;
}

export function importancePlot(input: PlotInput): PlotFigure {
  requireTwo(input, "importance");
  const importance = parameterImportance(input);
  const ordered = Object.entries(importance).sort((a, b) => a[1] - b[1]);
  return {
    data: [
      {
        type: "bar",
        orientation: "h",
        x: ordered.map(([, v]) => v),
        y: ordered.map(([k]) => k),
        text: ordered.map(([, v]) => v.toFixed(2)),
        textposition: "outside",
      },
    ],
    layout: {
      title: { text: "Hyperparameter Importances" },
      xaxis: { title: { text: `Importance for ${input.metric}` } },
      yaxis: { title: { text: "Hyperparameter" } },
    },
  };
}

export function hpoPlot(type: PlotType, input: PlotInput): PlotFigure {
  switch (type) {
    case "history":
      return historyPlot(input);
    case "slice":
      return slicePlot(input);
    case "contour":
      return contourPlot(input);
    case "importance":
      return importancePlot(input);
  }
}
