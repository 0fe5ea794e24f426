import { z } from "zod";
import { groundTruthSchema, MAX_DATA_REF } from "../items/items.schema.js";
import { challengeTypeSchema, modalitySchema, timestampSchema, uuidSchema } from "../shared.schema.js";

export const datasetSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    modality: modalitySchema,
    item_count: z.int().describe("Exact number of items in the dataset"),
    created_at: timestampSchema.describe("When the dataset was created (ISO 8601, UTC)"),
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

const count = (what: string) => z.int().describe(what);

export const datasetProgressSchema = z
  .object({
    dataset_id: z.string(),
    ground_truth: count("Ground-truth items (known answer; outside the labeling life cycle)"),
    unlabeled: count("Items waiting for enough agreeing votes"),
    labeled: count("Items with a finalized label"),
    revalidating: count("Labeled items being re-checked by further votes"),
    graduated: count("Items whose label survived re-validation"),
    needs_review: count("Items whose confidence fell below the floor (left out of exports)"),
  })
  .meta({ id: "DatasetProgress" });

export const datasetProgressInputSchema = z
  .object({
    ids: z.array(uuidSchema).max(1000).describe("Datasets to report (default: all)").optional(),
  })
  .strict();

/** An item uploaded from the dashboard into one dataset (modality and dataset come from the dataset). */
export const datasetItemSchema = z
  .object({
    data_ref: z
      .string()
      .max(MAX_DATA_REF)
      .refine((value) => value.trim().length > 0, "must not be empty")
      .describe("Where the item's content is (URL or text), at most 2048 characters"),
    challenge_type: challengeTypeSchema.nullish().describe("Overrides the dataset's default"),
    prompt: z.string().trim().min(1).max(1000).nullish().describe("Overrides the dataset's default"),
    ground_truth: groundTruthSchema.nullish(),
  })
  .strict()
  .meta({ id: "DatasetItemUpload" });

export const datasetUploadSchema = z
  .object({
    id: uuidSchema.describe("Dataset id"),
    items: z
      .array(datasetItemSchema)
      .min(1, "at least one item is needed")
      .max(1000, "at most 1000 items per request; send larger files in batches (the dashboard does)"),
  })
  .strict();

export type DatasetProgressOut = z.infer<typeof datasetProgressSchema>;
