// Serving an ONNX model (one exported by export.ts, or a user's own) with onnxruntime-node: a table in,
// the engine's Predictions out.
import onnxProto from "onnx-proto";
import * as ort from "onnxruntime-node";
import type { Predictions, Table, TableColumn } from "../types.js";
import { ONNX_OUTPUTS, onnxInputName } from "./export.js";

/** Why an ONNX file cannot serve a run, or a table cannot be fed to it (→ 422). */
export class OnnxModelRejected extends Error {
  override name = "OnnxModelRejected";
}

type TensorMeta = ort.InferenceSession.TensorValueMetadata;

/** How a graph input is fed from a table. */
type InputBinding =
  | { kind: "column"; name: string; column: string; type: ort.Tensor.Type; rank: number }
  | { kind: "matrix"; name: string; type: ort.Tensor.Type; width: number | null; columns: string[] | null };

const NUMERIC_TYPES = new Set<ort.Tensor.Type>(["float32", "float64", "int64", "int32"]);

export interface OnnxPredictorOptions {
  /** Classification: class labels in probability-column order (else the model's `classes` metadata). */
  classes?: string[];
  /** The table columns a single-matrix model reads, in order (else every column of the table). */
  inputColumns?: string[];
}

/**
 * A loaded ONNX model. Inputs are bound by name: a graph input named after a table column (or
 * `input_<column>`) takes that column as [N, 1] (or [N] for a rank-1 input); a model with one numeric
 * input that names no column takes all input columns as one [N, d] matrix. Outputs: a string/int64 tensor
 * (`label`, `output_label`, else the first) gives labels, a float [N, K] tensor (`probabilities`,
 * `output_probability`, else the first such) gives probabilities, and for regression `variable` (else the
 * first float tensor) gives values. Map/sequence outputs (skl2onnx's ZipMap) are not read.
 */
