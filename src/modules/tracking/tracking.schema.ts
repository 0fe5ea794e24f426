// The wire contract of the tracking module: ingestion (/tracker/api/v1/...) and the dashboard API
// (/api/projects/...), snake_case as documented in shared/specs/tracking-dashboard-api.md.
import { z } from "zod";
import { timestampSchema } from "../../trpc/scalars.js";

/** Project and run names travel in URL paths: letters, digits, `.`, `_`, `-`; 1 to 128 characters. */
export const NAME_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const NAME_MESSAGE = "Use 1 to 128 letters, digits, '.', '_' or '-' (not starting with '.' or '-')";
/** Path segments of the dashboard API that cannot also be run names. */
export const RESERVED_RUN_NAMES = new Set(["metrics", "stream"]);

export const LIMITS = {
  metricNamesPerRun: 100,
  pointsPerBatch: 10_000,
  tags: 100,
  tagLength: 64,
  notesBytes: 10 * 1024,
  metricNameLength: 200,
  runsPerQuery: 100,
} as const;

export const projectName = z.string().regex(NAME_PATTERN, NAME_MESSAGE);
export const runName = z
  .string()
  .regex(NAME_PATTERN, NAME_MESSAGE)
  .refine((name) => !RESERVED_RUN_NAMES.has(name), { message: "'metrics' and 'stream' are reserved" });

export const tagsSchema = z
  .array(z.string().trim().min(1).max(LIMITS.tagLength))
  .max(LIMITS.tags, `At most ${LIMITS.tags} tags`);
export const notesSchema = z
  .string()
  .refine((notes) => Buffer.byteLength(notes, "utf8") <= LIMITS.notesBytes, {
    message: `Notes are limited to ${LIMITS.notesBytes} bytes (10 KB)`,
  });
export const configSchema = z.record(z.string(), z.unknown());

/** A metric value: a number, or NaN / ±Infinity spelled as strings (JSON has no literal for them). */
export const metricValue = z.union([
  z.number(),
  z.enum(["NaN", "Infinity", "-Infinity"]),
  // Python's bool is an int: upstream's client sends `True` as `true`
  z.boolean().transform((value) => (value ? 1 : 0)),
]);
const metricName = z
  .string()
  .min(1)
  .max(LIMITS.metricNameLength)
  // eslint-disable-next-line no-control-regex -- rejecting control characters is the point
  .regex(/^[^\u0000-\u001f]+$/, "Control characters are not allowed");

/** UNIX milliseconds, or an ISO 8601 date-time. */
export const timestampInput = z.union([
  z.number().int().min(0).max(8.64e15),
  z.iso.datetime({ offset: true, local: true }),
]);

/** One record's metrics: `{name: value}`, at least one. */
export const metricsOfRecord = z.record(metricName, metricValue).refine((m) => Object.keys(m).length > 0, {
  message: "At least one metric",
});

export const metricRecordInput = z.object({
  metrics: metricsOfRecord,
  step: z.number().int().min(0).max(2_147_483_647).optional().describe("Auto-increments when omitted"),
  timestamp: timestampInput.optional().describe("UNIX ms or ISO 8601; the server's clock when omitted"),
});

export const runStatus = z.enum(["wip", "completed", "failed", "maybe_failed"]).meta({ id: "RunStatus" });

export const runSchema = z
  .object({
    project: z.string(),
    name: z.string(),
    status: runStatus,
    is_finished: z.boolean(),
    exit_code: z.number().int().nullable(),
    tags: z.array(z.string()),
    notes: z.string(),
    params: configSchema.describe("The run's config (hyper-parameters)"),
    param_count: z.number().int(),
    summary: configSchema.describe("Final values reported by the training script (upstream's run summary)"),
    metric_names: z.array(z.string()),
    artifact_count: z.number().int(),
    last_step: z.number().int().nullable(),
    start_time: z.string().describe("ISO 8601"),
    finish_time: z.string().nullable(),
    last_update: z.string().describe("Last logged point or status change"),
    created_at: timestampSchema,
    updated_at: timestampSchema,
  })
  .meta({ id: "Run" });

/** Upstream's artifact categories. */
export const ARTIFACT_CATEGORIES = ["code", "model", "config", "data", "other"] as const;

export const artifactSchema = z
  .object({
    name: z.string(),
    size: z.number().int(),
    content_type: z.string(),
    created_at: timestampSchema,
    description: z.string().nullable(),
    category: z.string().nullable().describe("code, model, config, data or other"),
  })
  .meta({ id: "Artifact" });

export const runDetailSchema = runSchema
  .extend({
    latest_metrics: z.record(z.string(), z.number().nullable()),
    artifacts: z.array(artifactSchema),
  })
  .meta({ id: "RunDetail" });

export const seriesSchema = z
  .object({
    steps: z.array(z.number()),
    values: z.array(z.number().nullable()).describe("NaN and ±Infinity are null in JSON (kept in msgpack)"),
    timestamps: z.array(z.number()).describe("UNIX ms"),
  })
  .meta({ id: "MetricSeries" });

export const projectSchema = z
  .object({
    name: z.string(),
    notes: z.string(),
    tags: z.array(z.string()),
    run_count: z.number().int(),
    last_update: z.string().nullable(),
    created_at: timestampSchema,
    updated_at: timestampSchema,
  })
  .meta({ id: "TrackingProject" });

export const metadataSchema = z
  .object({
    notes: z.string(),
    tags: z.array(z.string()),
    created_at: timestampSchema.nullable(),
    updated_at: timestampSchema.nullable(),
  })
  .meta({ id: "Metadata" });

export const runMetadataSchema = metadataSchema
  .extend({
    params: configSchema,
    status: runStatus,
    is_finished: z.boolean(),
    exit_code: z.number().int().nullable(),
    start_time: z.string(),
    finish_time: z.string().nullable(),
  })
  .meta({ id: "RunMetadata" });

export const metadataUpdate = z
  .object({ notes: notesSchema.optional(), tags: tagsSchema.optional() })
  .strict()
  .meta({ id: "MetadataUpdate" });

export const messageSchema = z.object({ message: z.string() }).meta({ id: "Message" });

/** Query parameters shared by the metric reads. */
export const sinceParam = z
  .union([z.string(), z.number()])
  .optional()
  .transform((value, check) => {
    if (value === undefined) return undefined;
    const n = typeof value === "number" ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
    if (Number.isSafeInteger(n) && n >= 0) return n;
    check.addIssue({
      code: "custom",
      message: `since must be a UNIX timestamp in milliseconds (an integer ≥ 0), not ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  })
  .describe("Only points with timestamp ≥ since (UNIX ms)");
export const thresholdParam = z.coerce
  .number()
  .int()
  .min(3)
  .max(1_000_000)
  .optional()
  .describe("LTTB threshold (default 1,000, or TRACKING_LTTB_THRESHOLD)");

export type RunWire = z.infer<typeof runSchema>;
export type RunDetailWire = z.infer<typeof runDetailSchema>;
export type SeriesWire = z.infer<typeof seriesSchema>;
export type ProjectWire = z.infer<typeof projectSchema>;
export type MetricRecordInput = z.infer<typeof metricRecordInput>;
export type MetricValue = z.infer<typeof metricValue>;
