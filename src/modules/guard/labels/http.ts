// The streaming label export: a plain Fastify route, because a JSON procedure cannot stream a file.
import { Readable } from "node:stream";
import { stringify } from "csv-stringify/sync";
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { ZodOpenApiPathsObject } from "zod-openapi";
import { ValidationError, zodIssuesToDetail } from "../../../platform/errors.js";
import type { AppDeps } from "../../../trpc/context.js";
import { uuidSchema } from "../shared.schema.js";
import { EXPORT_COLUMNS, type ExportFormat, type ExportRow, exportFormatSchema } from "./labels.schema.js";

export const EXPORT_PATH = "/dashboard/api/item-datasets/{id}/labeled/export";

const CONTENT_TYPES: Record<ExportFormat, string> = {
  csv: "text/csv; charset=utf-8",
  json: "application/json; charset=utf-8",
  jsonl: "application/x-ndjson; charset=utf-8",
};

const paramsSchema = z.object({ id: uuidSchema.describe("Dataset id") });
const querySchema = z.object({
  fmt: exportFormatSchema.default("csv").describe("csv (default), json or jsonl"),
});

function parseOrThrow<T extends z.ZodType>(schema: T, value: unknown, where: "path" | "query"): z.infer<T> {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success)
    throw new ValidationError(zodIssuesToDetail(parsed.error.issues, (path) => [where, ...path.map(String)]));
  return parsed.data;
}

/** `labels-<dataset name as a slug>.<fmt>`: ASCII only, so every client keeps it as given. */
export function exportFileName(name: string, fmt: ExportFormat): string {
  const slug = name
    .normalize("NFKD")
    .replace(/[^\w\s-]/g, "")
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, "-")
    .slice(0, 80);
  return `labels-${slug || "dataset"}.${fmt}`;
}

const csvRecord = (row: ExportRow) => [
  row.itemId,
  row.dataRef,
  row.modality,
  row.labelCsv,
  row.confidence,
  row.solverCount,
  row.createdAt,
];

/** The JSON object of a row, written by hand in EXPORT_COLUMNS order (the label is already JSON). */
const jsonRecord = (row: ExportRow) =>
  `{"item_id":"${row.itemId}","data_ref":${JSON.stringify(row.dataRef)},"modality":"${row.modality}",` +
  `"label":${row.labelJson},"confidence":${JSON.stringify(row.confidence)},` +
  `"solver_count":${row.solverCount},"created_at":"${row.createdAt}"}`;

/** Each batch becomes one text chunk: csv-stringify for CSV (quoting, escaping), JSON otherwise. */
export async function* encode(
  batches: AsyncIterable<ExportRow[]>,
  fmt: ExportFormat,
): AsyncGenerator<string> {
  let first = true;
  if (fmt === "json") yield "[";
  for await (const rows of batches) {
    if (fmt === "csv") {
      yield stringify(rows.map(csvRecord), { header: first, columns: [...EXPORT_COLUMNS] });
    } else if (fmt === "jsonl") {
      yield `${rows.map(jsonRecord).join("\n")}\n`;
    } else {
      yield `${first ? "\n" : ",\n"}${rows.map(jsonRecord).join(",\n")}`;
    }
    first = false;
  }
  if (fmt === "json") yield "\n]\n";
  // An export with no labels still has its CSV header row.
  if (fmt === "csv" && first) yield stringify([], { header: true, columns: [...EXPORT_COLUMNS] });
}

export function registerGuardHttp(app: FastifyInstance, deps: AppDeps): void {
  app.get(EXPORT_PATH.replace("{id}", ":id"), { schema: { hide: true } }, async (request, reply) => {
    await deps.auth.dashboard.authenticateRequest(request.headers, request.ip, { write: false });
    const { id } = parseOrThrow(paramsSchema, request.params, "path");
    const { fmt } = parseOrThrow(querySchema, request.query, "query");
    const dataset = await deps.services.datasets.get(id);

    const abort = new AbortController();
    // CSV on PostgreSQL: the database writes the file (COPY); otherwise keyset batches encoded here.
    const copied = fmt === "csv" ? await deps.services.labels.exportCsvStream(dataset.id) : null;
    const body =
      copied ??
      Readable.from(encode(deps.services.labels.exportBatches(dataset.id, { signal: abort.signal }), fmt), {
        objectMode: false,
        highWaterMark: 1,
      });
    // The client went away before the end: stop reading from the database.
    reply.raw.on("close", () => {
      if (!reply.raw.writableFinished) {
        abort.abort();
        body.destroy();
      }
    });
    body.on("error", (error) =>
      request.log.error({ err: error, datasetId: dataset.id }, "label export failed"),
    );
    return reply
      .header("content-type", CONTENT_TYPES[fmt])
      .header("content-disposition", `attachment; filename="${exportFileName(dataset.name, fmt)}"`)
      .header("cache-control", "no-store")
      .send(body);
  });
}

const errorContent = { "application/json": { schema: { $ref: "#/components/schemas/HTTPError" } } };

/** The export in the OpenAPI document (plain routes are not generated from the router). */
export const guardExtraPaths: ZodOpenApiPathsObject = {
  [EXPORT_PATH]: {
    get: {
      tags: ["dashboard: datasets"],
      summary: "Stream a dataset's finalized labels as CSV, JSON or JSONL",
      description:
        "Columns: item_id, data_ref, modality, label, confidence, solver_count, created_at. Items flagged " +
        "for review are left out. Read in keyset batches, so memory stays flat for millions of rows; " +
        "a client that disconnects stops the export.",
      security: [{ dashboardBasic: [] }],
      requestParams: { path: paramsSchema, query: querySchema },
      responses: {
        200: {
          description: "The labels, streamed (Content-Disposition names the file)",
          content: {
            "text/csv": { schema: z.string() },
            "application/json": { schema: z.array(z.record(z.string(), z.unknown())) },
            "application/x-ndjson": { schema: z.string() },
          },
        },
        401: { description: "Missing or invalid credentials", content: errorContent },
        404: { description: "Dataset not found", content: errorContent },
        422: {
          description: "Malformed id or unknown fmt",
          content: { "application/json": { schema: { $ref: "#/components/schemas/HTTPValidationError" } } },
        },
        429: { description: "Too many failed login attempts", content: errorContent },
      },
    },
  },
};
