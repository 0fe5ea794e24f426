// Wire shapes of /api/v1/converter: one converter step of a notebook. DashAI's frontend passes its body
// through as-is, so the step's name and parameters are accepted under both spellings seen upstream.
import { z } from "zod";
import { labIdSchema } from "../datasets/datasets.schema.js";

export const converterIdParamSchema = z.object({
  converter_list_id: labIdSchema.describe("Converter (step) id"),
});

export const labConverterSchema = z
  .object({
    id: z.int(),
    notebook_id: z.int(),
    converter: z.string().describe("The converter component's name"),
    parameters: z.record(z.string(), z.unknown()),
    scope: z.object({ columns: z.array(z.string()) }).describe("The columns it applied to"),
    status: z.int().describe("0 NOT_STARTED, 1 DELIVERED, 2 STARTED, 3 FINISHED, 4 ERROR"),
    job_id: z.string().nullable(),
    error: z.string().nullable(),
    result: z
      .record(z.string(), z.unknown())
      .nullable()
      .describe("What the fit found (PCA's explained variance...)"),
    created: z.string(),
    last_modified: z.string(),
  })
  .meta({ id: "LabConverter" });
export type LabConverterOut = z.infer<typeof labConverterSchema>;

const column = z.union([z.string().min(1).max(255), z.int().min(0)]);

export const createConverterSchema = z
  .object({
    notebook_id: labIdSchema,
    converter: z
      .string()
      .min(1)
      .max(100)
      .optional()
      .describe("The converter's name (or `converter_name`, `name`)"),
    converter_name: z.string().min(1).max(100).optional(),
    name: z.string().min(1).max(100).optional(),
    parameters: z.record(z.string(), z.unknown()).optional().describe("Its parameters (or `params`)"),
    params: z.record(z.string(), z.unknown()).optional(),
    scope: z
      .object({ columns: z.array(column).max(10_000).optional() })
      .loose()
      .optional()
      .describe("Target columns by name or 0-based position; empty: every column the converter accepts"),
    columns: z.array(column).max(10_000).optional().describe("Same as scope.columns"),
  })
  .loose();

export const revertSchema = z.object({ jobId: z.string().nullable() }).meta({ id: "LabConverterRevert" });
