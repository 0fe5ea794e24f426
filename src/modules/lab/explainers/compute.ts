// What an explainer computes, as plain data a worker thread can receive (explain-thread.ts): the model to
// open (a trained in-process model, or ONNX bytes for onnxruntime) and the explainer with its tables and
// options. `computeExplanation` returns the explanation and its DashAI artifacts (Plotly figures).
import { EngineError, type MetricName, type Table, type TrainedModel, type Task } from "../engine/index.js";
import {
  type ExplainableModel,
  inProcessModel,
  kernelShap,
  onnxModel,
  partialDependence,
  partialDependencePlots,
  permutationImportance,
  permutationPlot,
  shapPlots,
} from "../engine/explain/index.js";
import { OnnxModelRejected, OnnxPredictor } from "../engine/onnx/index.js";

export type ModelSource =
  | { kind: "trained"; trained: TrainedModel }
  | {
      kind: "onnx";
      bytes: Uint8Array;
      task: Task;
      inputColumns: string[];
      target: string;
      /** The class labels the run knows (its trained model's, or those given with an uploaded ONNX). */
      classes?: string[];
    };

export type ExplainTask =
  | {
      explainer: "PermutationFeatureImportance";
      data: Table;
      options: { target: string; metric: MetricName; nRepeats: number; seed: number };
    }
  | {
      explainer: "PartialDependence";
      data: Table;
      options: {
        features: string[];
        gridResolution: number;
        lowerPercentile: number;
        upperPercentile: number;
      };
    }
  | {
      explainer: "KernelShap";
      background: Table;
      instances: Table;
      /** The dataset's row indexes of `instances`. */
      rows: number[];
      options: { nSamples: number; seed: number };
    };

export type Artifact = {
  type: "plotly" | "table";
  payload: unknown;
  title: string | null;
  role: "input" | "explanation";
};

export interface Explained {
  explanation: unknown;
  plots: Artifact[];
}

/** Opens the model (ONNX: an onnxruntime session, released by `release`); a model it cannot read → 422. */
export async function openModel(
  source: ModelSource,
): Promise<{ model: ExplainableModel; release: () => Promise<void> }> {
  if (source.kind === "trained") return { model: inProcessModel(source.trained), release: async () => {} };
  try {
    const predictor = await OnnxPredictor.load(source.bytes, source.inputColumns, {
      inputColumns: source.inputColumns,
      classes: source.classes,
    });
    return {
      model: onnxModel(
        predictor,
        source.task,
        source.inputColumns,
        source.target,
        source.classes ?? predictor.classes,
      ),
      release: () => predictor.release(),
    };
  } catch (error) {
    if (error instanceof OnnxModelRejected)
      throw new EngineError("invalid_input", `The run's ONNX model cannot be explained: ${error.message}`);
    throw error;
  }
}

const plotly = (figure: { layout: Record<string, unknown> }): Artifact => ({
  type: "plotly",
  payload: JSON.stringify(figure),
  title: ((figure.layout.title as { text?: string } | undefined)?.text ?? null) as string | null,
  role: "explanation",
});

/** The cells of a table, for the explained-rows artifact. */
function cells(table: Table): (number | string | null)[][] {
  return Array.from({ length: table.rowCount }, (_, i) =>
    table.columns.map((c) => {
      const v = c.values[i];
      return typeof v === "number" ? (Number.isNaN(v) ? null : v) : (v ?? null);
    }),
  );
}

export async function computeExplanation(
  model: ExplainableModel,
  task: ExplainTask,
  progress: (percent: number, message: string) => void,
  signal?: AbortSignal,
): Promise<Explained> {
  if (task.explainer === "PermutationFeatureImportance") {
    const result = await permutationImportance(model, task.data, { ...task.options, signal, progress });
    return { explanation: result, plots: [plotly(permutationPlot(result))] };
  }
  if (task.explainer === "PartialDependence") {
    const result = await partialDependence(model, task.data, { ...task.options, signal, progress });
    return { explanation: result, plots: partialDependencePlots(result).map(plotly) };
  }
  const result = await kernelShap(model, task.background, task.instances, {
    ...task.options,
    signal,
    progress,
  });
  return {
    explanation: {
      ...result,
      instances: result.instances.map((instance, i) => ({ row: task.rows[i], ...instance })),
    },
    plots: [
      {
        type: "table",
        payload: {
          columns: task.instances.columns.map((c) => c.name),
          rows: cells(task.instances),
          highlight: [],
        },
        title: "Explained rows",
        role: "input",
      },
      ...shapPlots(
        result,
        task.rows.map((r) => `Row ${r}`),
      ).map(plotly),
    ],
  };
}
