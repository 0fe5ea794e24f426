// Export of a trained lab model (engine/types.ts: the recorded preprocessing + a `linear` or `trees` artifact)
// as one self-contained ONNX graph, written with onnx-proto (the protobufjs bindings of onnx.proto).
//
// The graph's interface (docs/lab.md, "ONNX"):
// - one input per input column, named after the column, shape [N, 1]: `tensor(double)` for numeric columns
//   (integer, float, boolean as 0/1, datetime as epoch milliseconds; NaN = missing) and `tensor(string)` for
//   categorical ones ("" or any unseen value = missing). A pandas user feeds `{c: df[[c]].to_numpy()}`.
// - classification: `label` (tensor(string) [N], the predicted class) and `probabilities` (tensor(float)
//   [N, K], one column per class in the order of the `classes` metadata entry);
//   regression: `variable` (tensor(float) [N, 1]).
// The preprocessing runs inside the graph in double precision (IsNaN/Where imputation, Sub/Div scaling,
// ai.onnx.ml OneHotEncoder for categories), so the file alone scores raw rows, and tree thresholds are
// compared in double like the in-process engine does (nodes_values_as_tensor).
import onnxProto from "onnx-proto";
import type { ColumnStep, ModelArtifact, TrainedModel, TreeArrays } from "../types.js";

const { onnx } = onnxProto;
const { DataType } = onnx.TensorProto;
const { AttributeType } = onnx.AttributeProto;

/** Output names of every exported model. */
export const ONNX_OUTPUTS = { label: "label", probabilities: "probabilities", value: "variable" } as const;

/** Why a trained model cannot be exported (its artifact kind has no ONNX operator here). */
export class OnnxExportUnsupported extends Error {
  override name = "OnnxExportUnsupported";
}

/** Which model artifacts the exporter turns into ONNX; the others are served in process only. */
export function isOnnxExportable(model: TrainedModel): boolean {
  return model.artifact.type === "linear" || model.artifact.type === "trees";
}

/**
 * The graph input name for an input column: the column's own name, unless it collides with an output
 * name (`label`, `probabilities`, `variable`), in which case `input_<column>`.
 */
export function onnxInputName(column: string): string {
  return (Object.values(ONNX_OUTPUTS) as string[]).includes(column) ? `input_${column}` : column;
}

type Attribute = onnxProto.onnx.IAttributeProto;
type Node = onnxProto.onnx.INodeProto;
type Tensor = onnxProto.onnx.ITensorProto;

const encoder = new TextEncoder();
const bytes = (s: string) => encoder.encode(s);

const attr = {
  int: (name: string, i: number): Attribute => ({ name, type: AttributeType.INT, i }),
  ints: (name: string, ints: number[]): Attribute => ({ name, type: AttributeType.INTS, ints }),
  floats: (name: string, floats: number[]): Attribute => ({ name, type: AttributeType.FLOATS, floats }),
  string: (name: string, s: string): Attribute => ({ name, type: AttributeType.STRING, s: bytes(s) }),
  strings: (name: string, strings: string[]): Attribute => ({
    name,
    type: AttributeType.STRINGS,
    strings: strings.map(bytes),
  }),
  doubles: (name: string, values: number[]): Attribute => ({
    name,
    type: AttributeType.TENSOR,
    t: { name, dataType: DataType.DOUBLE, dims: [values.length], doubleData: values },
  }),
};

function valueInfo(name: string, elemType: number, dims: (number | string)[]) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType,
        shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  });
}

/** Builds the node list with unique internal names (prefixed so they never meet a column name). */
class GraphBuilder {
  readonly nodes: Node[] = [];
  readonly initializers: Tensor[] = [];
  private counter = 0;

  name(hint: string): string {
    return `hg/${hint}/${this.counter++}`;
  }

  constantDoubles(hint: string, values: number[], dims = [values.length]): string {
    const name = this.name(hint);
    this.initializers.push({ name, dataType: DataType.DOUBLE, dims, doubleData: values });
    return name;
  }

  constantInt64s(hint: string, values: number[], dims = [values.length]): string {
    const name = this.name(hint);
    this.initializers.push({ name, dataType: DataType.INT64, dims, int64Data: values });
    return name;
  }