export class OnnxPredictor {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly bindings: InputBinding[],
    private readonly outputs: { label?: string; probabilities?: string; value?: string },
    /** The class labels (probability column order), when known. */
    readonly classes: string[] | undefined,
    /** The model's metadata_props. */
    readonly metadata: Record<string, string>,
  ) {}

  /** The task the outputs answer: classification when there is a label or probability output. */
  get isClassifier(): boolean {
    return this.outputs.label !== undefined || this.outputs.probabilities !== undefined;
  }

  /** The graph inputs and how each is fed (for error messages and docs). */
  get inputs(): readonly InputBinding[] {
    return this.bindings;
  }

  static async load(
    bytes: Uint8Array,
    columns: string[],
    options: OnnxPredictorOptions = {},
  ): Promise<OnnxPredictor> {
    const metadata = readMetadata(bytes);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        graphOptimizationLevel: "all",
        logSeverityLevel: 3,
      });
    } catch (error) {
      throw new OnnxModelRejected(`not a loadable ONNX model (${firstLine(error)})`);
    }
    try {
      const bindings = bindInputs(session, columns, options.inputColumns);
      const outputs = pickOutputs(session);
      let classes = options.classes;
      if (!classes && metadata.classes) {
        try {
          const parsed: unknown = JSON.parse(metadata.classes);
          if (Array.isArray(parsed)) classes = parsed.map(String);
        } catch {
          // not our metadata: classes stay unknown
        }
      }
      return new OnnxPredictor(session, bindings, outputs, classes, metadata);
    } catch (error) {
      await session.release().catch(() => {});
      throw error;
    }
  }

  /** Runs one batch: every row of `table`. */
  async predict(table: Table): Promise<Predictions> {
    const n = table.rowCount;
    const byName = new Map(table.columns.map((c) => [c.name, c]));
    const feeds: Record<string, ort.Tensor> = {};
    for (const binding of this.bindings) {
      if (binding.kind === "column") {
        const column = byName.get(binding.column);
        if (!column) throw new OnnxModelRejected(`the input column '${binding.column}' is missing`);
        feeds[binding.name] = columnTensor(column, binding.type, binding.rank === 1 ? [n] : [n, 1]);
      } else {
        const columns = (binding.columns ?? table.columns.map((c) => c.name)).map((name) => {
          const column = byName.get(name);
          if (!column) throw new OnnxModelRejected(`the input column '${name}' is missing`);
          return column;
        });
        const width = binding.width ?? columns.length;
        if (columns.length !== width)
          throw new OnnxModelRejected(
            `the input '${binding.name}' takes ${width} columns, the data has ${columns.length}`,
          );
        feeds[binding.name] = matrixTensor(columns, n, binding.type);
      }
    }
    // With the classes known, labels are the argmax of the probabilities (first on ties, as the exported
    // graph's ArgMax): the label output (a string tensor) is not fetched, which halves the run's time.
    const labelsFromProbabilities = this.outputs.probabilities !== undefined && this.classes !== undefined;
    const fetch = [
      this.outputs.probabilities,
      labelsFromProbabilities ? undefined : this.outputs.label,
      this.outputs.value,
    ].filter((o): o is string => o !== undefined);
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await this.session.run(feeds, fetch);
    } catch (error) {
      throw new OnnxModelRejected(`the model failed on this data (${firstLine(error)})`);
    }
    const out: Predictions = {};
    if (this.outputs.probabilities) {
      const t = results[this.outputs.probabilities]!;
      const k = t.dims.length >= 2 ? t.dims.at(-1)! : 1;
      const data = t.data as Float32Array | Float64Array;
      const probabilities = new Array<number[]>(n);
      const labels = labelsFromProbabilities ? new Array<string>(n) : undefined;
      for (let i = 0; i < n; i++) {
        const row = new Array<number>(k);
        let best = 0;
        for (let c = 0; c < k; c++) {
          const v = data[i * k + c]!;
          row[c] = v;
          if (v > row[best]!) best = c;
        }
        probabilities[i] = row;
        if (labels) labels[i] = this.classes![best] ?? String(best);
      }
      out.probabilities = probabilities;
      if (labels) out.labels = labels;
    }
    if (!out.labels && this.outputs.label) {
      const data = results[this.outputs.label]!.data;
      out.labels = Array.isArray(data)
        ? (data as string[])
        : Array.from(data as ArrayLike<unknown>, (v) => String(v));
    }
    if (this.outputs.value && !this.isClassifier) {
      const t = results[this.outputs.value]!;
      const k = t.dims.length >= 2 ? t.dims.at(-1)! : 1;
      const data = t.data as ArrayLike<number>;
      const values = new Float64Array(n);
      for (let i = 0; i < n; i++) values[i] = Number(data[i * k]);
      out.values = values;
    }
    return out;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

function bindInputs(
  session: ort.InferenceSession,
  columns: string[],
  inputColumns: string[] | undefined,
): InputBinding[] {
  const inputs = session.inputMetadata;
  if (inputs.length === 0) throw new OnnxModelRejected("the model takes no input");
  const byInputName = new Map(columns.map((c) => [onnxInputName(c), c]));
  for (const c of columns) if (!byInputName.has(c)) byInputName.set(c, c);
  const tensors = inputs.map((input) => {
    if (!input.isTensor)
      throw new OnnxModelRejected(
        `the input '${input.name}' is not a tensor (maps and sequences are not fed)`,
      );
    return input;
  });
  if (tensors.length === 1 && !byInputName.has(tensors[0]!.name)) {
    const input = tensors[0]!;
    if (!NUMERIC_TYPES.has(input.type) || input.shape.length !== 2)
      throw new OnnxModelRejected(
        `the input '${input.name}' names no column; a single input must be a numeric [N, ${columns.length}] tensor`,
      );
    const width = input.shape[1];
    const expected = inputColumns?.length ?? columns.length;
    if (typeof width === "number" && width !== expected)
      throw new OnnxModelRejected(
        `the input '${input.name}' takes ${width} features; the run's input columns are ${expected}`,
      );
    return [
      {
        kind: "matrix",
        name: input.name,
        type: input.type,
        width: typeof width === "number" ? width : null,
        columns: inputColumns ?? null,
      },
    ];
  }
  return tensors.map((input: TensorMeta) => {
    const column = byInputName.get(input.name);
    if (column === undefined)
      throw new OnnxModelRejected(
        `the model's input '${input.name}' is not an input column (${columns.join(", ") || "none"})`,
      );
    if (!NUMERIC_TYPES.has(input.type) && input.type !== "string" && input.type !== "bool")
      throw new OnnxModelRejected(`the input '${input.name}' has the unsupported type ${input.type}`);
    if (input.shape.length > 2)
      throw new OnnxModelRejected(`the input '${input.name}' must be [N] or [N, 1]`);
    return { kind: "column", name: input.name, column, type: input.type, rank: input.shape.length || 2 };
  });
}

