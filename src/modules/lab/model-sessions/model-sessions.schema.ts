// Wire shapes of /api/v1/model-session (DashAI's: `input_columns` on create, `inputs_columns` on validation).
import { z } from "zod";
import { labIdSchema } from "../datasets/datasets.schema.js";

const columnList = z.array(z.string().min(1).max(255)).max(2000);
const metricList = z.array(z.string().min(1).max(100)).max(50);
const sessionName = z.string().trim().min(1, "must not be blank").max(255);

/** `splits`: DashAI sends a string holding JSON; an object is taken too. */
const splitsInput = z
  .union([z.string().max(100_000), z.record(z.string(), z.unknown())])
  .describe(
    "JSON (a string or an object): `{splitter_name?, train, validation, test, seed?, shuffle?}` (ratios; " +
      "`train_size`/`validation_size`/`val_size`/`test_size` and `random_state` are read too). Default 0.6/0.2/0.2, seed 42",
  );

export const sessionIdParamSchema = z.object({ session_id: labIdSchema.describe("Model session id") });

export const createSessionSchema = z.object({
  dataset_id: labIdSchema,
  task_name: z.string().min(1).max(100),
  name: sessionName,
  input_columns: columnList.min(1),
  output_columns: columnList.min(1),
  train_metrics: metricList.optional(),
  validation_metrics: metricList.optional(),
  test_metrics: metricList.optional(),
  evaluation_strategy: z.string().max(100).nullable().optional(),
  splits: splitsInput.optional(),
  converters: z.array(z.unknown()).max(100).optional(),
});

export const updateSessionSchema = sessionIdParamSchema.extend({
  name: sessionName.optional(),
  dataset_id: labIdSchema.optional(),
  task_name: z.string().min(1).max(100).optional(),
  input_columns: z
    .union([columnList, z.string().max(100_000)])
    .optional()
    .describe("A list, or a JSON string of one"),
  output_columns: z
    .union([columnList, z.string().max(100_000)])
    .optional()
    .describe("A list, or a JSON string of one"),
  train_metrics: metricList.optional(),
  validation_metrics: metricList.optional(),
  test_metrics: metricList.optional(),
  evaluation_strategy: z.string().max(100).nullable().optional(),
  splits: splitsInput.optional(),
});

export const validationSchema = z.object({
  task_name: z.string().min(1).max(100),
  dataset_id: labIdSchema,
  inputs_columns: columnList,
  outputs_columns: columnList,
  model_session_id: labIdSchema.nullable().optional(),
});

export const validationResultSchema = z.object({ dataset_status: z.literal("valid") });

export const bulkDeleteSessionsSchema = z.object({ ids: z.array(labIdSchema).max(1000) });

export const modelSessionSchema = z
  .object({
    id: z.int(),
    name: z.string(),
    dataset_id: z.int(),
    task_name: z.string(),
    input_columns: z.array(z.string()),
    output_columns: z.array(z.string()),
    train_metrics: z.array(z.string()),
    validation_metrics: z.array(z.string()),
    test_metrics: z.array(z.string()),
    evaluation_strategy: z.string().nullable(),
    splits: z.string().describe("JSON: {splitter_name, train, validation, test, seed, shuffle}"),
    split_sizes: z
      .object({ train: z.int(), validation: z.int(), test: z.int() })
      .nullable()
      .describe("Rows in each split for the dataset's current row count (null when it is not loaded)"),
    converters: z.array(z.unknown()),
    created: z.string(),
    last_modified: z.string(),
  })
  .meta({ id: "LabModelSession" });
export type ModelSessionOut = z.infer<typeof modelSessionSchema>;