  node(
    opType: string,
    inputs: string[],
    attributes: Attribute[] = [],
    opts: { domain?: string; outputs?: string[] } = {},
  ): string[] {
    const outputs = opts.outputs ?? [this.name(opType)];
    this.nodes.push({
      opType,
      input: inputs,
      output: outputs,
      name: this.name(`node_${opType}`),
      domain: opts.domain ?? "",
      attribute: attributes,
    });
    return outputs;
  }

  one(opType: string, inputs: string[], attributes: Attribute[] = [], domain?: string): string {
    return this.node(opType, inputs, attributes, { domain })[0]!;
  }
}

const ML = "ai.onnx.ml";

/**
 * The recorded preprocessing as graph nodes. The numeric columns are concatenated into one [N, k] block and
 * imputed and scaled with four vector operations (IsNaN, Where, Sub, Div), whatever k; each categorical column
 * is one-hot encoded; a Gather puts the features back in the steps' order when the two kinds interleave.
 */
function preprocessing(g: GraphBuilder, steps: ColumnStep[]): string {
  const numeric = steps.filter((s): s is Extract<ColumnStep, { kind: "numeric" }> => s.kind === "numeric");
  const blocks: string[] = [];
  /** For each block feature, its position in the model's feature vector. */
  const positions: number[] = [];
  const offsets = new Map<ColumnStep, number>();
  let width = 0;
  for (const step of steps) {
    offsets.set(step, width);
    width += step.kind === "numeric" ? 1 : step.categories.length;
  }
  if (numeric.length > 0) {
    const inputs = numeric.map((s) => onnxInputName(s.column));
    const raw = inputs.length === 1 ? inputs[0]! : g.one("Concat", inputs, [attr.int("axis", 1)]);
    const k = numeric.length;
    const missing = g.one("IsNaN", [raw]);
    const filled = g.one("Where", [
      missing,
      g.constantDoubles(
        "fill",
        numeric.map((s) => s.fill),
        [1, k],
      ),
      raw,
    ]);
    const centered = g.one("Sub", [
      filled,
      g.constantDoubles(
        "center",
        numeric.map((s) => s.center),
        [1, k],
      ),
    ]);
    blocks.push(
      g.one("Div", [
        centered,
        g.constantDoubles(
          "scale",
          numeric.map((s) => s.scale),
          [1, k],
        ),
      ]),
    );
    for (const s of numeric) positions.push(offsets.get(s)!);
  }
  for (const step of steps) {
    if (step.kind !== "onehot") continue;
    // OneHotEncoder: [N, 1] strings → [N, 1, C] floats; an unseen value (zeros=1) is all zeros.
    const encoded = g.one(
      "OneHotEncoder",
      [onnxInputName(step.column)],
      [attr.strings("cats_strings", step.categories), attr.int("zeros", 1)],
      ML,
    );
    const flat = g.one("Reshape", [encoded, g.constantInt64s("shape", [-1, step.categories.length])]);
    blocks.push(g.one("Cast", [flat], [attr.int("to", DataType.DOUBLE)]));
    for (let c = 0; c < step.categories.length; c++) positions.push(offsets.get(step)! + c);
  }
  const joined = blocks.length === 1 ? blocks[0]! : g.one("Concat", blocks, [attr.int("axis", 1)]);
  if (positions.every((p, i) => p === i)) return joined;
  // order[f] = the block feature that is model feature f.
  const order = new Array<number>(width);
  positions.forEach((p, i) => (order[p] = i));
  return g.one("Gather", [joined, g.constantInt64s("order", order)], [attr.int("axis", 1)]);
}

const POST_TRANSFORM = { none: "NONE", identity: "NONE", logistic: "LOGISTIC", softmax: "SOFTMAX" } as const;

function checkClasses(model: TrainedModel): string[] {
  const classes = model.classes;
  if (!classes || classes.length < 2)
    throw new OnnxExportUnsupported("a classification model needs at least two classes");
  return classes;
}

