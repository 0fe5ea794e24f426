import { z } from "zod";

const metric = (description: string) => z.number().nullable().describe(description);

export const modelMetricsSchema = z
  .object({
    accuracy: metric("Share of held-out sessions classified right at 0.5 (null when not evaluated)"),
    roc_auc: metric("ROC-AUC on the held-out sessions (null when one class is absent)"),
    log_loss: metric("Mean log-loss on the held-out sessions"),
    training_ms: metric("Time to fit the model, in milliseconds (null for uploaded models)"),
    train_sessions: metric("Sessions the model was fitted on"),
    test_sessions: metric("Held-out sessions the metrics were measured on (recent labeled ones for uploads)"),
    iterations: metric("Newton iterations of the fit"),
    onnx_max_abs_diff: metric(
      "Largest difference between the exported ONNX model's and the in-process model's scores on the held-out rows",
    ),
  })
  .meta({ id: "RiskModelMetrics" });

export const modelInfoSchema = z
  .object({
    version: z.int().describe("Version number; the newest version is the active one"),
    source: z.enum(["trained", "uploaded"]),
    created_at: z.string().describe("ISO 8601"),
    trained_on: z.int().describe("Labeled sessions read for training (0 for uploaded models)"),
    metrics: modelMetricsSchema,
  })
  .meta({ id: "RiskModel" });

export const trainingStateSchema = z
  .object({
    state: z.enum(["idle", "running", "failed", "completed"]),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    progress: z.number().min(0).max(1).describe("0–1"),
    error: z.string().nullable(),
  })
  .meta({ id: "RiskModelTraining" });

export const mlStatusSchema = z
  .object({
    model_ready: z
      .boolean()
      .describe("True when this instance serves a model (otherwise every response scores 1.0)"),
    sessions_with_features: z.int().describe("Challenge sessions with recorded features"),
    labeled_sessions: z.int().describe("Sessions with features and a label (submitted): what training reads"),
    min_sessions_to_train: z.int().describe("Labeled sessions a training run needs"),
    last_trained: z.string().nullable().describe("ISO 8601 time of the newest trained model (null if none)"),
    model: modelInfoSchema.nullable().describe("The model this instance serves"),
    training: trainingStateSchema.describe("The latest training run (on any instance)"),
  })
  .meta({ id: "MlStatus" });

export const trainStartedSchema = z
  .object({ status: z.literal("training_started") })
  .meta({ id: "TrainingStarted" });

export const uploadModelSchema = z
  .object({
    model_base64: z
      .string()
      .min(1)
      .max(22_000_000)
      .describe("The ONNX file, base64 (REST also takes the raw file as application/octet-stream)"),
  })
  .meta({ id: "RiskModelUpload" });

export type MlStatus = z.infer<typeof mlStatusSchema>;
export type ModelInfo = z.infer<typeof modelInfoSchema>;
export type ModelMetrics = z.infer<typeof modelMetricsSchema>;
