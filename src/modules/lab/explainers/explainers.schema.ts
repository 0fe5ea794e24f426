// Wire shapes of /api/v1/explainer (DashAI's frontend: `{run_id, explainer_name, parameters}` for a global
// explainer; `{run_id, dataset_id, explainer_name, parameters, fit_parameters, scope}` for a local one; the
// plot as an array of artifacts whose `payload` is the Plotly figure as a JSON string).
import { z } from "zod";
import { labIdSchema } from "../datasets/datasets.schema.js";

export const EXPLAINER_STATUS = { NOT_STARTED: 0, DELIVERED: 1, STARTED: 2, FINISHED: 3, ERROR: 4 } as const;

export const scopeSchema = z.enum(["global", "local"]);
export type ExplainerScope = z.infer<typeof scopeSchema>;

const params = z.record(z.string(), z.unknown());
const name = z.string().trim().min(1, "must not be blank").max(255);
const backend = z
  .enum(["auto", "onnx"])
  .default("auto")
  .describe(
    "Which model is explained: auto (the in-process model, or the ONNX model of an uploaded ONNX run) or onnx (the run's .onnx file through onnxruntime)",
  );

export const createGlobalSchema = z.object({
  run_id: labIdSchema,
  explainer_name: z.string().min(1).max(100).describe("PermutationFeatureImportance or PartialDependence"),
  parameters: params
    .default({})
    .describe("The explainer's parameters (GET /api/v1/component/ for the schema)"),
  name: name.optional(),
  backend,
});

export const createLocalSchema = z.object({
  run_id: labIdSchema,
  dataset_id: labIdSchema.describe(
    "The dataset whose rows are explained (it must have the run's input columns)",
  ),
  explainer_name: z.string().min(1).max(100).describe("KernelShap"),
  parameters: params.default({}),
  fit_parameters: params.default({}).describe("Merged with parameters (n_background_samples, random_state)"),
  scope: z
    .object({
      rows: z
        .array(z.int().min(0).max(2_147_483_647))
        .min(1)
        .max(100)
        .optional()
        .describe("0-based row indexes of the dataset to explain (default: the first max_instances rows)"),
    })
    .loose()
    .default({}),
  name: name.optional(),
  backend,
});

export const listExplainersSchema = z.object({ run_id: labIdSchema.optional() });
export const explainerIdParamSchema = z.object({ explainer_id: labIdSchema.describe("Explainer id") });

export const validateDatasetSchema = z.object({ run_id: labIdSchema, dataset_id: labIdSchema });
export const validateDatasetOutSchema = z.object({
  dataset_status: z.enum(["valid", "invalid"]),
  missing_columns: z.array(z.string()).optional(),
  type_mismatches: z.record(z.string(), z.object({ expected: z.string(), got: z.string() })).optional(),
});

export const patchExplainerSchema = z.object({
  explainer_id: labIdSchema,
  scope: scopeSchema,
  name,
});

export const labExplainerSchema = z
  .object({
    id: z.int(),
    name: z.string(),
    run_id: z.int(),
    scope: scopeSchema,
    explainer_name: z.string(),
    dataset_id: z.int().nullable(),
    parameters: z.record(z.string(), z.unknown()).describe("With the defaults filled in"),
    fit_parameters: z.record(z.string(), z.unknown()),
    instances: z.record(z.string(), z.unknown()).describe("Local: the rows explained ({rows})"),
    backend: z.enum(["auto", "onnx"]),
    status: z.int().describe("0 NOT_STARTED, 1 DELIVERED, 2 STARTED, 3 FINISHED, 4 ERROR"),
    job_id: z.string().nullable(),
    error: z.string().nullable(),
    plot_path: z.string().nullable().describe("GET path of the plots, once finished"),
    created: z.string(),
    created_at: z.string().describe("Same as created (DashAI's frontend reads this name)"),
    last_modified: z.string(),
  })
  .meta({ id: "LabExplainer" });
export type LabExplainerOut = z.infer<typeof labExplainerSchema>;

export const labExplainerDetailSchema = labExplainerSchema
  .extend({
    explanation: z
      .unknown()
      .nullable()
      .describe(
        "Once finished: permutation importance {metric, baseline, features, importances_mean, importances_std, importances}; partial dependence {outputs, features: [{feature, kind, grid, average}]}; KernelSHAP {features, outputs, base_value, instances: [{row, prediction, shap_values}]}",
      ),
  })
  .meta({ id: "LabExplainerDetail" });

export const artifactSchema = z
  .object({
    type: z.enum(["plotly", "table"]),
    payload: z.unknown().describe("plotly: the figure as a JSON string; table: {columns, rows, highlight}"),
    title: z.string().nullable(),
    role: z.enum(["input", "explanation"]),
  })
  .meta({ id: "LabArtifact" });

export const validDatasetsSchema = z.object({ run_id: labIdSchema });
export const validDatasetsOutSchema = z.object({
  valid_dataset_ids: z
    .array(z.int())
    .describe("The finished datasets with the run's input and output columns, typed as in its dataset"),
});

export const runIdParamSchema = z.object({ run_id: labIdSchema.describe("Run id") });
export const explainableSplitsOutSchema = z.object({
  splits: z
    .array(
      z.object({
        name: z.enum(["train", "validation", "test"]).describe("A value of the explainers' split parameter"),
        rows: z.int().describe("Rows of the run's dataset in that split (with a known output value)"),
      }),
    )
    .describe("The non-empty splits, in this order"),
});

export const plotOverrideSchema = explainerIdParamSchema.extend({
  index: z.int().min(0).max(10_000).describe("Which artifact of GET …/plot/{explainer_id} (a plotly one)"),
  figure: z
    .union([z.string().max(5_000_000), z.record(z.string(), z.unknown())])
    .describe("The edited Plotly figure {data, layout}, as an object or its JSON string"),
});
export const plotOverrideIndexSchema = explainerIdParamSchema.extend({
  index: z.coerce.number().int().min(0).max(10_000),
});
export const okSchema = z.object({ status: z.literal("ok") });