function linear(
  g: GraphBuilder,
  model: TrainedModel,
  artifact: Extract<ModelArtifact, { type: "linear" }>,
  features: string,
) {
  const width = model.preprocessing.featureNames.length;
  for (const row of artifact.coefficients)
    if (row.length !== width)
      throw new OnnxExportUnsupported(`a coefficient row has ${row.length} entries for ${width} features`);
  if (model.task === "RegressionTask") {
    if (artifact.link !== "identity")
      throw new OnnxExportUnsupported(`a regression model with a '${artifact.link}' link`);
    // onnxruntime's LinearRegressor takes float only: MatMul + Add keep the double features exact.
    if (artifact.coefficients.length !== 1)
      throw new OnnxExportUnsupported(`a regression model with ${artifact.coefficients.length} outputs`);
    const weights = g.constantDoubles("coefficients", artifact.coefficients[0]!, [width, 1]);
    const dot = g.one("MatMul", [features, weights]);
    const value = g.one("Add", [dot, g.constantDoubles("intercept", [artifact.intercepts[0]!], [])]);
    g.node("Cast", [value], [attr.int("to", DataType.FLOAT)], { outputs: [ONNX_OUTPUTS.value] });
    return;
  }
  const classes = checkClasses(model);
  let coefficients = artifact.coefficients;
  let intercepts = artifact.intercepts;
  // The binary logistic model scores classes[1] only: classes[0] gets the negated row, so that
  // LOGISTIC gives [σ(−z), σ(z)] = [1 − p, p].
  if (coefficients.length === 1 && classes.length === 2) {
    coefficients = [coefficients[0]!.map((c) => -c), coefficients[0]!];
    intercepts = [-intercepts[0]!, intercepts[0]!];
  }
  if (coefficients.length !== classes.length)
    throw new OnnxExportUnsupported(`${coefficients.length} coefficient rows for ${classes.length} classes`);
  g.node(
    "LinearClassifier",
    [features],
    [
      attr.floats("coefficients", coefficients.flat()),
      attr.floats("intercepts", intercepts),
      attr.strings("classlabels_strings", classes),
      attr.int("multi_class", 0),
      attr.string("post_transform", POST_TRANSFORM[artifact.link]),
    ],
    { domain: ML, outputs: [g.name("linear_label"), ONNX_OUTPUTS.probabilities] },
  );
  labelFromProbabilities(g, classes);
}

/**
 * `label` = classes[argmax(probabilities)] (first on ties): the same rule for every classifier, where
 * onnxruntime's own label output of a two-class TreeEnsembleClassifier follows its binary-case rules.
 */
function labelFromProbabilities(g: GraphBuilder, classes: string[]) {
  const index = g.one("ArgMax", [ONNX_OUTPUTS.probabilities], [attr.int("axis", 1), attr.int("keepdims", 0)]);
  const name = g.name("classes");
  g.initializers.push({
    name,
    dataType: DataType.STRING,
    dims: [classes.length],
    stringData: classes.map(bytes),
  });
  g.node("Gather", [name, index], [attr.int("axis", 0)], { outputs: [ONNX_OUTPUTS.label] });
}

/** Flattens the trees into the parallel node arrays TreeEnsemble* take; leaf weights are pre-scaled. */
function treeAttributes(
  trees: TreeArrays[],
  weightScale: number,
  outputs: number,
  prefix: "class" | "target",
) {
  const treeIds: number[] = [];
  const nodeIds: number[] = [];
  const featureIds: number[] = [];
  const modes: string[] = [];
  const values: number[] = [];
  const trueIds: number[] = [];
  const falseIds: number[] = [];
  const leafTree: number[] = [];
  const leafNode: number[] = [];
  const leafOutput: number[] = [];
  const leafWeight: number[] = [];
  trees.forEach((tree, t) => {
    for (let n = 0; n < tree.feature.length; n++) {
      treeIds.push(t);
      nodeIds.push(n);
      const feature = tree.feature[n]!;
      if (feature < 0) {
        modes.push("LEAF");
        featureIds.push(0);
        values.push(0);
        trueIds.push(0);
        falseIds.push(0);
        const leaf = tree.values[n];
        if (!leaf || leaf.length !== outputs)
          throw new OnnxExportUnsupported(`tree ${t} leaf ${n} has no ${outputs}-entry value`);
        leaf.forEach((v, k) => {
          leafTree.push(t);
          leafNode.push(n);
          leafOutput.push(k);
          leafWeight.push(v * weightScale);
        });
      } else {
        modes.push("BRANCH_LEQ");
        featureIds.push(feature);
        values.push(tree.threshold[n]!);
        trueIds.push(tree.left[n]!);
        falseIds.push(tree.right[n]!);
      }
    }
  });
  return [
    attr.ints("nodes_treeids", treeIds),
    attr.ints("nodes_nodeids", nodeIds),
    attr.ints("nodes_featureids", featureIds),
    attr.strings("nodes_modes", modes),
    attr.doubles("nodes_values_as_tensor", values),
    attr.ints("nodes_truenodeids", trueIds),
    attr.ints("nodes_falsenodeids", falseIds),
    attr.ints(`${prefix}_treeids`, leafTree),
    attr.ints(`${prefix}_nodeids`, leafNode),
    attr.ints(`${prefix}_ids`, leafOutput),
    attr.doubles(`${prefix}_weights_as_tensor`, leafWeight),
  ];
}

