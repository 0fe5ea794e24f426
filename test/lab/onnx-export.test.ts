// ONNX export of trained lab models: hand-built linear and tree artifacts (with numeric + categorical
// preprocessing, missing and unseen values) exported, loaded in onnxruntime-node and compared row by row
// with an evaluation of the same artifact that follows engine/types.ts.
import onnxProto from "onnx-proto";
import { describe, expect, it } from "vitest";
import {
  exportTrainedModelToOnnx,
  OnnxExportUnsupported,
  OnnxModelRejected,
  OnnxPredictor,
} from "../../src/modules/lab/engine/onnx/index.js";
import type {
  ColumnStep,
  Predictions,
  Table,
  TrainedModel,
  TreeArrays,
} from "../../src/modules/lab/engine/types.js";

// --- reference evaluation of an artifact (engine/types.ts semantics) ---------------------------------

function featureRows(model: TrainedModel, table: Table): number[][] {
  const byName = new Map(table.columns.map((c) => [c.name, c]));
  return Array.from({ length: table.rowCount }, (_, i) =>
    model.preprocessing.steps.flatMap((step: ColumnStep) => {
      const v = byName.get(step.column)!.values[i];
      if (step.kind === "numeric") {
        const x = typeof v === "number" && !Number.isNaN(v) ? v : step.fill;
        return [(x - step.center) / step.scale];
      }
      return step.categories.map((c) => (v === c ? 1 : 0));
    }),
  );
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
const softmax = (zs: number[]) => {
  const m = Math.max(...zs);
  const e = zs.map((z) => Math.exp(z - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
};

function leaf(tree: TreeArrays, x: number[]): number[] {
  let n = 0;
  while (tree.feature[n]! >= 0)
    n = x[tree.feature[n]!]! <= tree.threshold[n]! ? tree.left[n]! : tree.right[n]!;
  return tree.values[n]!;
}

function referencePredict(model: TrainedModel, table: Table): Predictions {
  const a = model.artifact;
  const outputs = featureRows(model, table).map((x) => {
    if (a.type === "linear") {
      const raw = a.coefficients.map((w, k) => a.intercepts[k]! + w.reduce((s, c, j) => s + c * x[j]!, 0));
      if (a.link === "identity") return raw;
      if (a.link === "softmax") return softmax(raw);
      return raw.length === 1 ? [1 - sigmoid(raw[0]!), sigmoid(raw[0]!)] : raw.map(sigmoid);
    }
    if (a.type !== "trees") throw new Error("not exportable");
    const sum = a.baseValues.map(() => 0);
    for (const tree of a.trees) leaf(tree, x).forEach((v, k) => (sum[k]! += v));
    const div = a.aggregate === "average" ? a.trees.length : 1;
    const raw = sum.map((s, k) => a.baseValues[k]! + (a.scale * s) / div);
    if (a.postTransform === "softmax") return softmax(raw);
    if (a.postTransform === "logistic")
      return raw.length === 1 ? [1 - sigmoid(raw[0]!), sigmoid(raw[0]!)] : raw.map(sigmoid);
    return raw;
  });
  if (model.task === "RegressionTask") return { values: Float64Array.from(outputs, (o) => o[0]!) };
  return {
    probabilities: outputs,
    labels: outputs.map((p) => model.classes![p.indexOf(Math.max(...p))]!),
  };
}

// --- fixtures ------------------------------------------------------------------------------------------

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 300 rows: two numeric columns (some NaN) and a categorical one (some null, some unseen). */
function table(seed = 7, rows = 300): Table {
  const r = rng(seed);
  const age = new Float64Array(rows);
  const income = new Float64Array(rows);
  const color: (string | null)[] = [];
  for (let i = 0; i < rows; i++) {
    age[i] = i % 17 === 0 ? Number.NaN : Math.round(18 + r() * 60);
    income[i] = i % 23 === 0 ? Number.NaN : 1000 + r() * 9000;
    const u = r();
    color.push(i % 19 === 0 ? null : u < 0.3 ? "red" : u < 0.6 ? "green" : u < 0.95 ? "blue" : "mauve");
  }
  return {
    rowCount: rows,
    columns: [
      { name: "age", type: "integer", values: age },
      { name: "income", type: "float", values: income },
      { name: "color", type: "categorical", values: color },
    ],
  };
}

const preprocessing = (standardize: boolean) => ({
  inputColumns: ["age", "income", "color"],
  steps: [
    { kind: "numeric", column: "age", fill: 41.5, center: standardize ? 42 : 0, scale: standardize ? 17 : 1 },
    {
      kind: "numeric",
      column: "income",
      fill: 5400,
      center: standardize ? 5500 : 0,
      scale: standardize ? 2600 : 1,
    },
    { kind: "onehot", column: "color", categories: ["red", "green", "blue"] },
  ] satisfies ColumnStep[],
  featureNames: ["age", "income", "color=red", "color=green", "color=blue"],
});

function base(
  task: TrainedModel["task"],
  classes?: string[],
): Omit<TrainedModel, "artifact" | "preprocessing"> {
  return { model: "Test", params: {}, task, target: "y", classes };
}

/** A random tree of the given depth over 5 features, thresholds within each feature's range. */
function randomTree(r: () => number, depth: number, outputs: number): TreeArrays {
  const t: TreeArrays = { feature: [], threshold: [], left: [], right: [], values: [] };
  const ranges = [
    [20, 75],
    [1500, 9500],
    [0, 1],
    [0, 1],
    [0, 1],
  ];
  const grow = (d: number): number => {
    const id = t.feature.length;
    t.feature.push(-1);
    t.threshold.push(0);
    t.left.push(-1);
    t.right.push(-1);
    t.values.push([]);
    if (d === depth) {
      t.values[id] = Array.from({ length: outputs }, () => r() * 2 - 0.5);
      return id;
    }
    const f = Math.floor(r() * 5);
    const [lo, hi] = ranges[f]!;
    t.feature[id] = f;
    t.threshold[id] = f >= 2 ? 0.5 : lo! + r() * (hi! - lo!);
    t.values[id] = [];
    t.left[id] = grow(d + 1);
    t.right[id] = grow(d + 1);
    return id;
  };
  grow(0);
  return t;
}

function forest(seed: number, count: number, depth: number, outputs: number, probabilities = false) {
  const r = rng(seed);
  return Array.from({ length: count }, () => {
    const tree = randomTree(r, depth, outputs);
    if (probabilities)
      tree.values = tree.values.map((v) => {
        if (v.length === 0) return v;
        const pos = v.map((x) => Math.abs(x) + 0.01);
        const s = pos.reduce((a, b) => a + b, 0);
        return pos.map((x) => x / s);
      });
    return tree;
  });
}

const MODELS: Record<string, TrainedModel> = {
  "linear binary (logistic, one output)": {
    ...base("TabularClassificationTask", ["no", "yes"]),
    preprocessing: preprocessing(true),
    artifact: {
      type: "linear",
      coefficients: [[0.8, -1.3, 0.4, -0.2, 0.1]],
      intercepts: [0.15],
      link: "logistic",
    },
  },
  "linear multiclass (softmax)": {
    ...base("TabularClassificationTask", ["a", "b", "c"]),
    preprocessing: preprocessing(true),
    artifact: {
      type: "linear",
      coefficients: [
        [0.5, -0.2, 1.1, 0, -0.3],
        [-0.4, 0.9, -0.6, 0.7, 0.2],
        [0.1, -0.7, 0, -0.5, 0.4],
      ],
      intercepts: [0.2, -0.1, 0.05],
      link: "softmax",
    },
  },
  "linear multiclass, categorical and numeric columns interleaved": {
    ...base("TabularClassificationTask", ["a", "b", "c"]),
    preprocessing: {
      inputColumns: ["color", "age"],
      steps: [
        { kind: "onehot", column: "color", categories: ["red", "green", "blue"] },
        { kind: "numeric", column: "age", fill: 41.5, center: 42, scale: 17 },
      ] satisfies ColumnStep[],
      featureNames: ["color=red", "color=green", "color=blue", "age"],
    },
    artifact: {
      type: "linear",
      coefficients: [
        [1.1, 0, -0.3, 0.5],
        [-0.6, 0.7, 0.2, -0.2],
        [0, -0.5, 0.4, 0.1],
      ],
      intercepts: [0.2, -0.1, 0.05],
      link: "softmax",
    },
  },
  "linear regression": {
    ...base("RegressionTask"),
    preprocessing: preprocessing(true),
    artifact: {
      type: "linear",
      coefficients: [[12.5, -40.25, 3, -7, 1.5]],
      intercepts: [250.75],
      link: "identity",
    },
  },
  "random forest classifier (average of probabilities)": {
    ...base("TabularClassificationTask", ["a", "b", "c"]),
    preprocessing: preprocessing(false),
    artifact: {
      type: "trees",
      trees: forest(11, 7, 4, 3, true),
      aggregate: "average",
      scale: 1,
      baseValues: [0, 0, 0],
      postTransform: "none",
    },
  },
  "random forest binary (two outputs)": {
    ...base("TabularClassificationTask", ["0", "1"]),
    preprocessing: preprocessing(false),
    artifact: {
      type: "trees",
      trees: forest(12, 5, 3, 2, true),
      aggregate: "average",
      scale: 1,
      baseValues: [0, 0],
      postTransform: "none",
    },
  },
  "gradient boosting binary (one raw score, logistic)": {
    ...base("TabularClassificationTask", ["bot", "human"]),
    preprocessing: preprocessing(false),
    artifact: {
      type: "trees",
      trees: forest(13, 20, 3, 1),
      aggregate: "sum",
      scale: 0.1,
      baseValues: [-0.4],
      postTransform: "logistic",
    },
  },
  "gradient boosting multiclass (softmax)": {
    ...base("TabularClassificationTask", ["a", "b", "c"]),
    preprocessing: preprocessing(false),
    artifact: {
      type: "trees",
      trees: forest(14, 15, 3, 3),
      aggregate: "sum",
      scale: 0.3,
      baseValues: [0.1, -0.2, 0.05],
      postTransform: "softmax",
    },
  },
  "random forest regressor (average)": {
    ...base("RegressionTask"),
    preprocessing: preprocessing(false),
    artifact: {
      type: "trees",
      trees: forest(15, 9, 5, 1).map((t) => ({ ...t, values: t.values.map((v) => v.map((x) => x * 1000)) })),
      aggregate: "average",
      scale: 1,
      baseValues: [0],
      postTransform: "none",
    },
  },
  "gradient boosting regressor (sum)": {
    ...base("RegressionTask"),
    preprocessing: preprocessing(true),
    artifact: {
      type: "trees",
      trees: forest(16, 25, 3, 1).map((t) => ({
        ...t,
        // standardized inputs: thresholds in z-units
        threshold: t.threshold.map((th, n) =>
          t.feature[n]! === 0 ? (th - 42) / 17 : t.feature[n]! === 1 ? (th - 5500) / 2600 : th,
        ),
      })),
      aggregate: "sum",
      scale: 0.1,
      baseValues: [37.5],
      postTransform: "none",
    },
  },
};

function expectSame(got: Predictions, want: Predictions) {
  if (want.values) {
    expect(got.values).toBeDefined();
    for (let i = 0; i < want.values.length; i++)
      expect(Math.abs(got.values![i]! - want.values[i]!)).toBeLessThanOrEqual(
        1e-5 * Math.max(1, Math.abs(want.values[i]!)),
      );
    return;
  }
  expect(got.labels).toEqual(want.labels);
  want.probabilities!.forEach((p, i) =>
    p.forEach((v, k) => expect(Math.abs(got.probabilities![i]![k]! - v)).toBeLessThanOrEqual(1e-5)),
  );
}

describe("ONNX export of lab models", () => {
  for (const [name, model] of Object.entries(MODELS)) {
    it(`${name}: onnxruntime predicts what the artifact predicts`, async () => {
      const data = table();
      const predictor = await OnnxPredictor.load(exportTrainedModelToOnnx(model), ["age", "income", "color"]);
      try {
        const got = await predictor.predict(data);
        const want = referencePredict(model, data);
        expectSame(got, want);
        if (want.labels) expect(new Set(want.labels).size).toBeGreaterThan(1); // the fixture is not degenerate
      } finally {
        await predictor.release();
      }
    });
  }

  it("compares tree thresholds in double precision (a value 1e-9 above the threshold goes right)", async () => {
    const model: TrainedModel = {
      ...base("RegressionTask"),
      preprocessing: {
        inputColumns: ["x"],
        steps: [{ kind: "numeric", column: "x", fill: 0, center: 0, scale: 1 }],
        featureNames: ["x"],
      },
      artifact: {
        type: "trees",
        trees: [
          {
            feature: [0, -1, -1],
            threshold: [0.1, 0, 0],
            left: [1, -1, -1],
            right: [2, -1, -1],
            values: [[], [1], [2]],
          },
        ],
        aggregate: "sum",
        scale: 1,
        baseValues: [0],
        postTransform: "none",
      },
    };
    const predictor = await OnnxPredictor.load(exportTrainedModelToOnnx(model), ["x"]);
    const got = await predictor.predict({
      rowCount: 3,
      columns: [{ name: "x", type: "float", values: Float64Array.from([0.1, 0.1 + 1e-9, Number.NaN]) }],
    });
    expect(Array.from(got.values!)).toEqual([1, 2, 1]);
    await predictor.release();
  });

  it("names inputs after the columns and records classes and inputs in the metadata", () => {
    const bytes = exportTrainedModelToOnnx(MODELS["linear multiclass (softmax)"]!, { run_id: "12" });
    const proto = onnxProto.onnx.ModelProto.decode(bytes);
    expect(proto.graph!.input!.map((i) => i.name)).toEqual(["age", "income", "color"]);
    expect(proto.graph!.output!.map((o) => o.name)).toEqual(["label", "probabilities"]);
    const meta = Object.fromEntries(proto.metadataProps.map((p) => [p.key, p.value]));
    expect(JSON.parse(meta.classes!)).toEqual(["a", "b", "c"]);
    expect(JSON.parse(meta.inputs!)).toEqual([
      { name: "age", column: "age", type: "double" },
      { name: "income", column: "income", type: "double" },
      { name: "color", column: "color", type: "string" },
    ]);
    expect(meta.run_id).toBe("12");
  });

  it("renames an input column that collides with an output name", async () => {
    const model: TrainedModel = {
      ...base("RegressionTask"),
      preprocessing: {
        inputColumns: ["variable"],
        steps: [{ kind: "numeric", column: "variable", fill: 0, center: 0, scale: 1 }],
        featureNames: ["variable"],
      },
      artifact: { type: "linear", coefficients: [[2]], intercepts: [1], link: "identity" },
    };
    const predictor = await OnnxPredictor.load(exportTrainedModelToOnnx(model), ["variable"]);
    expect(predictor.inputs.map((i) => i.name)).toEqual(["input_variable"]);
    const got = await predictor.predict({
      rowCount: 2,
      columns: [{ name: "variable", type: "float", values: Float64Array.from([1, 2]) }],
    });
    expect(Array.from(got.values!)).toEqual([3, 5]);
    await predictor.release();
  });

  it("refuses to export k-NN, naive Bayes and dummy models", () => {
    const model: TrainedModel = {
      ...MODELS["linear regression"]!,
      artifact: { type: "dummy", output: [3] },
    };
    expect(() => exportTrainedModelToOnnx(model)).toThrow(OnnxExportUnsupported);
  });

  it("serves a user's model that takes one float matrix [N, d] (the input columns in order)", async () => {
    // y = 2·a − b, written by hand with onnx-proto like an external tool would.
    const { onnx } = onnxProto;
    const FLOAT = onnx.TensorProto.DataType.FLOAT;
    const info = (name: string, dims: (number | string)[]) => ({
      name,
      type: {
        tensorType: {
          elemType: FLOAT,
          shape: { dim: dims.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
        },
      },
    });
    const bytes = onnx.ModelProto.encode(
      onnx.ModelProto.create({
        irVersion: 8,
        opsetImport: [{ domain: "", version: 15 }],
        graph: {
          name: "user",
          input: [info("X", ["N", 2])],
          output: [info("Y", ["N", 1])],
          initializer: [{ name: "W", dataType: FLOAT, dims: [2, 1], floatData: [2, -1] }],
          node: [{ opType: "MatMul", input: ["X", "W"], output: ["Y"] }],
        },
      }),
    ).finish();
    const predictor = await OnnxPredictor.load(bytes, ["a", "b"], { inputColumns: ["a", "b"] });
    const got = await predictor.predict({
      rowCount: 2,
      columns: [
        { name: "b", type: "float", values: Float64Array.from([1, 4]) },
        { name: "a", type: "float", values: Float64Array.from([3, 5]) },
      ],
    });
    expect(Array.from(got.values!)).toEqual([5, 6]);
    await expect(OnnxPredictor.load(bytes, ["a", "b", "c"])).rejects.toThrow(OnnxModelRejected);
    await predictor.release();
  });

  it("rejects bytes that are not an ONNX model", async () => {
    await expect(OnnxPredictor.load(new TextEncoder().encode("not a model"), ["a"])).rejects.toThrow(
      OnnxModelRejected,
    );
  });
});
