// The wire contract of the judge (bench-upstream-shapes.md "Judge (SSE)").
import { z } from "zod";

const modelId = z.string().min(1).max(300);
const evalId = z.string().min(1).max(100);
const instructions = z
  .string()
  .max(10_000)
  .nullish()
  .describe("Added to every judge prompt (what to focus on, what counts as a failure)");
const providerKey = z
  .string()
  .max(100)
  .nullish()
  .describe("The judge model's provider, when the same model id is configured under several");

export const judgeRequestSchema = z.object({
  eval_run_id: evalId,
  judge_model: modelId.describe("Any configured model's full id (GET /api/config)"),
  judge_provider_key: providerKey,
  custom_instructions: instructions,
});
export type JudgeRequest = z.infer<typeof judgeRequestSchema>;

export const compareRequestSchema = z.object({
  eval_run_id_a: evalId,
  eval_run_id_b: evalId,
  judge_model: modelId,
  judge_provider_key: providerKey,
  custom_instructions: instructions,
  model_a: modelId
    .nullish()
    .describe("Which model of run A (default: its first); the same run may be given twice with two models"),
  model_b: modelId.nullish().describe("Which model of run B (default: its first, or run A's second)"),
});
export type CompareRequest = z.infer<typeof compareRequestSchema>;

/** The `judge` object of POST /api/tool-eval. */
export const evalJudgeSchema = z.object({
  enabled: z.boolean().optional(),
  mode: z
    .enum(["live_inline", "post_eval"])
    .optional()
    .describe(
      "live_inline: each case graded as it finishes; post_eval: after the run (default: your settings)",
    ),
  judge_model: modelId.optional().describe("Default: your settings' judge model_id"),
  judge_provider_key: providerKey,
  custom_instructions: instructions,
});
export type EvalJudge = z.infer<typeof evalJudgeSchema>;

export const JUDGE_MODES = ["post_eval", "live_inline", "comparative"] as const;
export const JUDGE_STATUSES = ["running", "completed", "cancelled", "error"] as const;

const reportFields = {
  id: z.string(),
  eval_run_id: z.string().nullable(),
  eval_run_id_b: z.string().nullable(),
  judge_model: z.string(),
  judge_model_name: z.string(),
  mode: z.enum(JUDGE_MODES),
  custom_instructions: z.string().nullable(),
  overall_grade: z
    .string()
    .nullable()
    .describe("Letter grade of the best model (comparative: the winner); null when nothing parsed"),
  overall_score: z.number().nullable(),
  status: z.enum(JUDGE_STATUSES),
  timestamp: z.string().describe('UTC, "YYYY-MM-DD HH:MM:SS"'),
  finished_at: z.string().nullable(),
};

export const judgeReportsSchema = z.object({ reports: z.array(z.object(reportFields)) });
export const judgeReportSchema = z.object({
  ...reportFields,
  user_id: z.string(),
  error: z.string().nullable(),
  verdicts: z
    .array(z.record(z.string(), z.unknown()))
    .describe(
      "judge_verdict (or compare_case) records as streamed, each with judge_prompt and judge_answer (the raw text)",
    ),
  report: z
    .unknown()
    .describe("Per-model cross-case reports (a list) or the comparison (an object); null while running"),
  verdicts_json: z.string().describe("`verdicts` as JSON text (upstream's field)"),
  report_json: z.string().nullable().describe("`report` as JSON text (upstream's field)"),
});
export const reportIdSchema = z.object({ report_id: z.string().min(1).max(100) });