/** Nodes per TreeEnsembleRegressor node at most (a few hundred KB of onnxruntime's node structures). */
const NODES_PER_ENSEMBLE_NODE = 4096;

/**
 * The trees in groups of at most NODES_PER_ENSEMBLE_NODE nodes (a deep tree alone), one
 * TreeEnsembleRegressor per group, their raw scores summed ([N, outputs], double). onnxruntime's
 * single-threaded kernel walks all of a node's trees for one row before the next row: with every tree of a
 * deep forest in one node they no longer stayed in the cache (a 50-tree, depth-16 forest predicted 3–4×
 * slower than tree by tree), while a node per shallow tree costs a fixed overhead per node that dominates
 * small batches (boosting's 100 depth-3 trees on 113 rows: 7× slower). Groups keep both cases fast.
 */
function treeGroups(
  g: GraphBuilder,
  trees: TreeArrays[],
  weightScale: number,
  outputs: number,
  features: string,
): string {
  const groups: TreeArrays[][] = [];
  let size = Infinity;
  for (const tree of trees) {
    if (size + tree.feature.length > NODES_PER_ENSEMBLE_NODE) {
      groups.push([]);
      size = 0;
    }
    groups.at(-1)!.push(tree);
    size += tree.feature.length;
  }
  // Each group's output is float (the operator's only output type); the sum is taken in double, as the
  // engine does, so that close classes are not reordered by rounding.
  const scores = groups.map((group) => {
    const score = g.one(
      "TreeEnsembleRegressor",
      [features],
      [
        ...treeAttributes(group, weightScale, outputs, "target"),
        attr.int("n_targets", outputs),
        attr.string("aggregate_function", "SUM"),
        attr.string("post_transform", "NONE"),
      ],
      ML,
    );
    return g.one("Cast", [score], [attr.int("to", DataType.DOUBLE)]);
  });
  return scores.length === 1 ? scores[0]! : g.one("Sum", scores);
}

