// Export of the logistic model as an ONNX graph (built with onnx-proto, the protobufjs bindings of
// onnx.proto), and loading any ONNX risk model into onnxruntime-node with the checks an upload needs.
import onnxProto from "onnx-proto";
import * as ort from "onnxruntime-node";
import { FEATURE_COUNT, FEATURE_NAMES, FEATURE_SET, ONNX_INPUT, ONNX_OUTPUT } from "./features.js";
import type { LogisticModel } from "./logistic.js";

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;

function tensor(name: string, dims: number[], values: number[]) {
  return onnx.TensorProto.create({ name, dataType: FLOAT, dims, floatData: values });
}

function floatInfo(name: string, dims: (number | string)[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: FLOAT,
        shape: {
          dim: dims.map((dim) => (typeof dim === "number" ? { dimValue: dim } : { dimParam: dim })),
        },
      },
    },
  });
}

/**
 * `features` float32 [N, d] → Sub(mean) → Div(scale) → MatMul(weights [d, 1]) → Add(intercept) → Sigmoid →
 * `score` float32 [N, 1]: the standardization is part of the graph, so the file alone scores raw features.
 */
export function exportLogisticOnnx(model: LogisticModel, meta: Record<string, string> = {}): Uint8Array {
  const d = model.weights.length;
  const graph = onnx.GraphProto.create({
    name: "hiveguard_risk_logistic",
    input: [floatInfo(ONNX_INPUT, ["N", d])],
    output: [floatInfo(ONNX_OUTPUT, ["N", 1])],
    initializer: [
      tensor("mean", [d], model.mean),
      tensor("scale", [d], model.scale),
      tensor("weights", [d, 1], model.weights),
      tensor("intercept", [1], [model.intercept]),
    ],
    node: [
      onnx.NodeProto.create({
        opType: "Sub",
        input: [ONNX_INPUT, "mean"],
        output: ["centered"],
        name: "center",
      }),
      onnx.NodeProto.create({
        opType: "Div",
        input: ["centered", "scale"],
        output: ["standardized"],
        name: "scale",
      }),
      onnx.NodeProto.create({
        opType: "MatMul",
        input: ["standardized", "weights"],
        output: ["linear"],
        name: "dot",
      }),
      onnx.NodeProto.create({
        opType: "Add",
        input: ["linear", "intercept"],
        output: ["logit"],
        name: "bias",
      }),
      onnx.NodeProto.create({ opType: "Sigmoid", input: ["logit"], output: [ONNX_OUTPUT], name: "sigmoid" }),
    ],
  });
  const props = { feature_set: FEATURE_SET, feature_names: FEATURE_NAMES.join(","), ...meta };
  const proto = onnx.ModelProto.create({
    irVersion: 7,
    producerName: "hiveguard",
    producerVersion: "1",
    opsetImport: [{ domain: "", version: 13 }],
    graph,
    metadataProps: Object.entries(props).map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(proto).finish();
}

/** Why an ONNX file cannot serve as the risk model (→ 422). */
export class ModelRejected extends Error {
  override name = "ModelRejected";
}

/** A loaded risk model: scores raw feature rows (float32, row-major) as human confidence 0–1. */
export class OnnxRiskModel {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly inputName: string,
    private readonly outputName: string,
    /** For a [N, 2] output (scikit-learn's probabilities) the score is column 1; for [N] or [N, 1] column 0. */
    private readonly columns: number,
  ) {}

  /**
   * Loads and checks a model: exactly one float tensor input taking [N, FEATURE_COUNT]; a float tensor
   * output named `score`, else `probabilities` (skl2onnx with zipmap off), else the first float output; and
   * a probe batch must give one finite score in 0–1 per row.
   */
  static async load(bytes: Uint8Array): Promise<OnnxRiskModel> {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        graphOptimizationLevel: "all",
        logSeverityLevel: 3,
      });
    } catch (error) {
      throw new ModelRejected(`not a loadable ONNX model (${firstLine(error)})`);
    }
    try {
      const inputs = session.inputMetadata;
      if (inputs.length !== 1)
        throw new ModelRejected(
          `the model must take one input (float32 [N, ${FEATURE_COUNT}]), it takes ${inputs.length}`,
        );
      const input = inputs[0]!;
      if (!input.isTensor || input.type !== "float32")
        throw new ModelRejected(`the input '${input.name}' must be a float32 tensor [N, ${FEATURE_COUNT}]`);
      const width = input.shape.at(-1);
      if (input.shape.length !== 2 || (typeof width === "number" && width !== FEATURE_COUNT))
        throw new ModelRejected(
          `the input '${input.name}' has shape [${input.shape.join(", ")}]; HiveGuard's feature vector is [N, ${FEATURE_COUNT}]`,
        );
      const floats = session.outputMetadata.filter(
        (output): output is ort.InferenceSession.TensorValueMetadata =>
          output.isTensor && output.type === "float32",
      );
      const output =
        floats.find((o) => o.name === ONNX_OUTPUT) ??
        floats.find((o) => o.name === "probabilities") ??
        floats[0];
      if (!output)
        throw new ModelRejected(
          "the model has no float32 tensor output (export scikit-learn models with zipmap disabled)",
        );
      const last = output.shape.length >= 2 ? output.shape.at(-1) : 1;
      const columns = typeof last === "number" ? last : 1;
      if (output.shape.length > 2 || columns < 1 || columns > 2)
        throw new ModelRejected(
          `the output '${output.name}' has shape [${output.shape.join(", ")}]; expected [N], [N, 1] or [N, 2]`,
        );
      const model = new OnnxRiskModel(session, input.name, output.name, columns);
      await model.probe();
      return model;
    } catch (error) {
      await session.release().catch(() => {});
      if (error instanceof ModelRejected) throw error;
      throw new ModelRejected(`scoring a probe batch failed (${firstLine(error)})`);
    }
  }

  /** Scores a batch of rows; the result has one score per row. */
  async score(batch: Float32Array, rows = batch.length / FEATURE_COUNT): Promise<Float32Array> {
    const feeds = { [this.inputName]: new ort.Tensor("float32", batch, [rows, FEATURE_COUNT]) };
    const results = await this.session.run(feeds, [this.outputName]);
    const out = results[this.outputName]!;
    const data = out.data as Float32Array;
    const columns = out.dims.length >= 2 ? out.dims.at(-1)! : 1;
    if (
      data.length !== rows * columns ||
      (columns !== this.columns && !(columns === 1 && this.columns === 1))
    )
      throw new Error(`the model answered ${data.length} values for ${rows} rows`);
    if (columns === 1) return data;
    const scores = new Float32Array(rows);
    for (let i = 0; i < rows; i++) scores[i] = data[i * columns + columns - 1]!;
    return scores;
  }

  private async probe(): Promise<void> {
    const rows = 8;
    const batch = new Float32Array(rows * FEATURE_COUNT);
    for (let i = 0; i < batch.length; i++) batch[i] = ((i * 7919) % 13) / 4; // varied, in feature ranges
    const scores = await this.score(batch, rows);
    if (scores.length !== rows)
      throw new ModelRejected(`the probe batch of ${rows} rows gave ${scores.length} scores`);
    for (const score of scores)
      if (!Number.isFinite(score) || score < 0 || score > 1)
        throw new ModelRejected(
          `the probe batch gave a score outside 0–1 (${score}); the output must be a probability`,
        );
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0]!.slice(0, 200);
}
