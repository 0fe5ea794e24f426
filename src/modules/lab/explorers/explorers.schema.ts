// Wire shapes of /api/v1/explorer (DashAI's frontend: JSON bodies, trailing slashes).
import { z } from "zod";
import { labIdSchema } from "../datasets/datasets.schema.js";

export const explorerIdParamSchema = z.object({ explorer_id: labIdSchema.describe("Explorer id") });

/** A column as DashAI's frontend sends it: a name, or an object carrying it. */
export const explorerColumnSchema = z.union([
  z.string().min(1).max(255),
  z
    .object({
      columnName: z.string().min(1).max(255).optional(),
      name: z.string().min(1).max(255).optional(),
      column: z.string().min(1).max(255).optional(),
    })
    .loose(),
]);

export const labExplorerSchema = z
  .object({
    id: z.int(),
    notebook_id: z.int(),
    name: z.string().nullable(),
    exploration_type: z.string().describe("The explorer component's name"),
    columns: z.array(z.unknown()).describe("As sent"),
    parameters: z.record(z.string(), z.unknown()),
    status: z.int().describe("0 NOT_STARTED, 1 DELIVERED, 2 STARTED, 3 FINISHED, 4 ERROR"),
    job_id: z.string().nullable(),
    error: z.string().nullable(),
    created: z.string(),
    last_modified: z.string(),
  })
  .meta({ id: "LabExplorer" });
export type LabExplorerOut = z.infer<typeof labExplorerSchema>;

export const listExplorersSchema = z.object({
  skip: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(0).max(1000).default(0).describe("0: all"),
});

export const createExplorerSchema = z
  .object({
    notebook_id: labIdSchema,
    exploration_type: z.string().min(1).max(100).describe("The explorer component's name"),
    columns: z.array(explorerColumnSchema).max(100).default([]).describe("Empty: the columns it accepts"),
    parameters: z.record(z.string(), z.unknown()).default({}),
    name: z.string().max(255).nullable().optional(),
  })
  .loose();

export const updateExplorerSchema = explorerIdParamSchema.extend({
  columns: z.array(explorerColumnSchema).max(100).optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  name: z.string().max(255).nullable().optional(),
});

export const figureSchema = z.record(z.string(), z.unknown()).describe("Plotly figure JSON {data, layout}");

export const resultsQuerySchema = explorerIdParamSchema.extend({
  options: z.record(z.string(), z.unknown()).optional().describe("Accepted (DashAI sends {}); unused"),
});

export const overrideSchema = explorerIdParamSchema.extend({
  index: z.int().min(0).describe("Which figure"),
  figure: figureSchema,
});

export const overrideIndexSchema = explorerIdParamSchema.extend({ index: z.coerce.number().int().min(0) });

export const messageSchema = z.object({ message: z.string() }).meta({ id: "LabMessage" });