function trees(
  g: GraphBuilder,
  model: TrainedModel,
  artifact: Extract<ModelArtifact, { type: "trees" }>,
  features: string,
) {
  if (artifact.trees.length === 0) throw new OnnxExportUnsupported("a tree ensemble without trees");
  const outputs = artifact.baseValues.length;
  const weightScale =
    artifact.aggregate === "average" ? artifact.scale / artifact.trees.length : artifact.scale;
  if (!(weightScale !== 0 && Number.isFinite(weightScale)))
    throw new OnnxExportUnsupported(`a tree ensemble with scale ${artifact.scale}`);
  // The base values are folded into the first tree's leaves (out = base + Σ scaled leaves either way).
  const folded: TreeArrays[] = artifact.trees.map((tree, t) =>
    t > 0
      ? tree
      : {
          ...tree,
          values: tree.values.map((v, n) =>
            tree.feature[n]! < 0 && v ? v.map((x, k) => x + (artifact.baseValues[k] ?? 0) / weightScale) : v,
          ),
        },
  );
  if (model.task === "RegressionTask") {
    if (outputs !== 1) throw new OnnxExportUnsupported(`a regression ensemble with ${outputs} outputs`);
    const value = treeGroups(g, folded, weightScale, 1, features);
    g.node("Cast", [value], [attr.int("to", DataType.FLOAT)], { outputs: [ONNX_OUTPUTS.value] });
    return;
  }
  const classes = checkClasses(model);
  const binaryScore = outputs === 1 && classes.length === 2 && artifact.postTransform === "logistic";
  if (!binaryScore && outputs !== classes.length)
    throw new OnnxExportUnsupported(`an ensemble with ${outputs} outputs for ${classes.length} classes`);
  const scores = treeGroups(g, folded, weightScale, outputs, features);
  let probabilities: string;
  if (binaryScore) {
    // Binary boosting keeps one raw score z (of classes[1]): probabilities [1 − σ(z), σ(z)].
    const p = g.one("Sigmoid", [scores]);
    const q = g.one("Sub", [g.constantDoubles("one", [1], []), p]);
    probabilities = g.one("Concat", [q, p], [attr.int("axis", 1)]);
  } else if (artifact.postTransform === "softmax") {
    probabilities = g.one("Softmax", [scores], [attr.int("axis", 1)]);
  } else if (artifact.postTransform === "logistic") {
    probabilities = g.one("Sigmoid", [scores]);
  } else {
    probabilities = scores;
  }
  g.node("Cast", [probabilities], [attr.int("to", DataType.FLOAT)], {
    outputs: [ONNX_OUTPUTS.probabilities],
  });
  labelFromProbabilities(g, classes);
}

/**
 * Exports a trained `linear` or `trees` model with its preprocessing as an ONNX model (ONNX IR 8, opsets
 * ai.onnx 15 and ai.onnx.ml 3). `meta` lands in the model's metadata_props next to `classes`, `target`,
 * `task`, `model` and `inputs` (JSON: [{name, column, type}]).
 */
export function exportTrainedModelToOnnx(model: TrainedModel, meta: Record<string, string> = {}): Uint8Array {
  const { artifact, preprocessing: prep } = model;
  if (artifact.type !== "linear" && artifact.type !== "trees")
    throw new OnnxExportUnsupported(`a '${artifact.type}' model has no ONNX export (served in process only)`);
  if (prep.steps.length === 0) throw new OnnxExportUnsupported("a model without input features");
  const seen = new Set<string>();
  for (const step of prep.steps) {
    if (seen.has(step.column))
      throw new OnnxExportUnsupported(`the column '${step.column}' has two preprocessing steps`);
    seen.add(step.column);
  }
  const g = new GraphBuilder();
  const features = preprocessing(g, prep.steps);
  if (artifact.type === "linear") linear(g, model, artifact, features);
  else trees(g, model, artifact, features);

  const classification = model.task !== "RegressionTask";
  const inputs = prep.steps.map((step) => ({
    name: onnxInputName(step.column),
    column: step.column,
    type: step.kind === "numeric" ? "double" : "string",
  }));
  const graph = onnx.GraphProto.create({
    name: `hiveguard_lab_${model.model}`,
    input: inputs.map((i) =>
      valueInfo(i.name, i.type === "double" ? DataType.DOUBLE : DataType.STRING, ["N", 1]),
    ),
    output: classification
      ? [
          valueInfo(ONNX_OUTPUTS.label, DataType.STRING, ["N"]),
          valueInfo(ONNX_OUTPUTS.probabilities, DataType.FLOAT, ["N", model.classes!.length]),
        ]
      : [valueInfo(ONNX_OUTPUTS.value, DataType.FLOAT, ["N", 1])],
    initializer: g.initializers,
    node: g.nodes,
  });
  const props: Record<string, string> = {
    model: model.model,
    task: model.task,
    target: model.target,
    inputs: JSON.stringify(inputs),
    ...(classification ? { classes: JSON.stringify(model.classes) } : {}),
    ...meta,
  };
  const proto = onnx.ModelProto.create({
    irVersion: 8,
    producerName: "hiveguard-lab",
    producerVersion: "1",
    opsetImport: [
      { domain: "", version: 15 },
      { domain: ML, version: 3 },
    ],
    graph,
    metadataProps: Object.entries(props).map(([key, value]) => ({ key, value })),
  });
  return onnx.ModelProto.encode(proto).finish();
}
