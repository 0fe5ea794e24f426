// Wire shapes of /api/v1/notebook (DashAI's frontend calls them; they are not in lab-api.txt).
import { z } from "zod";
import { columnTypeSchema, labIdSchema } from "../datasets/datasets.schema.js";

export const notebookIdParamSchema = z.object({ notebook_id: labIdSchema.describe("Notebook id") });

export const labNotebookSchema = z
  .object({
    id: z.int(),
    name: z.string(),
    description: z.string().nullable(),
    dataset_id: z
      .int()
      .nullable()
      .describe("The dataset it was copied from (the notebook keeps its copy if that dataset is deleted)"),
    file_path: z.string().describe("`notebooks/<id>`"),
    total_rows: z.int(),
    total_columns: z.int(),
    created: z.string().describe("ISO 8601"),
    last_modified: z.string().describe("ISO 8601"),
  })
  .meta({ id: "LabNotebook" });
export type LabNotebookOut = z.infer<typeof labNotebookSchema>;

const name = z.string().trim().min(1, "must not be blank").max(255);

export const createNotebookSchema = z.object({
  dataset_id: labIdSchema.describe("The dataset to copy (status 3 FINISHED)"),
  name: name.nullable().optional().describe("Default: Untitled Notebook"),
  description: z.string().max(2000).nullable().optional(),
});

export const updateNotebookSchema = notebookIdParamSchema.extend({
  name: name.describe("The new name"),
  description: z.string().max(2000).nullable().optional(),
});

export const listQuerySchema = notebookIdParamSchema.extend({
  skip: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(0).max(1000).default(0).describe("0: all"),
});

export const notebookDataSchema = z
  .object({
    total_rows: z.int(),
    columns: z.array(z.object({ name: z.string(), type: columnTypeSchema, nulls: z.int() })),
    rows: z.array(z.record(z.string(), z.union([z.number(), z.boolean(), z.string(), z.null()]))),
  })
  .meta({ id: "LabNotebookData" });

export const notebookRowsQuerySchema = notebookIdParamSchema.extend({
  page: z.coerce.number().int().min(0).default(0),
  page_size: z.coerce.number().int().min(1).max(500).default(10),
});