function pickOutputs(session: ort.InferenceSession) {
  const tensors = session.outputMetadata.filter((o): o is TensorMeta => o.isTensor);
  const isFloat = (o: TensorMeta) => o.type === "float32" || o.type === "float64";
  const named = (names: string[], ok: (o: TensorMeta) => boolean) =>
    names.map((n) => tensors.find((o) => o.name === n && ok(o))).find((o) => o !== undefined);
  const label =
    named([ONNX_OUTPUTS.label, "output_label"], (o) => o.type === "string" || o.type === "int64") ??
    tensors.find((o) => o.type === "string");
  const probabilities =
    named([ONNX_OUTPUTS.probabilities, "output_probability"], isFloat) ??
    (label ? tensors.find((o) => isFloat(o) && o.shape.length === 2 && o !== label) : undefined);
  const value =
    label || probabilities ? undefined : (named([ONNX_OUTPUTS.value], isFloat) ?? tensors.find(isFloat));
  if (!label && !probabilities && !value)
    throw new OnnxModelRejected(
      "the model has no usable tensor output (export classifiers with ZipMap disabled)",
    );
  return { label: label?.name, probabilities: probabilities?.name, value: value?.name };
}

function columnTensor(column: TableColumn, type: ort.Tensor.Type, dims: number[]): ort.Tensor {
  const n = column.values.length;
  if (type === "string") {
    const values =
      column.values instanceof Float64Array
        ? Array.from(column.values, (v) => (Number.isNaN(v) ? "" : String(v)))
        : column.values.map((v) => v ?? "");
    return new ort.Tensor("string", values, dims);
  }
  const numbers =
    column.values instanceof Float64Array ? column.values : Float64Array.from(column.values, toNumber);
  switch (type) {
    case "float64":
      return new ort.Tensor("float64", numbers, dims);
    case "float32":
      return new ort.Tensor("float32", Float32Array.from(numbers), dims);
    case "int64":
      return new ort.Tensor(
        "int64",
        BigInt64Array.from(numbers, (v) => BigInt(Math.round(v || 0))),
        dims,
      );
    case "int32":
      return new ort.Tensor(
        "int32",
        Int32Array.from(numbers, (v) => Math.round(v || 0)),
        dims,
      );
    case "bool":
      return new ort.Tensor(
        "bool",
        Uint8Array.from(numbers, (v) => (v ? 1 : 0)),
        dims,
      );
    default:
      throw new OnnxModelRejected(`cannot feed a column '${column.name}' as ${type} (${n} rows)`);
  }
}

function matrixTensor(columns: TableColumn[], n: number, type: ort.Tensor.Type): ort.Tensor {
  const d = columns.length;
  const data = type === "float32" ? new Float32Array(n * d) : new Float64Array(n * d);
  columns.forEach((column, j) => {
    for (let i = 0; i < n; i++) {
      const v = column.values[i];
      data[i * d + j] = typeof v === "number" ? v : toNumber(v ?? null);
    }
  });
  if (type === "float32" || type === "float64") return new ort.Tensor(type, data, [n, d]);
  if (type === "int64")
    return new ort.Tensor(
      "int64",
      BigInt64Array.from(data, (v) => BigInt(Math.round(v || 0))),
      [n, d],
    );
  return new ort.Tensor(
    "int32",
    Int32Array.from(data, (v) => Math.round(v || 0)),
    [n, d],
  );
}

function toNumber(v: string | null): number {
  if (v === null || v.trim() === "") return Number.NaN;
  const n = Number(v);
  return Number.isFinite(n) ? n : Number.NaN;
}

function readMetadata(bytes: Uint8Array): Record<string, string> {
  try {
    const model = onnxProto.onnx.ModelProto.decode(bytes);
    return Object.fromEntries(model.metadataProps.map((p) => [p.key, p.value]));
  } catch {
    return {};
  }
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0]!.slice(0, 200);
}
