// The tracking routes JSON procedures cannot carry: the multi-run metrics read (JSON or msgpack), SSE
// streams, the artifacts ZIP and the multipart artifact upload. Each one is declared with platform/http/route.ts
// and calls the same TrackingService as the procedures.
import fastifyMultipart from "@fastify/multipart";
import { Encoder } from "@msgpack/msgpack";
import type { FastifyInstance } from "fastify";
import yazl from "yazl";
import { z } from "zod";
import { ForbiddenError, NotFoundError, ValidationError } from "../../platform/errors.js";
import { isCrossSite } from "../../platform/http/cross-site.js";
import { defineRoute, type Route, type RouteAuth } from "../../platform/http/route.js";
import type { AppDeps } from "../../platform/module.js";
import { type EventStream, resumeFrom, serveEventStream } from "../../platform/sse.js";
import { sanitizeArtifactName, zipEntryNames } from "./artifact-names.js";
import { deltaSeries } from "./delta.js";
import type { MetricEvent, StatusEvent, TrackingEvent } from "./events.js";
import { runsListParam } from "./router.js";
import { jsonSeries, type RawSeries } from "./service.js";
import { ARTIFACT_CATEGORIES, projectName, runName, sinceParam, thresholdParam } from "./tracking.schema.js";

/** Upstream's limit on the size of one artifacts ZIP. */
export const MAX_ZIP_BYTES = 1024 ** 3;

const msgpack = new Encoder({ forceFloat32: true, ignoreUndefined: true });

/** TRACKING_AUTH=none opens the tracking surface (upstream's default); otherwise the dashboard credentials. */
export function trackingAuth(deps: AppDeps): RouteAuth {
  return deps.config.tracking.auth === "none" ? "public" : "dashboard";
}

const runParams = z.object({ project: projectName, run: runName });
const projectParams = z.object({ project: projectName });
const tags = ["tracking"];
const errorContent = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/HTTPError" } } },
});
const sseDescription =
  "Server-Sent Events: `event: metric` (one logged record: project, run, step, timestamp, timestamp_ms, metrics), " +
  "`event: status` (project, run, status, is_finished, exit_code, timestamp), `event: heartbeat` every 15 s. " +
  "Each metric event has a unique, increasing `id:` (`{timestamp_ms}:{run}:{step}`): an EventSource that " +
  "reconnects sends it back as Last-Event-ID and receives exactly what followed it; `since` (UNIX ms) " +
  "resends everything from that time.";
const eventStream = { description: "Event stream", content: { "text/event-stream": { schema: z.string() } } };

/** The multipart parser, in the tracking module's own scope only. */
export async function trackingPlugin(scope: FastifyInstance, deps: AppDeps): Promise<void> {
  await scope.register(fastifyMultipart, {
    limits: { fileSize: deps.config.tracking.maxArtifactBytes, files: 1, fields: 4, fieldSize: 1024 },
  });
}

