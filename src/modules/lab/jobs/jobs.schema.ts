// Wire shapes of /api/v1/job (DashAI's: string ids, lowercase statuses).
import { z } from "zod";

export const jobIdParamSchema = z.object({ job_id: z.string().min(1).max(64).describe("Job id (a UUID)") });

export const labJobSchema = z
  .object({
    id: z.string(),
    status: z
      .enum(["not_started", "started", "finished", "error", "cancelled"])
      .describe("not_started (queued or waiting for a retry), started, finished, error, cancelled"),
    task_type: z.string().describe("The job_type (DatasetJob...)"),
    job_name: z.string(),
    enqueued_at: z.string(),
    last_update: z.string(),
    error_msg: z.string().nullable(),
    progress: z.number().describe("0–100"),
    progress_message: z.string().nullable(),
    result: z.unknown().describe("What the job returned once finished (null before)"),
  })
  .meta({ id: "LabJob" });

export const jobCreatedSchema = z.object({ id: z.string() }).meta({ id: "LabJobCreated" });
