// The tracking routes JSON procedures cannot carry: the multi-run metrics read (JSON or msgpack), SSE
// streams, the artifacts ZIP, the multipart artifact upload, and the HTML pages with their static assets.
// Each one validates, authorizes, and calls the same TrackingService as the procedures.
import { basename } from "node:path";
import fastifyMultipart from "@fastify/multipart";
import { Encoder } from "@msgpack/msgpack";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import yazl from "yazl";
import { z } from "zod";
import { ForbiddenError, NotFoundError, ValidationError, zodIssuesToDetail } from "../../platform/errors.js";
import type { AppDeps } from "../../trpc/context.js";
import type { MetricEvent, StatusEvent, TrackingEvent } from "./events.js";
import { registerTrackingPages } from "./pages.js";
import { runsListParam } from "./router.js";
import { jsonSeries } from "./service.js";
import { projectName, runName, sinceParam, thresholdParam } from "./tracking.schema.js";

/** Upstream's limit on the size of one artifacts ZIP. */
export const MAX_ZIP_BYTES = 1024 ** 3;

const msgpack = new Encoder({ forceFloat32: true, ignoreUndefined: true });

/** Parses one part of the request (path or query) with zod, answering 422 with `loc` like the procedures. */
export function parse<T extends z.ZodType>(schema: T, value: unknown, where: "path" | "query"): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success)
    throw new ValidationError(zodIssuesToDetail(result.error.issues, (path) => [where, ...path.map(String)]));
  return result.data;
}

/** A request a browser sent on behalf of another site (Sec-Fetch-Site, else an Origin of another host). */
export function isCrossSite(request: FastifyRequest): boolean {
  const site = request.headers["sec-fetch-site"];
  if (site === "cross-site" || site === "same-site") return true;
  const origin = request.headers.origin;
  if (typeof origin !== "string" || origin === "") return false;
  if (origin === "null") return true;
  try {
    return new URL(origin).host !== request.headers.host;
  } catch {
    return true;
  }
}

export function trackingAuthorizer(deps: AppDeps) {
  return async (request: FastifyRequest): Promise<void> => {
    if (deps.config.tracking.auth === "none") return;
    await deps.auth.dashboard.authenticateRequest(request.headers, request.ip, {
      write: request.method !== "GET" && request.method !== "HEAD",
    });
  };
}

const runParams = z.object({ project: projectName, run: runName });
const projectParams = z.object({ project: projectName });

