// PredictJob (`POST /api/v1/job/` with `{"prediction_id", "manual_input_data"?}`, as DashAI's frontend runs a
// prediction after `POST /api/v1/predict/`): predicts the prediction's dataset, split or typed-in rows with
// its run and stores the results under LAB_DATA_DIR/predictions/<id>.json.
import { z } from "zod";
import { AppError, ValidationError } from "../../../platform/errors.js";
import { defineJob, PermanentJobError } from "../../../platform/jobs.js";
import type { LabJobKind } from "../jobs/service.js";
import { type LabPredictionService, PredictionGone } from "./service.js";

export interface PredictJobData {
  predictionId: number;
}

const kwargsSchema = z.object({
  prediction_id: z.coerce.number().int().min(1).max(2_147_483_647),
  manual_input_data: z.unknown().optional(),
});

export function predictJob(predictions: LabPredictionService): LabJobKind<PredictJobData> {
  const type = defineJob<PredictJobData, { rows: number }>({
    name: "lab.PredictJob",
    timeoutSeconds: 3600,
    // A lost worker's prediction is safe to run again (it only writes its own results file).
    retry: { limit: 2, delaySeconds: 5, backoff: true },
    run: async ({ id, data, signal, progress }) => {
      try {
        return await predictions.execute(data.predictionId, { jobId: id, signal, progress });
      } catch (error) {
        const message = signal.aborted
          ? String((signal.reason as Error | undefined)?.message ?? "cancelled")
          : (error as Error).message;
        await predictions.markFailed(data.predictionId, message);
        // Bad data or a deleted prediction fails the same way again: no retry.
        if (error instanceof AppError || error instanceof PredictionGone)
          throw new PermanentJobError(message);
        throw error;
      }
    },
  });

  return {
    jobType: "PredictJob",
    type,
    async prepare({ kwargs, file }) {
      if (file) throw ValidationError.field(["body", "file"], "PredictJob takes no file");
      const parsed = kwargsSchema.safeParse(kwargs);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw ValidationError.field(["body", "kwargs", ...issue.path.map(String)], issue.message);
      }
      const manual = parsed.data.manual_input_data;
      // The rows typed in are stored on the prediction (prepareJob), not in the job's data.
      await predictions.prepareJob(
        parsed.data.prediction_id,
        manual === undefined || manual === null || manual === "" ? undefined : manual,
      );
      return { predictionId: parsed.data.prediction_id };
    },
    async enqueued(data, jobId) {
      await predictions.markQueued(data.predictionId, jobId);
    },
  };
}
