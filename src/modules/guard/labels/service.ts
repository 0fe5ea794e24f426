import type { PrismaClient } from "../../../generated/prisma/client.js";
import type { ApiKeyPrincipal } from "../../../platform/auth.js";
import { scopeOf } from "../items/service.js";
import { isoDate, type Modality } from "../shared.schema.js";
import type { ExportRow, LabelOut } from "./labels.schema.js";

/** Rows read per query of an export; memory stays at about two batches whatever the export's size. */
export const EXPORT_BATCH = 5000;

interface ExportDbRow {
  seq: bigint;
  item_id: string;
  data_ref: string;
  modality: Modality;
  label: unknown;
  confidence: number;
  solver_count: number;
  created_at: Date;
}

function labelValue(value: unknown): string | number[] {
  return Array.isArray(value) ? (value as number[]) : String(value);
}

/** Finalized labels: paged for the public API, streamed in keyset batches for exports. */
export class LabelService {
  /** Exports currently reading from the database (tests and operators watch it return to 0). */
  activeExports = 0;

  constructor(private readonly prisma: PrismaClient) {}

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
   * Every exportable label of a dataset, in creation order, read in keyset batches (`seq > cursor`, an index
   * range scan each: no OFFSET, no server-side cursor held open between batches). The next batch is
   * fetched while the consumer writes the current one. Stops at once when `signal` aborts (client gone).
   */
  async *exportRows(
    datasetId: string,
    options: { signal?: AbortSignal; batchSize?: number } = {},
  ): AsyncGenerator<ExportRow[]> {
    const batchSize = options.batchSize ?? EXPORT_BATCH;
    const fetchAfter = (cursor: bigint) =>
      this.prisma.$queryRaw<ExportDbRow[]>`
        SELECT l.seq, l.item_id::text AS item_id, i.data_ref, i.modality::text AS modality, l.label,
               l.confidence, l.solver_count, l.created_at
        FROM labels l JOIN items i ON i.id = l.item_id
        WHERE l.dataset_id = ${datasetId}::uuid AND l.seq > ${cursor} AND i.state <> 'needs_review'
        ORDER BY l.seq
        LIMIT ${batchSize}`;
    this.activeExports++;
    try {
      let pending: Promise<ExportDbRow[]> | null = fetchAfter(0n);
      while (pending && !options.signal?.aborted) {
        const rows: ExportDbRow[] = await pending;
        pending = rows.length === batchSize ? fetchAfter(rows[rows.length - 1]!.seq) : null;
        // An abandoned prefetch must not surface as an unhandled rejection.
        pending?.catch(() => {});
        if (rows.length === 0 || options.signal?.aborted) break;
        yield rows.map((row) => ({
          item_id: row.item_id,
          data_ref: row.data_ref,
          modality: row.modality,
          label: labelValue(row.label),
          confidence: row.confidence,
          solver_count: row.solver_count,
          created_at: isoDate(row.created_at),
        }));
      }
    } finally {
      this.activeExports--;
    }
  }
}
