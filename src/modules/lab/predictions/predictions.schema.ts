// Wire shapes of /api/v1/predict (DashAI's: `POST /predict/` JSON `{run_id, dataset_id?, split?}`, then a
// PredictJob through `POST /api/v1/job/`; `filter_datasets` answers `{valid_dataset_ids}`).
import { z } from "zod";
import { labIdSchema } from "../datasets/datasets.schema.js";

export const PREDICTION_STATUS = { NOT_STARTED: 0, DELIVERED: 1, STARTED: 2, FINISHED: 3, ERROR: 4 } as const;

export const predictionIdParamSchema = z.object({ prediction_id: labIdSchema.describe("Prediction id") });

export const splitNameSchema = z.enum(["train", "validation", "test"]);

export const createPredictionSchema = z.object({
  run_id: labIdSchema,
  dataset_id: labIdSchema
    .nullable()
    .optional()
    .describe("The dataset to predict (schema-compatible with the run's: see filter_datasets)"),
  split: splitNameSchema
    .nullable()
    .optional()
    .describe("Predict a split of the run's training dataset instead (train, validation, test)"),
});

export const listPredictionsSchema = z.object({
  run_id: labIdSchema.optional(),
  prediction_id: labIdSchema.optional(),
});

export const filterDatasetsSchema = z.object({
  run_id: labIdSchema.optional().describe("The run whose input columns a dataset must have"),
  model_session_id: labIdSchema.optional().describe("Or a model session (its input columns)"),
  train_dataset_id: labIdSchema.optional().describe("Or a training dataset (the same column schema)"),
});

export const filterDatasetsResultSchema = z.object({ valid_dataset_ids: z.array(z.int()) });

export const splitsResultSchema = z.object({
  splits: z.array(z.object({ name: splitNameSchema, rows: z.int() })),
  training_dataset_id: z.int(),
});

const cell = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const predictionTableSchema = z
  .object({
    columns: z
      .array(z.string())
      .describe(
        "The input columns, then the output column (the predicted label or value), then for classification `probability(<class>)` per class",
      ),
    rows: z.array(z.array(cell)),
  })
  .meta({ id: "LabPredictionTable" });
export type PredictionTable = z.infer<typeof predictionTableSchema>;

export const labPredictionSchema = z
  .object({
    id: z.int(),
    run_id: z.int(),
    dataset_id: z.int().nullable(),
    split: splitNameSchema.nullable(),
    manual_input: z.boolean().describe("True when the rows were typed in (PredictJob's manual_input_data)"),
    status: z.int().describe("0 NOT_STARTED, 1 DELIVERED, 2 STARTED, 3 FINISHED, 4 ERROR"),
    job_id: z.string().nullable(),
    error: z.string().nullable(),
    rows: z.int().nullable().describe("Rows predicted (when finished)"),
    results_path: z.string().nullable().describe("GET path of the results as CSV (when finished)"),
    created: z.string(),
    last_modified: z.string(),
  })
  .meta({ id: "LabPrediction" });
export type LabPredictionOut = z.infer<typeof labPredictionSchema>;

export const predictionResultsQuerySchema = predictionIdParamSchema.extend({
  offset: z.coerce.number().int().min(0).max(2_147_483_647).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const predictionResultsSchema = predictionTableSchema
  .extend({ total: z.int().describe("Rows in the whole result") })
  .meta({ id: "LabPredictionResults" });
