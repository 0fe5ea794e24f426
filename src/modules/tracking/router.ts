// Tracking procedures: validate, authorize, call the service, shape the answer. The REST paths are the
// documented dashboard API (/api/projects/...) and our ingestion API (/tracker/api/v1/...).
import { z } from "zod";
import { ForbiddenError } from "../../platform/errors.js";
import { headerValue } from "../../trpc/context.js";
import { publicProcedure, router } from "../../trpc/init.js";
import { jsonSeries, type RawSeries } from "./service.js";
import {
  configSchema,
  LIMITS,
  messageSchema,
  metadataSchema,
  metadataUpdate,
  metricRecordInput,
  metricsOfRecord,
  notesSchema,
  projectName,
  projectSchema,
  runDetailSchema,
  runMetadataSchema,
  runName,
  runSchema,
  seriesSchema,
  sinceParam,
  tagsSchema,
  thresholdParam,
  timestampInput,
} from "./tracking.schema.js";

/**
 * HTTP Basic with the dashboard credentials, unless the operator opened the tracker with TRACKING_AUTH=none
 * (upstream Aspara has no auth; HiveGuard faces the internet, so the default is closed). The meta says
 * "dashboard" so the OpenAPI document shows the scheme that applies by default.
 */
export const trackingProcedure = publicProcedure
  .meta({ auth: "dashboard" })
  .use(async ({ ctx, next, type }) => {
    if (ctx.deps.config.tracking.auth === "none") return next();
    // HTTP Basic, or the web dashboard's session cookie (changes then need X-Requested-With, as there).
    const principal = await ctx.deps.auth.dashboard.authenticateRequest(ctx.req.headers, ctx.req.ip, {
      write: type !== "query",
    });
    return next({ ctx: { principal } });
  });

/** Upstream refuses state-changing deletes without `X-Requested-With` (a cross-site form cannot set it). */
const requestedWith = trackingProcedure.use(({ ctx, next }) => {
  if (!headerValue(ctx.req.headers, "x-requested-with"))
    throw new ForbiddenError("Missing X-Requested-With header");
  return next();
});

const tags = ["tracking"];
const ingestTags = ["tracking ingestion"];
const runPath = "/api/projects/{project}/runs/{run}";
const ingestRunPath = "/tracker/api/v1/projects/{project}/runs/{run}";
const projectRun = { project: projectName, run: runName };

const metricsMap = z.record(z.string(), seriesSchema);
const jsonMetrics = (metrics: Record<string, RawSeries>) =>
  Object.fromEntries(Object.entries(metrics).map(([name, series]) => [name, jsonSeries(series)]));

/** `runs=a,b,c` → names; each must be a valid run name. */
export const runsListParam = z
  .string()
  .transform((value) => [
    ...new Set(
      value
        .split(",")
        .map((name) => name.trim())
        .filter(Boolean),
    ),
  ])
  .pipe(
    z
      .array(runName)
      .min(1, "No runs specified")
      .max(LIMITS.runsPerQuery, `At most ${LIMITS.runsPerQuery} runs`),
  );