export function trackingRoutes(deps: AppDeps): Route[] {
  const tracking = deps.services.tracking;
  const auth = trackingAuth(deps);

  /** Metric events of the watched runs, each once, after the back-fill of what the client missed. */
  function serveRunsStream(
    request: Parameters<Route["handler"]>[1],
    reply: Parameters<Route["handler"]>[2],
    project: string,
    runs: string[],
    querySince: number | undefined,
  ) {
    const { since, after } = resumePoint(request, querySince);
    const watched = new Set(runs);
    const sent = new Set<string>();
    let backfillUntil = -1;
    const sendMetric = (record: MetricEvent, stream: EventStream) => {
      const id = eventId(record);
      if (after && compareRecords(record, after) <= 0) return; // the client has it (resumed by id)
      if (record.timestamp_ms <= backfillUntil && sent.has(id)) return;
      if (record.timestamp_ms <= backfillUntil) sent.add(id);
      stream.send("metric", metricData(record), id);
    };
    return serveEventStream<TrackingEvent>(request, reply, {
      streams: deps.sse,
      heartbeatMs: deps.config.tracking.sseHeartbeatMs,
      greeting: `connected to ${project}`,
      subscribe: (listener) => tracking.events.subscribe(project, listener),
      backfill: async (stream) => {
        if (since === undefined) return;
        for (const record of await tracking.recordsSince(project, runs, since)) {
          if (after && compareRecords(record, after) <= 0) continue;
          sent.add(eventId(record));
          backfillUntil = Math.max(backfillUntil, record.timestamp_ms);
          stream.send("metric", metricData(record), eventId(record));
        }
      },
      deliver: (event, stream) => {
        if (event.kind === "metric") {
          const records = event.records.filter((record) => watched.has(record.run)).sort(compareRecords);
          for (const record of records) sendMetric(record, stream);
        } else if (watched.has(event.status.run)) {
          stream.send("status", statusData(event.status));
        }
      },
      onBackfillError: (err, stream) => {
        request.log.error({ err }, "tracking stream backfill failed");
        stream.send("error", { detail: "Could not read the missed records; reconnect to retry" });
      },
    });
  }

  return [
    defineRoute({
      method: "GET",
      path: "/api/projects/{project}/runs/metrics",
      auth,
      params: projectParams,
      query: z.object({
        runs: runsListParam.describe("Comma-separated run names (at most 100)"),
        format: z.enum(["json", "msgpack"]).default("json").describe("json (default) or msgpack"),
        since: sinceParam,
        threshold: thresholdParam,
      }),
      openapi: {
        operationId: "getRunsMetrics",
        tags,
        summary: "Get metrics for multiple runs (metric-first; JSON or msgpack with float32 values)",
        description:
          "`{project, metrics: {metric: {run: {steps, values, timestamps}}}}` with `steps` and `timestamps` " +
          "delta-encoded as upstream Aspara sends them (the first value absolute, then the differences: decode " +
          "with a running sum). Series longer than the threshold " +
          "(default 1,000) are LTTB-downsampled, keeping the steps and timestamps of the kept points. Unknown run " +
          "names are left out. In JSON, NaN/±Infinity values are null; msgpack keeps them.",
        responses: {
          200: {
            description: "Metrics of the runs",
            content: {
              "application/json": {
                schema: z.object({ project: z.string(), metrics: z.record(z.string(), z.unknown()) }),
              },
              "application/x-msgpack": { schema: z.string().meta({ format: "binary" }) },
            },
          },
        },
      },
      handler: async ({ params: { project }, query }, _request, reply) => {
        const metrics = await tracking.runsMetrics(project, query.runs, query);
        // Steps and timestamps delta-encoded, as upstream sends them and its frontend decodes them.
        const encode = (toSeries: (series: RawSeries) => RawSeries | ReturnType<typeof jsonSeries>) =>
          Object.fromEntries(
            Object.entries(metrics).map(([name, runs]) => [
              name,
              Object.fromEntries(
                Object.entries(runs).map(([run, series]) => [run, deltaSeries(toSeries(series))]),
              ),
            ]),
          );
        if (query.format === "msgpack") {
          return reply
            .type("application/x-msgpack")
            .send(Buffer.from(msgpack.encode({ project, metrics: encode((series) => series) })));
        }
        const json = encode(jsonSeries);
        return reply.type("application/json").send({ project, metrics: json });
      },
    }),

    defineRoute({
      method: "GET",
      path: "/api/projects/{project}/runs/{run}/stream",
      auth,
      params: runParams,
      query: z.object({ since: sinceParam }),
      openapi: {
        operationId: "streamRun",
        tags,
        summary: "SSE stream for a run",
        description: sseDescription,
        responses: { 200: eventStream },
      },
      handler: async ({ params: { project, run }, query }, request, reply) => {
        await tracking.getRun(project, run); // 404 before the stream starts
        await serveRunsStream(request, reply, project, [run], query.since);
      },
    }),

    defineRoute({
      method: "GET",
      path: "/api/projects/{project}/runs/stream",
      auth,
      params: projectParams,
      query: z.object({
        runs: runsListParam.describe("Comma-separated run names (at most 100)"),
        since: sinceParam,
      }),
      openapi: {
        operationId: "streamRuns",
        tags,
        summary: "SSE stream for multiple runs",
        description: sseDescription,
        responses: { 200: eventStream },
      },
      handler: async ({ params: { project }, query }, request, reply) => {
        if (!(await tracking.projectExists(project)))
          throw new NotFoundError(`Project '${project}' not found`);
        await serveRunsStream(request, reply, project, query.runs, query.since);
      },
    }),

    defineRoute({
      method: "GET",
      path: "/api/projects/{project}/runs/{run}/artifacts/download",
      auth,
      params: runParams,
      openapi: {
        operationId: "downloadRunArtifacts",
        tags,
        summary: "Download artifacts as ZIP (streamed; named {project}_{run}_artifacts_{timestamp}.zip)",
        responses: {
          200: {
            description: "ZIP archive",
            content: { "application/zip": { schema: z.string().meta({ format: "binary" }) } },
          },
        },
      },
      handler: async ({ params: { project, run } }, _request, reply) => {
        const artifacts = await tracking.listArtifacts(project, run);
        if (artifacts.length === 0) throw new NotFoundError("No artifacts found for this run");
        const total = artifacts.reduce((sum, a) => sum + a.size, 0);
        if (total > MAX_ZIP_BYTES)
          throw ValidationError.field(
            ["path", "run"],
            `Total artifacts size (${total} bytes) exceeds the ZIP limit (${MAX_ZIP_BYTES} bytes)`,
            "limit_exceeded",
          );
        const zip = new yazl.ZipFile();
        const entryNames = zipEntryNames(artifacts.map((artifact) => artifact.name));
        for (const [index, artifact] of artifacts.entries()) {
          zip.addReadStreamLazy(
            entryNames[index]!,
            { mtime: new Date(artifact.created_at), size: artifact.size },
            (cb) => cb(null, tracking.artifacts.open(artifact.storageKey)),
          );
        }
        zip.end();
        const stamp = new Date().toISOString().replace(/[-:]/g, "").replace("T", "_").slice(0, 15);
        const filename = `${project}_${run}_artifacts_${stamp}.zip`;
        return reply
          .type("application/zip")
          .header(
            "content-disposition",
            `attachment; filename="${filename}"; filename*=UTF-8''${encodeURIComponent(filename)}`,
          )
          .send(zip.outputStream);
      },
    }),

    defineRoute({
      method: "POST",
      path: "/tracker/api/v1/projects/{project}/runs/{run}/artifacts",
      auth,
      params: runParams,
      openapi: {
        operationId: "uploadRunArtifact",
        tags: ["tracking ingestion"],
        summary:
          "Upload an artifact (multipart field `file`; optional fields `name`, `description`, `category`; " +
          "≤ 100 MB by default)",
        requestBody: {
          required: true,
          content: {
            "multipart/form-data": {
              schema: z.object({
                name: z.string().optional(),
                description: z.string().max(1000).optional(),
                category: z.enum(ARTIFACT_CATEGORIES).optional(),
                file: z.string().meta({ format: "binary" }),
              }),
            },
          },
        },
        responses: {
          201: {
            description:
              "Stored artifact: name, size, content_type, created_at, description, category, and upstream's " +
              "status, artifact_name, file_size",
            content: { "application/json": { schema: z.record(z.string(), z.unknown()) } },
          },
          403: errorContent(
            "Sent by a browser on behalf of another site (Origin / Sec-Fetch-Site): cross-site uploads are refused",
          ),
          413: errorContent("Artifact larger than TRACKING_MAX_ARTIFACT_MB"),
        },
      },
      handler: async ({ params: { project, run } }, request, reply) => {
        // The one mutation a plain HTML form can send (multipart is a "simple" content type, so no CORS
        // preflight stops it), with the Basic credentials a browser remembers: refuse cross-site senders.
        // Browsers always send Origin (and Sec-Fetch-Site) on cross-origin POSTs; the SDK sends neither.
        if (isCrossSite(request)) throw new ForbiddenError("Cross-site upload refused");
        if (!request.isMultipart())
          throw ValidationError.field(
            ["body"],
            "Send the file as multipart/form-data (field `file`)",
            "content_type",
          );
        // A body that is not valid multipart (no boundary, truncated) is bad input, not a server error.
        const file = await request.file().catch(() => {
          throw ValidationError.field(["body"], "Malformed multipart/form-data body", "multipart");
        });
        if (!file) throw ValidationError.field(["body", "file"], "Field required", "missing");
        const field = (key: string): string | undefined => {
          const value = file.fields[key];
          return value && !Array.isArray(value) && value.type === "field" ? String(value.value) : undefined;
        };
        const given = field("name") || file.filename;
        const description = field("description") || null;
        const category = field("category") || null;
        if (category !== null && !(ARTIFACT_CATEGORIES as readonly string[]).includes(category)) {
          file.file.resume();
          throw ValidationError.field(
            ["body", "category"],
            `Invalid category: ${category}. Must be one of: ${ARTIFACT_CATEGORIES.join(", ")}`,
          );
        }
        if (description !== null && description.length > 1000) {
          file.file.resume();
          throw ValidationError.field(["body", "description"], "At most 1,000 characters");
        }
        const name = sanitizeArtifactName(given ?? "");
        if (!name || name.length > 255) {
          file.file.resume();
          throw ValidationError.field(["body", "file"], "The file needs a name (1 to 255 characters)");
        }
        const artifact = await tracking.addArtifact(
          project,
          run,
          name,
          file.mimetype || "application/octet-stream",
          file.file,
          { description, category },
        );
        // Ours (name, size, content_type, created_at, description, category) and upstream's answer's fields.
        return reply
          .code(201)
          .send({ status: "ok", artifact_name: artifact.name, file_size: artifact.size, ...artifact });
      },
    }),
  ];
}

