// The streaming label export: a plain route, because a JSON procedure cannot stream a file.
import { Readable } from "node:stream";
import { stringify } from "csv-stringify/sync";
import { neutralizeCsvCell } from "../../../platform/csv.js";
import { z } from "zod";
import { defineRoute, type Route } from "../../../platform/http/route.js";
import type { AppDeps } from "../../../platform/module.js";
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
  neutralizeCsvCell(row.dataRef),
  row.modality,
  neutralizeCsvCell(row.labelCsv),
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

/** The streaming export (a JSON procedure cannot stream a file). */
export function labelExportRoutes(deps: AppDeps): Route[] {
  return [
    defineRoute({
      method: "GET",
      path: EXPORT_PATH,
      auth: "dashboard",
      params: paramsSchema,
      query: querySchema,
      openapi: {
        operationId: "exportDatasetLabels",
        tags: ["dashboard: datasets"],
        summary: "Stream a dataset's finalized labels as CSV, JSON or JSONL",
        description:
          "Columns: item_id, data_ref, modality, label, confidence, solver_count, created_at. Items flagged " +
          "for review are left out. Read in keyset batches, so memory stays flat for millions of rows; " +
          "a client that disconnects stops the export.",
        responses: {
          200: {
            description: "The labels, streamed (Content-Disposition names the file)",
            content: {
              "text/csv": { schema: z.string() },
              "application/json": { schema: z.array(z.record(z.string(), z.unknown())) },
              "application/x-ndjson": { schema: z.string() },
            },
          },
        },
      },
      handler: async ({ params, query }, request, reply) => {
        const { fmt } = query;
        const dataset = await deps.services.datasets.get(params.id);

        const abort = new AbortController();
        // CSV on PostgreSQL: the database writes the file (COPY); otherwise keyset batches encoded here.
        const copied = fmt === "csv" ? await deps.services.labels.exportCsvStream(dataset.id) : null;
        const body =
          copied ??
          Readable.from(
            encode(deps.services.labels.exportBatches(dataset.id, { signal: abort.signal }), fmt),
            { objectMode: false, highWaterMark: 1 },
          );
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
      },
    }),
  ];
}
