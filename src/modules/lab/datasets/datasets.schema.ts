// Wire shapes of /api/v1/dataset (DashAI's, snake_case). Entity status is DashAI's integer enum.
import { z } from "zod";

export const DATASET_STATUS = { NOT_STARTED: 0, DELIVERED: 1, STARTED: 2, FINISHED: 3, ERROR: 4 } as const;

export const labIdSchema = z.coerce.number().int().min(1).max(2_147_483_647);

export const datasetIdParamSchema = z.object({ dataset_id: labIdSchema.describe("Dataset id") });

export const labDatasetSchema = z
  .object({
    id: z.int(),
    name: z.string(),
    created: z.string().describe("ISO 8601"),
    last_modified: z.string().describe("ISO 8601"),
    file_path: z.string().nullable().describe("`datasets/<id>` once loaded: the `path` of /dataset/filter/"),
    status: z.int().describe("0 NOT_STARTED, 1 DELIVERED, 2 STARTED, 3 FINISHED, 4 ERROR"),
    total_rows: z.int().nullable(),
    total_columns: z.int().nullable(),
    folder_id: z.int().nullable(),
    task: z.string().nullable().describe("Seed datasets only (always null here)"),
    job_id: z.string().nullable().describe("The job that loads the data"),
    error: z.string().nullable().describe("Why the load failed (status 4)"),
  })
  .meta({ id: "LabDataset" });
export type LabDatasetOut = z.infer<typeof labDatasetSchema>;

const datasetName = z.string().trim().min(1, "must not be blank").max(255);

export const createLabDatasetSchema = z.object({
  name: datasetName,
  notebook_id: z
    .int()
    .nullable()
    .optional()
    .describe(
      "Ignored here: a notebook is saved as this dataset by the DatasetJob {dataset_id, notebook_id} that follows",
    ),
});

export const updateLabDatasetSchema = datasetIdParamSchema.extend({
  name: datasetName.optional(),
  folder_id: z.int().nullable().optional().describe("Accepted and ignored (folders are not kept)"),
});

export const bulkDeleteSchema = z.object({
  ids: z.array(labIdSchema).max(1000).describe("Unknown ids are skipped"),
});

export const deletedSchema = z.object({ deleted: z.int() }).meta({ id: "LabDeleted" });

export const columnTypeSchema = z.enum(["integer", "float", "categorical", "text", "boolean", "datetime"]);

export const columnTypesSchema = z
  .record(
    z.string(),
    z.object({
      type: columnTypeSchema,
      dtype: z.string().describe("Arrow-style storage type"),
      nulls: z.int().describe("Missing values"),
    }),
  )
  .meta({ id: "LabColumnTypes" });

export const changeTypesSchema = datasetIdParamSchema.extend({
  types: z
    .record(z.string(), z.string().min(1).max(40))
    .describe(
      "Column name → new type (integer, float, categorical, text, boolean, datetime; DashAI's capitalized names work too)",
    ),
});

export const sampleSchema = z
  .record(z.string(), z.array(z.union([z.number(), z.boolean(), z.string(), z.null()])))
  .describe("Column → up to 10 values");

export const datasetInfoSchema = z
  .object({
    id: z.int(),
    name: z.string(),
    total_rows: z.int(),
    total_columns: z.int(),
    size_bytes: z.int().describe("Bytes of its columnar files"),
    columns: z.array(
      z.object({ name: z.string(), type: columnTypeSchema, dtype: z.string(), nulls: z.int() }),
    ),
  })
  .meta({ id: "LabDatasetInfo" });

export const copySchema = z.object({ dataset_id: labIdSchema, name: datasetName.optional() });

export const renameColumnSchema = datasetIdParamSchema.extend({
  old_name: z.string().min(1).max(255),
  new_name: z.string().trim().min(1, "must not be blank").max(255),
});

export const renameColumnResultSchema = z.object({
  message: z.string(),
  old_name: z.string(),
  new_name: z.string(),
  columns: z.array(z.string()),
});

export const filterQuerySchema = z.object({
  path: z.string().min(1).max(200).describe("The dataset's `file_path` (`datasets/<id>`)"),
  page: z.coerce.number().int().min(0).max(10_000_000).default(0).describe("0-based page"),
  page_size: z.coerce.number().int().min(1).max(1000).default(10),
  filterModel: z
    .string()
    .max(100_000)
    .optional()
    .describe("MUI filter model as JSON: {items, logicOperator}"),
  sortModel: z.string().max(10_000).optional().describe("Sort model as JSON: [{id, desc}]"),
});

export const filterResultSchema = z.object({
  rows: z.array(z.record(z.string(), z.union([z.number(), z.boolean(), z.string(), z.null()]))),
  total: z.int().describe("Rows that pass the filter"),
});

export const importGuardSchema = z.object({
  guard_dataset_id: z.uuid().describe("The guard (challenge) dataset whose finalized labels become rows"),
  name: datasetName.optional().describe("Default: the guard dataset's name plus `-labels`"),
});
