// Wire shapes of /api/v1/run (DashAI's: `name`/`optimizer_name` on create, `run_name`/`optimizer` on PATCH).
import { z } from "zod";
import { labIdSchema } from "../datasets/datasets.schema.js";

export const RUN_STATUS = { NOT_STARTED: 0, DELIVERED: 1, STARTED: 2, FINISHED: 3, ERROR: 4 } as const;

export const runIdParamSchema = z.object({ run_id: labIdSchema.describe("Run id") });

const params = z.record(z.string(), z.unknown());
const runName = z.string().trim().min(1, "must not be blank").max(255);
const optionalText = z.string().max(10_000).nullable().optional();

export const createRunSchema = z.object({
  model_session_id: labIdSchema,
  model_name: z.string().min(1).max(100),
  name: runName,
  parameters: params
    .default({})
    .describe(
      "scikit-learn-named parameters; each a value or DashAI's {optimize, fixed_value, lower_bound, upper_bound, choices}",
    ),
  optimizer_name: z
    .string()
    .max(100)
    .nullable()
    .optional()
    .describe("OptunaOptimizer or HyperOptOptimizer; empty for none"),
  optimizer_parameters: params.nullable().optional().describe("{n_trials, sampler}"),
  goal_metric: z.string().max(100).nullable().optional().describe("The metric the search optimizes"),
  description: optionalText,
  plot_history_path: optionalText.describe("Ignored: plots are served by GET /api/v1/run/plot/{id}/{type}"),
  plot_slice_path: optionalText,
  plot_contour_path: optionalText,
  plot_importance_path: optionalText,
  nested: z.unknown().optional().describe("Accepted and ignored"),
});

export const updateRunSchema = runIdParamSchema.extend({
  run_name: runName.optional(),
  name: runName.optional().describe("Same as run_name"),
  description: optionalText,
  parameters: params.optional(),
  optimizer: z.string().max(100).nullable().optional().describe("The optimizer's name (DashAI's PATCH key)"),
  optimizer_name: z.string().max(100).nullable().optional(),
  optimizer_parameters: params.nullable().optional(),
  goal_metric: z.string().max(100).nullable().optional(),
  nested: z.unknown().optional(),
});

export const listRunsSchema = z.object({ model_session_id: labIdSchema.optional() });

const metricValues = z.record(z.string(), z.number().nullable()).nullable();

export const trialSchema = z.object({
  number: z.int(),
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
  value: z.number().nullable(),
  state: z.enum(["COMPLETE", "FAIL"]),
  error: z.string().optional(),
});

export const labRunSchema = z
  .object({
    id: z.int(),
    model_session_id: z.int(),
    experiment_id: z.int().describe("Same as model_session_id (older DashAI frontends read this name)"),
    name: z.string(),
    run_name: z.string().describe("Same as name"),
    description: z.string().nullable(),
    run_description: z.string().nullable(),
    model_name: z.string(),
    parameters: z.record(z.string(), z.unknown()),
    optimizer_name: z.string().nullable(),
    optimizer_parameters: z.record(z.string(), z.unknown()),
    goal_metric: z.string().nullable(),
    status: z.int().describe("0 NOT_STARTED, 1 DELIVERED, 2 STARTED, 3 FINISHED, 4 ERROR"),
    source: z.enum(["trained", "onnx"]).describe("trained by a ModelJob, or a user's uploaded ONNX model"),
    job_id: z.string().nullable(),
    error: z.string().nullable(),
    train_metrics: metricValues.describe("{metric: value} on the train split (null until trained)"),
    validation_metrics: metricValues,
    test_metrics: metricValues,
    best_parameters: z
      .record(z.string(), z.unknown())
      .nullable()
      .describe("After a search: the retrained parameters"),
    trials: z.array(trialSchema).nullable().describe("After a search: every trial and its goal-metric score"),
    plot_history_path: z.string().nullable().describe("GET path of the plot, when the run made a search"),
    plot_slice_path: z.string().nullable(),
    plot_contour_path: z.string().nullable(),
    plot_importance_path: z.string().nullable(),
    onnx_path: z.string().nullable().describe("GET path of the model's .onnx file, when there is one"),
    start_time: z.string().nullable(),
    end_time: z.string().nullable(),
    created: z.string(),
    last_modified: z.string(),
  })
  .meta({ id: "LabRun" });
export type LabRunOut = z.infer<typeof labRunSchema>;

export const operationsCountSchema = z.object({ explainers: z.int(), predictions: z.int() });

export const plotParamsSchema = runIdParamSchema.extend({
  plot_type: z.enum(["history", "slice", "contour", "importance"]),
});

export const plotFigureSchema = z
  .object({ data: z.array(z.record(z.string(), z.unknown())), layout: z.record(z.string(), z.unknown()) })
  .meta({ id: "LabPlotlyFigure" });
