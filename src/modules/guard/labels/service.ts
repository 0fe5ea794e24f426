import type { PrismaClient } from "../../../generated/prisma/client.js";
import type { Database } from "../../../platform/db.js";
import type { ApiKeyPrincipal } from "../../../platform/auth.js";
import { scopeOf } from "../items/service.js";
import { isoDate, type Modality } from "../shared.schema.js";
import type { ExportRow, LabelOut } from "./labels.schema.js";

/** Rows read per query of an export; memory stays at about two batches whatever the export's size. */
export const EXPORT_BATCH = 10_000;

function labelValue(value: unknown): string | number[] {
  return Array.isArray(value) ? (value as number[]) : String(value);
}

/** Finalized labels: paged for the public API, streamed in keyset batches for exports. */
export class LabelService {
  /** Exports currently reading from the database (tests and operators watch it return to 0). */
  activeExports = 0;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly db: Pick<Database, "queryRows">,
  ) {}

  /** Finalized labels the key may see, oldest first, without items flagged for review. */
  async list(principal: ApiKeyPrincipal, paging: { limit: number; offset: number }): Promise<LabelOut[]> {
    const scope = scopeOf(principal);
    const rows = await this.prisma.label.findMany({
      where: {
        ...(scope ? { datasetId: { in: scope } } : {}),
        item: { state: { not: "needs_review" } },
      },
      orderBy: { seq: "asc" },
      skip: paging.offset,
      take: paging.limit,
      include: { item: { select: { dataRef: true, modality: true } } },
    });
    return rows.map((row) => ({
      item_id: row.itemId,
      data_ref: row.item.dataRef,
      modality: row.item.modality,
      label: labelValue(row.label),
      confidence: row.confidence,
      solver_count: row.solverCount,
      weighted_confidence: row.weightedConfidence,
      created_at: isoDate(row.createdAt),
      dataset_id: row.datasetId,
    }));
  }

  /**
   * Every exportable label of a dataset, in creation order, read in keyset batches (`seq > cursor`, one
   * index range scan each: no OFFSET, no server-side cursor held open between batches) straight through the
   * driver. The next batch is fetched while the consumer writes the current one, so at most two batches are
   * in memory. Stops at once when `signal` aborts (client gone) or the consumer stops iterating.
   */
  async *exportBatches(
    datasetId: string,
    options: { signal?: AbortSignal; batchSize?: number } = {},
  ): AsyncGenerator<ExportRow[]> {
    const batchSize = options.batchSize ?? EXPORT_BATCH;
    const fetchAfter = (cursor: string) =>
      this.db.queryRows(
        `SELECT l.seq::text, l.item_id::text, i.data_ref, i.modality::text, jsonb_typeof(l.label),
                l.label #>> '{}', l.confidence, l.solver_count,
                to_char(l.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
         FROM labels l JOIN items i ON i.id = l.item_id
         WHERE l.dataset_id = $1::uuid AND l.seq > $2::bigint AND i.state <> 'needs_review'
         ORDER BY l.seq
         LIMIT $3::int`,
        [datasetId, cursor, batchSize],
      ) as Promise<DbExportRow[]>;
    this.activeExports++;
    try {
      let pending: Promise<DbExportRow[]> | null = fetchAfter("0");
      while (pending && !options.signal?.aborted) {
        const rows: DbExportRow[] = await pending;
        pending = rows.length === batchSize ? fetchAfter(rows[rows.length - 1]![0]) : null;
        // An abandoned prefetch must not surface as an unhandled rejection.
        pending?.catch(() => {});
        if (rows.length === 0 || options.signal?.aborted) break;
        yield rows.map(toExportRow);
      }
    } finally {
      this.activeExports--;
    }
  }
}

/** seq, item_id, data_ref, modality, jsonb_typeof(label), label #>> '{}', confidence, solver_count, created_at */
type DbExportRow = [string, string, string, Modality, string, string, number, number, string];

function toExportRow(row: DbExportRow): ExportRow {
  const [, itemId, dataRef, modality, labelType, labelText, confidence, solverCount, createdAt] = row;
  // A string label is written as is in CSV; a list of indices as compact JSON ("[1,4]") everywhere.
  const labelJson =
    labelType === "string" ? JSON.stringify(labelText) : JSON.stringify(JSON.parse(labelText));
  return {
    itemId,
    dataRef,
    modality,
    labelCsv: labelType === "string" ? labelText : labelJson,
    labelJson,
    confidence,
    solverCount,
    createdAt,
  };
}
