// OpenAPI entries for the tracking routes that are plain Fastify routes (binary, streaming, multipart).
import type { ZodOpenApiPathsObject } from "zod-openapi";

const security = [{ dashboardBasic: [] }];
const error = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/HTTPError" } } },
});
const validation = {
  description: "Validation error",
  content: { "application/json": { schema: { $ref: "#/components/schemas/HTTPValidationError" } } },
};
const path = (name: string, description: string) => ({
  name,
  in: "path" as const,
  required: true,
  description,
  schema: { type: "string" as const },
});
const query = (name: string, description: string, schema: Record<string, unknown>, required = false) => ({
  name,
  in: "query" as const,
  required,
  description,
  schema,
});
const project = path("project", "Project name");
const run = path("run", "Run name");
const runs = query("runs", "Comma-separated run names (at most 100)", { type: "string" }, true);
const since = query("since", "Only points with timestamp ≥ since (UNIX ms)", { type: "integer", minimum: 0 });
const sseDescription =
  "Server-Sent Events: `event: metric` (one logged record: project, run, step, timestamp, timestamp_ms, metrics), " +
  "`event: status` (project, run, status, is_finished, exit_code, timestamp), `event: heartbeat` every 15 s. " +
  "Each metric event has `id:` = its timestamp in ms: an EventSource that reconnects sends it back as " +
  "Last-Event-ID and receives what it missed; `since` does the same explicitly.";

const common = { 401: error("Missing or invalid credentials"), 404: error("Not found"), 422: validation };

export const trackingOpenApiPaths: ZodOpenApiPathsObject = {
  "/api/projects/{project}/runs/metrics": {
    get: {
      tags: ["tracking"],
      summary: "Get metrics for multiple runs (metric-first; JSON or msgpack with float32 values)",
      description:
        "`{project, metrics: {metric: {run: {steps, values, timestamps}}}}`. Series longer than the threshold " +
        "(default 1,000) are LTTB-downsampled, keeping the steps and timestamps of the kept points. Unknown run " +
        "names are left out. In JSON, NaN/±Infinity values are null; msgpack keeps them.",
      security,
      parameters: [
        project,
        runs,
        query("format", "json (default) or msgpack", { type: "string", enum: ["json", "msgpack"] }),
        since,
        query("threshold", "LTTB threshold", { type: "integer", minimum: 3 }),
      ],
      responses: {
        200: {
          description: "Metrics of the runs",
          content: {
            "application/json": { schema: { type: "object" } },
            "application/x-msgpack": { schema: { type: "string", format: "binary" } },
          },
        },
        ...common,
      },
    },
  },
  "/api/projects/{project}/runs/stream": {
    get: {
      tags: ["tracking"],
      summary: "SSE stream for multiple runs",
      description: sseDescription,
      security,
      parameters: [project, runs, since],
      responses: { 200: { description: "Event stream", content: { "text/event-stream": {} } }, ...common },
    },
  },
  "/api/projects/{project}/runs/{run}/stream": {
    get: {
      tags: ["tracking"],
      summary: "SSE stream for a run",
      description: sseDescription,
      security,
      parameters: [project, run, since],
      responses: { 200: { description: "Event stream", content: { "text/event-stream": {} } }, ...common },
    },
  },
  "/api/projects/{project}/runs/{run}/artifacts/download": {
    get: {
      tags: ["tracking"],
      summary: "Download artifacts as ZIP (streamed; named {project}_{run}_artifacts_{timestamp}.zip)",
      security,
      parameters: [project, run],
      responses: {
        200: {
          description: "ZIP archive",
          content: { "application/zip": { schema: { type: "string", format: "binary" } } },
        },
        ...common,
      },
    },
  },
  "/tracker/api/v1/projects/{project}/runs/{run}/artifacts": {
    post: {
      tags: ["tracking ingestion"],
      summary: "Upload an artifact (multipart field `file`, optional field `name`; ≤ 100 MB by default)",
      security,
      parameters: [project, run],
      requestBody: {
        required: true,
        content: {
          "multipart/form-data": {
            schema: {
              type: "object",
              required: ["file"],
              properties: { name: { type: "string" }, file: { type: "string", format: "binary" } },
            },
          },
        },
      },
      responses: {
        201: {
          description: "Stored artifact (name, size, content_type, created_at)",
          content: { "application/json": {} },
        },
        413: error("Artifact larger than TRACKING_MAX_ARTIFACT_MB"),
        403: error(
          "Sent by a browser on behalf of another site (Origin / Sec-Fetch-Site): cross-site uploads are refused",
        ),
        ...common,
      },
    },
  },
  "/projects/{project}/runs/{run}": {
    get: {
      tags: ["tracking pages"],
      summary: "Run detail page; with `Accept: application/json`, the run as JSON",
      security,
      parameters: [project, run],
      responses: {
        200: {
          description: "HTML page, or the run (RunDetail) as JSON",
          content: { "text/html": {}, "application/json": {} },
        },
        ...common,
      },
    },
  },
};