export const trackingRouter = router({
  // ── ingestion (upstream Aspara's tracker protocol, which its Python RemoteRun speaks, plus our batches) ──
  /** Upstream's `GET {tracker_uri}/api/v1/health`: the remote client probes it. No credentials needed. */
  trackerHealth: publicProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/tracker/api/v1/health",
        tags: ingestTags,
        summary: 'Tracker health check (upstream\'s `{status: "ok"}`); needs no credentials',
      },
      graphql: { hidden: true },
    })
    .input(z.void())
    .output(z.object({ status: z.literal("ok") }))
    .query(() => ({ status: "ok" as const })),

  createRun: trackingProcedure
    .meta({
      openapi: {
        method: "POST",
        path: "/tracker/api/v1/projects/{project}/runs",
        tags: ingestTags,
        summary:
          "Create a run (the project is created on first use); an existing name is resumed with `resume: true`, " +
          "409 otherwise (as upstream)",
        errorResponses: { 409: "Run already exists (send resume: true to resume it)" },
      },
      httpStatus: 201,
    })
    .input(
      z.object({
        project: projectName,
        name: runName.optional().describe("Generated when absent"),
        config: configSchema.optional(),
        tags: tagsSchema.optional(),
        notes: notesSchema.optional(),
        resume: z.boolean().optional().describe("Resume a run of that name instead of answering 409"),
        project_tags: tagsSchema
          .nullable()
          .optional()
          .describe("Added to the project's tags (upstream's RemoteRun sends them)"),
      }),
    )
    .output(
      z.object({
        status: z.literal("ok"),
        project: z.string(),
        name: z.string(),
        run_id: z.string().describe("Upstream's opaque run id (16 hex characters)"),
        run: runSchema,
        resumed: z.boolean(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const created = await ctx.deps.services.tracking.createOrResumeRun(input.project, input);
      return { status: "ok" as const, project: input.project, name: created.run.name, ...created };
    }),

  logMetrics: trackingProcedure
    .meta({
      openapi: {
        method: "POST",
        path: `${ingestRunPath}/metrics`,
        tags: ingestTags,
        summary:
          "Log metric records: a batch `{records: [...]}` (at most 10,000 points, one multi-row insert), or one " +
          "record `{metrics, step?, timestamp?}` as upstream's client sends it",
      },
    })
    .input(
      z
        .object({
          ...projectRun,
          records: z
            .array(metricRecordInput)
            .min(1)
            .superRefine((records, check) => {
              const points = records.reduce((sum, r) => sum + Object.keys(r.metrics).length, 0);
              if (points > LIMITS.pointsPerBatch)
                check.addIssue({
                  code: "too_big",
                  maximum: LIMITS.pointsPerBatch,
                  origin: "array",
                  inclusive: true,
                  message: `At most ${LIMITS.pointsPerBatch} points per request (got ${points})`,
                });
            })
            .optional()
            .describe("A batch of records (ours)"),
          metrics: metricsOfRecord.optional().describe("One record's metrics (upstream's form)"),
          step: metricRecordInput.shape.step,
          timestamp: timestampInput.optional().describe("UNIX ms or ISO 8601 (upstream's form)"),
        })
        .superRefine((body, check) => {
          if ((body.records === undefined) === (body.metrics === undefined))
            check.addIssue({
              code: "custom",
              path: [body.records === undefined ? "records" : "metrics"],
              message:
                body.records === undefined
                  ? "Send `records` (a batch) or `metrics` (one record)"
                  : "Send either `records` or `metrics`, not both",
            });
        }),
    )
    .output(
      z.object({
        status: z.literal("ok"),
        records: z.number().int(),
        points: z.number().int(),
        last_step: z.number().int().nullable(),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const records = input.records ?? [
        { metrics: input.metrics!, step: input.step, timestamp: input.timestamp },
      ];
      const written = await ctx.deps.services.tracking.logMetrics(input.project, input.run, records);
      return { status: "ok" as const, ...written };
    }),

  /** Upstream's `POST .../config` (RemoteRun syncs its whole config on each change): merged. */
  postConfig: trackingProcedure
    .meta({
      openapi: {
        method: "POST",
        path: `${ingestRunPath}/config`,
        tags: ingestTags,
        summary: "Set config keys, merged into the run's config (upstream's method; PUT does the same)",
      },
    })
    .input(z.object({ ...projectRun, config: configSchema.default({}) }))
    .output(runSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.tracking.setConfig(input.project, input.run, input.config),
    ),

  setSummary: trackingProcedure
    .meta({
      openapi: {
        method: "POST",
        path: `${ingestRunPath}/summary`,
        tags: ingestTags,
        summary: "Replace the run's summary (final values; upstream's client sends the whole summary)",
      },
    })
    .input(z.object({ ...projectRun, summary: configSchema.default({}) }))
    .output(runSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.tracking.setSummary(input.project, input.run, input.summary),
    ),

  setConfig: trackingProcedure
    .meta({
      openapi: {
        method: "PUT",
        path: `${ingestRunPath}/config`,
        tags: ingestTags,
        summary: "Set config keys (merged into the run's config; `replace: true` replaces it)",
      },
    })
    .input(z.object({ ...projectRun, config: configSchema, replace: z.boolean().optional() }))
    .output(runSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.tracking.setConfig(input.project, input.run, input.config, input.replace),
    ),

  addTags: trackingProcedure
    .meta({
      openapi: {
        method: "POST",
        path: `${ingestRunPath}/tags`,
        tags: ingestTags,
        summary: "Replace the run's tags (as upstream); with `add: true`, add them to the run's tags",
      },
    })
    .input(z.object({ ...projectRun, tags: tagsSchema, add: z.boolean().optional() }))
    .output(runSchema)
    .mutation(({ ctx, input }) =>
      input.add
        ? ctx.deps.services.tracking.addTags(input.project, input.run, input.tags)
        : ctx.deps.services.tracking.setTags(input.project, input.run, input.tags),
    ),

  finishRun: trackingProcedure
    .meta({
      openapi: {
        method: "POST",
        path: `${ingestRunPath}/finish`,
        tags: ingestTags,
        summary: "Finish a run: exit code 0 → completed, anything else → failed",
      },
    })
    .input(
      z.object({
        ...projectRun,
        exit_code: z.number().int().min(-2_147_483_648).max(2_147_483_647).default(0),
      }),
    )
    .output(runSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.tracking.finish(input.project, input.run, input.exit_code),
    ),

  // ── dashboard API (documented) ─────────────────────────────────────────────────────────────────────
  listProjects: trackingProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/projects",
        tags,
        summary: "List projects (q: substring of the name or of a tag)",
      },
      graphql: { name: "trackingProjects" },
    })
    .input(z.object({ q: z.string().max(200).optional() }))
    .output(z.array(projectSchema))
    .query(({ ctx, input }) => ctx.deps.services.tracking.listProjects(input.q)),

  listRuns: trackingProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/projects/{project}/runs",
        tags,
        summary: "List runs in a project",
      },
      graphql: { name: "trackingRuns" },
    })
    .input(z.object({ project: projectName }))
    .output(z.array(runSchema))
    .query(({ ctx, input }) => ctx.deps.services.tracking.listRuns(input.project)),

  run: trackingProcedure
    .meta({ graphql: { name: "trackingRun" } })
    .input(z.object(projectRun))
    .output(runDetailSchema)
    .query(({ ctx, input }) => ctx.deps.services.tracking.runDetail(input.project, input.run)),

  runMetrics: trackingProcedure
    .meta({
      openapi: {
        method: "GET",
        path: `${runPath}/metrics`,
        tags,
        summary: "Get metrics for a run: {project, run, metrics: {metric: {steps, values, timestamps}}}",
      },
      graphql: { name: "trackingRunMetrics" },
    })
    .input(z.object({ ...projectRun, since: sinceParam, threshold: thresholdParam }))
    .output(z.object({ project: z.string(), run: z.string(), metrics: metricsMap }))
    .query(async ({ ctx, input }) => ({
      project: input.project,
      run: input.run,
      metrics: jsonMetrics(await ctx.deps.services.tracking.runMetrics(input.project, input.run, input)),
    })),

  /**
   * GET /api/projects/{project}/runs/metrics for tRPC and GraphQL (the REST route is plain Fastify: it also
   * speaks msgpack). Here steps and timestamps are absolute; the REST route delta-encodes them as upstream does.
   */
  runsMetrics: trackingProcedure
    .meta({ graphql: { name: "trackingRunsMetrics" } })
    .input(
      z.object({ project: projectName, runs: runsListParam, since: sinceParam, threshold: thresholdParam }),
    )
    .output(z.object({ project: z.string(), metrics: z.record(z.string(), metricsMap) }))
    .query(async ({ ctx, input }) => {
      const metrics = await ctx.deps.services.tracking.runsMetrics(input.project, input.runs, input);
      return {
        project: input.project,
        metrics: Object.fromEntries(Object.entries(metrics).map(([name, runs]) => [name, jsonMetrics(runs)])),
      };
    }),

  runParams: trackingProcedure
    .meta({
      openapi: { method: "GET", path: `${runPath}/params`, tags, summary: "Get parameters for a run" },
      graphql: { name: "trackingRunParams" },
    })
    .input(z.object(projectRun))
    .output(z.object({ project: z.string(), run: z.string(), params: configSchema }))
    .query(async ({ ctx, input }) => ({
      project: input.project,
      run: input.run,
      params: (await ctx.deps.services.tracking.getRun(input.project, input.run)).params,
    })),

  runMetadata: trackingProcedure
    .meta({
      openapi: { method: "GET", path: `${runPath}/metadata`, tags, summary: "Get run metadata" },
      graphql: { name: "trackingRunMetadata" },
    })
    .input(z.object(projectRun))
    .output(runMetadataSchema)
    .query(({ ctx, input }) => ctx.deps.services.tracking.runMetadata(input.project, input.run)),

  updateRunMetadata: trackingProcedure
    .meta({
      openapi: {
        method: "PUT",
        path: `${runPath}/metadata`,
        tags,
        summary: "Update run metadata (notes ≤ 10 KB, tags ≤ 100); returns the updated metadata",
      },
      graphql: { name: "updateTrackingRunMetadata" },
    })
    .input(metadataUpdate.extend(projectRun))
    .output(runMetadataSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.tracking.updateRunMetadata(input.project, input.run, {
        notes: input.notes,
        tags: input.tags,
      }),
    ),

  deleteRun: requestedWith
    .meta({
      openapi: {
        method: "DELETE",
        path: runPath,
        tags,
        summary: "Delete a run with its metrics and artifacts (irreversible; needs X-Requested-With)",
        errorResponses: { 403: "Missing X-Requested-With header" },
      },
      graphql: { hidden: true },
    })
    .input(z.object(projectRun))
    .output(messageSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.tracking.deleteRun(input.project, input.run)),

  projectMetadata: trackingProcedure
    .meta({
      openapi: {
        method: "GET",
        path: "/api/projects/{project}/metadata",
        tags,
        summary: "Get project metadata",
      },
      graphql: { name: "trackingProjectMetadata" },
    })
    .input(z.object({ project: projectName }))
    .output(metadataSchema)
    .query(({ ctx, input }) => ctx.deps.services.tracking.projectMetadata(input.project)),

  updateProjectMetadata: trackingProcedure
    .meta({
      openapi: {
        method: "PUT",
        path: "/api/projects/{project}/metadata",
        tags,
        summary: "Update project metadata (notes ≤ 10 KB, tags ≤ 100); returns the updated metadata",
      },
      graphql: { name: "updateTrackingProjectMetadata" },
    })
    .input(metadataUpdate.extend({ project: projectName }))
    .output(metadataSchema)
    .mutation(({ ctx, input }) =>
      ctx.deps.services.tracking.updateProjectMetadata(input.project, {
        notes: input.notes,
        tags: input.tags,
      }),
    ),

  deleteProject: requestedWith
    .meta({
      openapi: {
        method: "DELETE",
        path: "/api/projects/{project}",
        tags,
        summary: "Delete a project with all its runs (irreversible; needs X-Requested-With)",
        errorResponses: { 403: "Missing X-Requested-With header" },
      },
      graphql: { hidden: true },
    })
    .input(z.object({ project: projectName }))
    .output(messageSchema)
    .mutation(({ ctx, input }) => ctx.deps.services.tracking.deleteProject(input.project)),
});
