// The wire contract of labeling suites and runs (LLMs scored against the crowd; ours, not upstream's).
import { z } from "zod";
import { EVAL_STATUSES, toolEvalRequestSchema } from "../evals/evals.schema.js";

export const LABEL_SUITE_ITEMS_MAX = 1000;

export const labelSuiteCreateSchema = z.object({
  dataset_id: z.uuid("dataset_id must be a guard dataset's id"),
  name: z.string().trim().min(1).max(200).optional().describe("Default: the dataset's name"),
  max_items: z
    .number()
    .int()
    .min(1)
    .max(LABEL_SUITE_ITEMS_MAX)
    .default(200)
    .describe("The first N finalized labels, in the export's order"),
  min_confidence: z
    .number()
    .min(0)
    .max(1)
    .default(0)
    .describe("Only labels whose consensus confidence is at least this"),
});
export type LabelSuiteCreate = z.infer<typeof labelSuiteCreateSchema>;

const itemSchema = z.object({
  item_id: z.string(),
  data_ref: z.string(),
  modality: z.string(),
  label: z.string().describe("The consensus label: the class, or the JSON of the sorted cell indices"),
  confidence: z.number(),
  solver_count: z.number().int(),
});

const suiteFields = {
  id: z.string(),
  type: z.literal("labeling"),
  name: z.string(),
  dataset_id: z.string(),
  dataset_name: z.string(),
  modality: z.string(),
  challenge_type: z.string(),
  prompt: z.string().nullable(),
  choices: z.array(z.string()),
  item_count: z.number().int(),
  created_at: z.string(),
};
export const labelSuiteSchema = z.object(suiteFields).meta({ id: "LabelSuite" });
export const labelSuiteDetailSchema = z.object({ ...suiteFields, items: z.array(itemSchema) });
export const labelSuiteListSchema = z.object({ suites: z.array(labelSuiteSchema) });
export const labelSuiteIdSchema = z.object({ suite_id: z.string().min(1).max(100) });

export const labelDatasetListSchema = z.object({
  datasets: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      modality: z.string(),
      challenge_type: z.string(),
      choices: z.array(z.string()),
      item_count: z.number().int(),
    }),
  ),
});

export const labelRunRequestSchema = z.object({
  suite_id: z.string().min(1, "suite_id is required").max(100),
  models: toolEvalRequestSchema.shape.models,
  temperature: z.number().min(0).max(2).default(0),
  max_tokens: z.number().int().min(1).max(4096).default(64).describe("Per call: a label is short"),
  concurrency: z
    .number()
    .int()
    .min(1)
    .max(8)
    .default(4)
    .describe("Items in flight at once per model (each call is timed on its own)"),
});
export type LabelRunRequest = z.infer<typeof labelRunRequestSchema>;

export const labelModelSummarySchema = z.object({
  model_id: z.string(),
  model_name: z.string(),
  provider: z.string(),
  provider_key: z.string(),
  items: z.number().int(),
  answered: z.number().int(),
  errors: z.number().int(),
  correct: z.number().int(),
  accuracy: z.number().describe("correct / items (0-1): a failed call counts as a wrong label"),
  weighted_agreement: z
    .number()
    .describe("Σ confidence of the correctly labeled items / Σ confidence of all items (0-1)"),
  cost_total: z.number(),
  cost_per_1k_labels: z.number().nullable().describe("USD per 1,000 labels answered"),
  avg_latency_ms: z.number().nullable(),
  labels_per_minute: z.number().nullable().describe("One call at a time"),
  input_tokens: z.number().int(),
  output_tokens: z.number().int(),
});

export const crowdSummarySchema = z
  .object({
    items: z.number().int(),
    mean_confidence: z.number().describe("Mean consensus confidence of the items"),
    solvers: z.number().int().describe("Distinct people who voted on the items"),
    votes: z.number().int(),
    vote_agreement: z
      .number()
      .nullable()
      .describe("Votes matching the item's consensus label / votes (one person scored as a model is)"),
    gt_correct: z.number().int(),
    gt_total: z.number().int(),
    gt_accuracy: z
      .number()
      .nullable()
      .describe("Those voters' answers on ground-truth items: right / all (the crowd against ground truth)"),
  })
  .meta({ id: "CrowdSummary" });

const runFields = {
  id: z.string(),
  suite_id: z.string().nullable().describe("null once the suite is deleted"),
  suite_name: z.string(),
  dataset_id: z.string(),
  models: z.array(z.string()),
  temperature: z.number(),
  summary: z.array(labelModelSummarySchema),
  crowd: crowdSummarySchema.nullable(),
  status: z.enum(EVAL_STATUSES),
  timestamp: z.string().describe('UTC, "YYYY-MM-DD HH:MM:SS"'),
  finished_at: z.string().nullable(),
};
export const labelRunListSchema = z.object({ runs: z.array(z.object(runFields)) });
export const labelRunSchema = z.object({
  ...runFields,
  error: z.string().nullable(),
  results: z.array(z.record(z.string(), z.unknown())).describe("The label_result events, in order"),
});
export const labelRunIdSchema = z.object({ run_id: z.string().min(1).max(100) });
