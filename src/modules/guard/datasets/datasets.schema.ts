import { z } from "zod";
import { challengeTypeSchema, modalitySchema } from "../shared.schema.js";

export const datasetSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    modality: modalitySchema,
    item_count: z.int().describe("Exact number of items in the dataset"),
    created_at: z.string().describe("ISO 8601"),
    prompt: z.string().nullable().describe("Default prompt of the dataset's challenges"),
    challenge_type: challengeTypeSchema.describe("Default challenge type of the dataset's items"),
    choices: z.array(z.string()).describe("Allowed answers of classify challenges; empty for grid types"),
  })
  .meta({ id: "Dataset" });

export const createDatasetSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    modality: modalitySchema,
    prompt: z.string().trim().min(1).max(1000).nullish(),
    challenge_type: challengeTypeSchema
      .optional()
      .describe("Default: the modality (classify one item); grid_select/select_all need image"),
    choices: z
      .array(z.string().trim().min(1).max(100))
      .max(50)
      .optional()
      .describe('Default: ["yes","no"] for classify types, [] for grid types'),
  })
  .strict()
  .meta({ id: "DatasetCreate" });

export type DatasetOut = z.infer<typeof datasetSchema>;
export type CreateDatasetInput = z.infer<typeof createDatasetSchema>;