/** A logged record's place in a stream: timestamp, then run name, then step (the back-fill's SQL order). */
type RecordKey = Pick<MetricEvent, "timestamp_ms" | "run" | "step">;

export function compareRecords(a: RecordKey, b: RecordKey): number {
  return a.timestamp_ms - b.timestamp_ms || (a.run < b.run ? -1 : a.run > b.run ? 1 : 0) || a.step - b.step;
}

/**
 * The SSE `id` of a metric event, `{timestamp_ms}:{run}:{step}`: unique per record (a record is one run and
 * step) and increasing along the stream, so that resuming after it skips exactly what the client has, even
 * when a batch's records share one timestamp. `:` never occurs in a run name.
 */
export function eventId(record: RecordKey): string {
  return `${record.timestamp_ms}:${record.run}:${record.step}`;
}

/**
 * Where a stream starts: `since` from the query; else the `Last-Event-ID` an EventSource sends when it
 * reconnects — one of our ids (resume strictly after that record) or a bare UNIX-ms number (as `since`).
 */
function resumePoint(
  request: Parameters<Route["handler"]>[1],
  since: number | undefined,
): { since: number | undefined; after?: RecordKey } {
  if (since !== undefined) return { since };
  const lastId = request.headers["last-event-id"];
  const match = typeof lastId === "string" ? /^(\d{1,16}):([^:]+):(\d{1,10})$/.exec(lastId) : null;
  if (match) {
    const after = { timestamp_ms: Number(match[1]), run: match[2]!, step: Number(match[3]) };
    return { since: after.timestamp_ms, after };
  }
  return { since: resumeFrom(request, undefined) };
}

function metricData(record: MetricEvent) {
  return {
    project: record.project,
    run: record.run,
    step: record.step,
    timestamp: new Date(record.timestamp_ms).toISOString(),
    timestamp_ms: record.timestamp_ms,
    metrics: record.metrics,
  };
}

function statusData(status: StatusEvent) {
  return {
    project: status.project,
    run: status.run,
    status: status.status,
    is_finished: status.is_finished,
    exit_code: status.exit_code,
    timestamp: new Date(status.timestamp_ms).toISOString(),
  };
}
