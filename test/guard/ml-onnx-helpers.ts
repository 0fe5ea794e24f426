// ONNX graphs shaped like what scikit-learn's skl2onnx exports for a LogisticRegression with zipmap off:
// outputs `label` int64 [N] and `probabilities` float [N, 2] (column 1 = class 1 = human).
import onnxProto from "onnx-proto";
import type { LogisticModel } from "../../src/modules/guard/risk/logistic.js";

const { onnx } = onnxProto;
const FLOAT = onnx.TensorProto.DataType.FLOAT;
const INT64 = onnx.TensorProto.DataType.INT64;

const node = (opType: string, input: string[], output: string[], attribute: object[] = []) =>
  onnx.NodeProto.create({ opType, input, output, attribute });
const info = (name: string, elemType: number, dims: (number | string)[]) =>
  onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });

/** `raw: true` leaves out the sigmoid, so the "probabilities" are logits (a broken export). */
export function sklearnStyleOnnx(model: LogisticModel, opts: { raw?: boolean } = {}): Uint8Array {
  const d = model.weights.length;
  const coefficients = model.weights.map((w, j) => w / model.scale[j]!);
  const intercept =
    model.intercept - model.weights.reduce((sum, w, j) => sum + (w * model.mean[j]!) / model.scale[j]!, 0);
  const graph = onnx.GraphProto.create({
    name: "sklearn_like",
    input: [info("float_input", FLOAT, ["N", d])],
    output: [info("label", INT64, ["N"]), info("probabilities", FLOAT, ["N", 2])],
    initializer: [
      onnx.TensorProto.create({ name: "coef", dataType: FLOAT, dims: [d, 1], floatData: coefficients }),
      onnx.TensorProto.create({ name: "intercept", dataType: FLOAT, dims: [1], floatData: [intercept] }),
      onnx.TensorProto.create({ name: "zero", dataType: FLOAT, dims: [1], floatData: [0] }),
      onnx.TensorProto.create({ name: "one", dataType: FLOAT, dims: [1], floatData: [1] }),
    ],
    node: [
      node("MatMul", ["float_input", "coef"], ["linear"]),
      node("Add", ["linear", "intercept"], ["logit"]),
      ...(opts.raw
        ? [node("Sub", ["zero", "logit"], ["p0"]), node("Identity", ["logit"], ["p1"])]
        : [node("Sigmoid", ["logit"], ["p1"]), node("Sub", ["one", "p1"], ["p0"])]),
      node(
        "Concat",
        ["p0", "p1"],
        ["probabilities"],
        [{ name: "axis", type: onnx.AttributeProto.AttributeType.INT, i: 1 }],
      ),
      node(
        "ArgMax",
        ["probabilities"],
        ["label"],
        [
          { name: "axis", type: onnx.AttributeProto.AttributeType.INT, i: 1 },
          { name: "keepdims", type: onnx.AttributeProto.AttributeType.INT, i: 0 },
        ],
      ),
    ],
  });
  return onnx.ModelProto.encode(
    onnx.ModelProto.create({
      irVersion: 7,
      producerName: "skl2onnx-like test graph",
      opsetImport: [{ domain: "", version: 13 }],
      graph,
    }),
  ).finish();
}
