// Wire shapes of /api/v1/component (DashAI's: a flat array of component dicts).
import { z } from "zod";
import { COMPONENT_TYPES } from "./service.js";

/** One list entry; `["Model","Metric"]` (lab-api.txt's JSON form) is read as the two names too. */
const typeName = z
  .string()
  .max(100)
  .transform((value) => value.replace(/^[\s["']+|[\s\]"']+$/g, ""));

export const componentQuerySchema = z.object({
  select_types: z
    .array(typeName)
    .max(20)
    .optional()
    .describe(
      "Only these types (Task, GenerativeTask, Model, Metric, Optimizer, Converter, Explorer, GlobalExplainer, LocalExplainer)",
    ),
  ignore_types: z.array(typeName).max(20).optional().describe("Leave these types out"),
  related_component: z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe("Only components that work with this one (e.g. a task: its models and metrics)"),
});

export const componentNameParamSchema = z.object({
  name: z.string().min(1).max(200).describe("Component name"),
});

export const componentSchema = z
  .object({
    name: z.string(),
    type: z.enum(COMPONENT_TYPES),
    display_name: z.string(),
    description: z.string(),
    schema: z.record(z.string(), z.unknown()).describe("JSON Schema of the parameters (the UI's form)"),
    compatible_components: z.array(z.string()).describe("The tasks it works with"),
    maximize: z.boolean().optional().describe("Metrics: whether larger is better"),
  })
  .meta({ id: "LabComponent" });