export async function registerTrackingRoutes(app: FastifyInstance, deps: AppDeps): Promise<void> {
  const tracking = deps.services.tracking;
  const authorize = trackingAuthorizer(deps);
  const streams = new Set<() => void>();
  // SSE responses never become idle: end them so a graceful shutdown does not wait for the clients.
  app.addHook("preClose", async () => {
    for (const end of streams) end();
  });

  // ── multi-run metrics: JSON or msgpack ─────────────────────────────────────────────────────────────
  app.get("/api/projects/:project/runs/metrics", async (request, reply) => {
    await authorize(request);
    const { project } = parse(projectParams, request.params, "path");
    const query = parse(
      z.object({
        runs: runsListParam,
        format: z.enum(["json", "msgpack"]).default("json"),
        since: sinceParam,
        threshold: thresholdParam,
      }),
      request.query,
      "query",
    );
    const metrics = await tracking.runsMetrics(project, query.runs, query);
    if (query.format === "msgpack") {
      return reply.type("application/x-msgpack").send(Buffer.from(msgpack.encode({ project, metrics })));
    }
    const json = Object.fromEntries(
      Object.entries(metrics).map(([name, runs]) => [
        name,
        Object.fromEntries(Object.entries(runs).map(([run, series]) => [run, jsonSeries(series)])),
      ]),
    );
    return reply.type("application/json").send({ project, metrics: json });
  });

  // ── SSE ────────────────────────────────────────────────────────────────────────────────────────────
  const streamQuery = z.object({ since: sinceParam });

  app.get("/api/projects/:project/runs/:run/stream", async (request, reply) => {
    await authorize(request);
    const { project, run } = parse(runParams, request.params, "path");
    const { since } = parse(streamQuery, request.query, "query");
    await tracking.getRun(project, run); // 404 before the stream starts
    await serveStream(request, reply, project, [run], resumeFrom(request, since));
  });

  app.get("/api/projects/:project/runs/stream", async (request, reply) => {
    await authorize(request);
    const { project } = parse(projectParams, request.params, "path");
    const query = parse(z.object({ runs: runsListParam, since: sinceParam }), request.query, "query");
    if (!(await tracking.projectExists(project))) throw new NotFoundError(`Project '${project}' not found`);
    await serveStream(request, reply, project, query.runs, resumeFrom(request, query.since));
  });

  async function serveStream(
    request: FastifyRequest,
    reply: FastifyReply,
    project: string,
    runs: string[],
    since: number | undefined,
  ): Promise<void> {
    const watched = new Set(runs);
    const sent = new Set<string>();
    let backfillUntil = -1;
    let live = false;
    const pending: TrackingEvent[] = [];
    const raw = reply.raw;

    const write = (event: string, data: unknown, id?: number) => {
      if (raw.writableEnded) return;
      raw.write(`${id === undefined ? "" : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const sendMetric = (record: MetricEvent) => {
      const key = `${record.run}:${record.step}:${record.timestamp_ms}`;
      if (record.timestamp_ms <= backfillUntil && sent.has(key)) return;
      if (record.timestamp_ms <= backfillUntil) sent.add(key);
      write("metric", metricData(record), record.timestamp_ms);
    };
    const deliver = (event: TrackingEvent) => {
      if (event.kind === "metric") {
        for (const record of event.records) if (watched.has(record.run)) sendMetric(record);
      } else if (watched.has(event.status.run)) {
        write("status", statusData(event.status));
      }
    };

    // Subscribe first and hold live events while the gap is read, so nothing falls between the two.
    const unsubscribe = await tracking.events.subscribe(project, (event) => {
      if (live) deliver(event);
      else pending.push(event);
    });

    reply.hijack();
    raw.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no",
      "x-request-id": request.id,
    });
    raw.write(`retry: 3000\n: connected to ${project}\n\n`);

    const heartbeat = setInterval(
      () => write("heartbeat", { timestamp: new Date().toISOString() }),
      deps.config.tracking.sseHeartbeatMs,
    );
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      clearInterval(heartbeat);
      streams.delete(end);
      void unsubscribe().catch(() => {});
      if (!raw.writableEnded) raw.end();
    };
    streams.add(end);
    request.raw.on("close", end);
    raw.on("error", end);

    try {
      if (since !== undefined) {
        const missed = await tracking.recordsSince(project, runs, since);
        for (const record of missed) {
          sent.add(`${record.run}:${record.step}:${record.timestamp_ms}`);
          backfillUntil = Math.max(backfillUntil, record.timestamp_ms);
          write("metric", metricData(record), record.timestamp_ms);
        }
      }
      live = true;
      for (const event of pending.splice(0)) deliver(event);
    } catch (err) {
      request.log.error({ err }, "tracking stream backfill failed");
      write("error", { detail: "Could not read the missed records; reconnect to retry" });
      end();
    }
  }

  // ── artifacts ──────────────────────────────────────────────────────────────────────────────────────
  app.get("/api/projects/:project/runs/:run/artifacts/download", async (request, reply) => {
    await authorize(request);
    const { project, run } = parse(runParams, request.params, "path");
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
    for (const artifact of artifacts) {
      zip.addReadStreamLazy(
        artifact.name,
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
  });

  await app.register(async (scope) => {
    await scope.register(fastifyMultipart, {
      limits: { fileSize: deps.config.tracking.maxArtifactBytes, files: 1, fields: 4, fieldSize: 1024 },
    });
    scope.post("/tracker/api/v1/projects/:project/runs/:run/artifacts", async (request, reply) => {
      await authorize(request);
      // The one mutation a plain HTML form can send (multipart is a "simple" content type, so no CORS
      // preflight stops it), with the Basic credentials a browser remembers: refuse cross-site senders.
      // Browsers always send Origin (and Sec-Fetch-Site) on cross-origin POSTs; the SDK sends neither.
      if (isCrossSite(request)) throw new ForbiddenError("Cross-site upload refused");
      const { project, run } = parse(runParams, request.params, "path");
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
      const nameField = file.fields.name;
      const given =
        nameField && !Array.isArray(nameField) && nameField.type === "field"
          ? String(nameField.value)
          : file.filename;
      const name = basename(given ?? "").trim();
      if (!name || name === "." || name === ".." || name.length > 255) {
        file.file.resume();
        throw ValidationError.field(["body", "file"], "The file needs a name (1 to 255 characters)");
      }
      const artifact = await tracking.addArtifact(
        project,
        run,
        name,
        file.mimetype || "application/octet-stream",
        file.file,
      );
      return reply.code(201).send(artifact);
    });
  });

  await registerTrackingPages(app, deps, authorize);
}

/** `since` from the query, else the `Last-Event-ID` an EventSource sends when it reconnects. */
function resumeFrom(request: FastifyRequest, since: number | undefined): number | undefined {
  if (since !== undefined) return since;
  const lastId = Number(request.headers["last-event-id"]);
  return Number.isSafeInteger(lastId) && lastId >= 0 ? lastId : undefined;
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
