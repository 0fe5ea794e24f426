import { z } from "zod";
import { modalitySchema, timestampSchema, uuidSchema } from "../shared.schema.js";

export const EXPORT_FORMATS = ["csv", "json", "jsonl"] as const;
export const exportFormatSchema = z.enum(EXPORT_FORMATS);
export type ExportFormat = z.infer<typeof exportFormatSchema>;

export const labelValueSchema = z
  .union([z.string(), z.array(z.int())])
  .describe("The consensus answer: a string, or a sorted list of cell indices for grid types");

export const labelSchema = z
  .object({
    item_id: z.string(),
    data_ref: z.string(),
    modality: modalitySchema,
    label: labelValueSchema,
    confidence: z.number().describe("Share of the votes that agree with the label"),
    solver_count: z.int().describe("Distinct solvers who voted on the item"),
    weighted_confidence: z
      .number()
      .nullable()
      .describe("Agreement weighted by each solver's ground-truth accuracy, beside the plain one"),
    created_at: timestampSchema,
    dataset_id: z.string(),
  })
  .meta({ id: "Label" });

export type LabelOut = z.infer<typeof labelSchema>;

export const itemStateSchema = z
  .enum(["unlabeled", "labeled", "revalidating", "graduated", "needs_review"])
  .meta({ id: "ItemState" });

export const labelSearchSchema = z
  .object({
    dataset_id: uuidSchema.optional().describe("Only this dataset's labels"),
    min_confidence: z.number().min(0).max(1).optional().describe("Only labels at least this confident"),
    limit: z.int().min(1).max(500).default(50).describe("Labels per page (max 500)"),
    offset: z.int().min(0).default(0).describe("Pagination offset"),
  })
  .strict()
  .meta({ id: "LabelSearch" });

export const labelRowSchema = labelSchema
  .extend({
    state: itemStateSchema.describe("The item's state (needs_review labels are left out of exports)"),
  })
  .meta({ id: "LabelRow" });

export const labelPageSchema = z
  .object({
    total: z.int().describe("Labels matching the filters"),
    limit: z.int(),
    offset: z.int(),
    labels: z.array(labelRowSchema).describe("Newest first"),
  })
  .meta({ id: "LabelPage" });

export type LabelSearchInput = z.infer<typeof labelSearchSchema>;
export type LabelPageOut = z.infer<typeof labelPageSchema>;
/** The columns of every export format, in this order. */
export const EXPORT_COLUMNS = [
  "item_id",
  "data_ref",
  "modality",
  "label",
  "confidence",
  "solver_count",
  "created_at",
] as const;
/** One exported label, with its label pre-encoded for CSV and for JSON (no per-row parse or re-encode). */
export interface ExportRow {
  itemId: string;
  dataRef: string;
  modality: string;
  labelCsv: string;
  labelJson: string;
  confidence: number;
  solverCount: number;
  createdAt: string;
}
