// The wire contract of schedules (bench-upstream-shapes.md "Schedules", plus cron and the run settings).
import { z } from "zod";
import { MAX_TOKENS_MAX, MODELS_MAX, RUNS_MAX, TIER_TOKENS_MAX, TIERS_MAX } from "../runs/runs.schema.js";

export const SCHEDULES_MAX = 100;

const fields = {
  name: z.string().trim().min(1).max(200),
  prompt: z.string().max(100_000),
  models: z.array(z.string().min(1).max(300)).min(1).max(MODELS_MAX),
  interval_hours: z.number().min(1).max(8760).describe("Every N hours (≥ 1); or `cron`"),
  cron: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .describe("A 5-field cron expression (minute granularity); or `interval_hours`"),
  tz: z.string().trim().min(1).max(64).describe("Time zone of `cron` (default UTC)"),
  max_tokens: z.number().int().min(1).max(MAX_TOKENS_MAX),
  temperature: z.number().min(0).max(2),
  runs: z.number().int().min(1).max(RUNS_MAX),
  context_tiers: z.array(z.number().int().min(0).max(TIER_TOKENS_MAX)).min(1).max(TIERS_MAX),
  warmup: z.boolean(),
};

export const createScheduleSchema = z.object({
  name: fields.name,
  prompt: fields.prompt.default(""),
  models: fields.models,
  interval_hours: fields.interval_hours.nullish(),
  cron: fields.cron.nullish(),
  tz: fields.tz.nullish(),
  max_tokens: fields.max_tokens.default(512),
  temperature: fields.temperature.default(0.7),
  runs: fields.runs.default(1),
  context_tiers: fields.context_tiers.default([0]),
  warmup: fields.warmup.default(false),
});
export type CreateSchedule = z.infer<typeof createScheduleSchema>;

export const scheduleIdSchema = z.object({ schedule_id: z.string().min(1).max(100) });

export const updateScheduleSchema = z.object({
  schedule_id: z.string().min(1).max(100),
  name: fields.name.optional(),
  prompt: fields.prompt.optional(),
  models: fields.models.optional(),
  interval_hours: fields.interval_hours.nullish(),
  cron: fields.cron.nullish(),
  tz: fields.tz.nullish(),
  max_tokens: fields.max_tokens.optional(),
  temperature: fields.temperature.optional(),
  runs: fields.runs.optional(),
  context_tiers: fields.context_tiers.optional(),
  warmup: fields.warmup.optional(),
  enabled: z.union([z.boolean(), z.literal(0), z.literal(1)]).optional(),
});
export type UpdateSchedule = z.infer<typeof updateScheduleSchema>;

export const scheduleSchema = z.object({
  id: z.string(),
  user_id: z.string(),
  name: z.string(),
  prompt: z.string(),
  models: z.array(z.string()),
  max_tokens: z.number().int(),
  temperature: z.number(),
  runs: z.number().int(),
  context_tiers: z.array(z.number().int()),
  warmup: z.boolean(),
  interval_hours: z.number().nullable(),
  cron: z.string().nullable(),
  tz: z.string().nullable(),
  enabled: z.union([z.literal(0), z.literal(1)]).describe("1 when enabled (upstream's 0/1)"),
  last_run: z.string().nullable(),
  next_run: z.string().nullable(),
  created: z.string(),
});

export const schedulesSchema = z.object({ schedules: z.array(scheduleSchema) });
export const createdSchema = z.object({ status: z.literal("ok"), id: z.string() });
export const triggeredSchema = z.object({
  status: z.literal("ok"),
  message: z.string(),
  job_id: z.string(),
});
