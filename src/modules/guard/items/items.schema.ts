import { z } from "zod";
import { challengeTypeSchema, modalitySchema, timestampSchema, uuidSchema } from "../shared.schema.js";

export const MAX_ITEMS_PER_REQUEST = 1000;
export const MAX_DATA_REF = 2048;

export const groundTruthSchema = z
  .union([z.string().trim().min(1).max(200), z.array(z.int().min(0).max(1000)).max(1000)])
  .describe("Known answer: a string, or a list of cell indices for grid_select/select_all");

export const itemInputSchema = z
  .object({
    dataset_id: uuidSchema,
    data_ref: z
      .string()
      .max(MAX_DATA_REF)
      .refine((value) => value.trim().length > 0, "must not be empty")
      .describe("Where the item's content is (URL or text), at most 2048 characters"),
    modality: modalitySchema.describe("Must be the dataset's modality"),
    challenge_type: challengeTypeSchema.nullish().describe("Overrides the dataset's default"),
    prompt: z.string().trim().min(1).max(1000).nullish().describe("Overrides the dataset's default"),
    ground_truth: groundTruthSchema.nullish(),
  })
  .strict()
  .meta({ id: "ItemUpload" });

export const uploadItemsSchema = z
  .object({
    items: z
      .array(itemInputSchema)
      .min(1, "at least one item is needed")
      .max(
        MAX_ITEMS_PER_REQUEST,
        `at most ${MAX_ITEMS_PER_REQUEST} items per request; send larger uploads in batches (the CLI does)`,
      ),
  })
  .strict()
  .meta({ id: "ItemsUpload" });

export const uploadItemsResultSchema = z
  .object({ created: z.int(), item_ids: z.array(z.string()) })
  .meta({ id: "ItemsUploaded" });

export const itemSchema = z
  .object({
    id: z.string(),
    dataset_id: z.string(),
    data_ref: z.string(),
    modality: modalitySchema,
    created_at: timestampSchema,
    challenge_type: challengeTypeSchema.nullable(),
    prompt: z.string().nullable(),
  })
  .meta({ id: "Item" });

export type ItemInput = z.infer<typeof itemInputSchema>;
export type ItemOut = z.infer<typeof itemSchema>;
