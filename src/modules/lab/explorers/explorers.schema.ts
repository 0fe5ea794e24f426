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
