import type { Readable } from "node:stream";
import type { PrismaClient } from "../../../generated/prisma/client.js";
import type { Database } from "../../../platform/db.js";
import type { ApiKeyPrincipal } from "../../../platform/auth.js";
import { neutralizeCsvCellSql } from "../../../platform/csv.js";
import { scopeOf } from "../items/service.js";
import { isoDate, type Modality } from "../shared.schema.js";
import type { ExportRow, LabelOut, LabelPageOut, LabelSearchInput } from "./labels.schema.js";

/** Rows read per query of an export; memory stays at about two batches whatever the export's size. */
export const EXPORT_BATCH = 2_000;

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The CSV export as one COPY: PostgreSQL writes the CSV itself, byte for byte what the batch path writes
 * with csv-stringify (same columns and header, `\n` line ends, a field quoted only when it holds a comma, a
 * quote or a line break). Empty strings become NULL, which COPY writes unquoted like csv-stringify does;
 * a string label is written as is, a list label as compact JSON (`[1,4]`). Text cells that a spreadsheet
 * would run as a formula are neutralized as platform/csv.ts says, in SQL here.
 */
function copyCsvSql(datasetId: string): string {
  if (!UUID_RE.test(datasetId)) throw new Error(`not a dataset id: ${datasetId}`);
  // The dataset id comes first so pg_stat_activity (which keeps the first 1 kB of a query) shows
  // which export a running COPY is.
  return `COPY ( -- label export of dataset ${datasetId}
    SELECT item_id, ${neutralizeCsvCellSql("data_ref")} AS data_ref, modality, ${neutralizeCsvCellSql("label")} AS label,
           confidence, solver_count, created_at
    FROM (
    SELECT l.seq, l.item_id::text AS item_id, NULLIF(i.data_ref, '') AS data_ref, i.modality::text AS modality,
           NULLIF(CASE jsonb_typeof(l.label)
             WHEN 'string' THEN l.label #>> '{}'
             WHEN 'array' THEN '[' || coalesce((SELECT string_agg(e.v::text, ',' ORDER BY e.n)
                                                FROM jsonb_array_elements(l.label) WITH ORDINALITY AS e(v, n)), '') || ']'
             ELSE l.label::text END, '') AS label,
           l.confidence AS confidence, l.solver_count AS solver_count,
           to_char(l.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at
    FROM labels l JOIN items i ON i.id = l.item_id
    WHERE l.dataset_id = '${datasetId}'::uuid AND i.state <> 'needs_review'
    ) AS rows
    ORDER BY seq
  ) TO STDOUT WITH (FORMAT csv, HEADER)`;
}

function labelValue(value: unknown): string | number[] {
  return Array.isArray(value) ? (value as number[]) : String(value);
}

/** Finalized labels: paged for the public API, streamed in keyset batches for exports. */
export class LabelService {
  /** Exports currently reading from the database (tests and operators watch it return to 0). */
  activeExports = 0;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly db: Pick<Database, "queryRows" | "copyOut">,
  ) {}

  /**
   * The CSV export produced by the database (PostgreSQL's COPY), or null where it cannot (PGlite): then the
   * caller encodes `exportBatches`. Counts in `activeExports` until the stream closes (end or destroy).
   */
  async exportCsvStream(datasetId: string): Promise<Readable | null> {
    if (!this.db.copyOut) return null;
    const stream = await this.db.copyOut(copyCsvSql(datasetId));
    this.activeExports++;
    stream.once("close", () => this.activeExports--);
    return stream;
  }

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
    return rows.map(labelOut);
  }

  /**
   * The dashboard's label table: every label (also those flagged for review, with the item's state), newest
   * first, filtered by dataset and minimum confidence, with the total for paging.
   */
  async search(query: LabelSearchInput): Promise<LabelPageOut> {
    const where = {
      ...(query.dataset_id ? { datasetId: query.dataset_id } : {}),
      ...(query.min_confidence !== undefined ? { confidence: { gte: query.min_confidence } } : {}),
    };
    const [total, rows] = await Promise.all([
      this.prisma.label.count({ where }),
      this.prisma.label.findMany({
        where,
        orderBy: { seq: "desc" },
        skip: query.offset,
        take: query.limit,
        include: { item: { select: { dataRef: true, modality: true, state: true } } },
      }),
    ]);
    return {
      total,
      limit: query.limit,
      offset: query.offset,
      labels: rows.map((row) => ({ ...labelOut(row), state: row.item.state })),
    };
  }

  /**
   * What the crowd did on some of a dataset's items: every vote cast on them (the answer in its canonical
   * form), and the ground-truth record of the people who cast them (their answers on known items, right
   * and total, over their whole history). Items of another dataset are ignored.
   */
  async crowdRecord(datasetId: string, itemIds: readonly string[]): Promise<CrowdRecord> {
    const ids = itemIds.filter((id) => UUID_RE.test(id));
    if (!UUID_RE.test(datasetId) || ids.length === 0)
      return { votes: [], solvers: 0, gt_correct: 0, gt_total: 0 };
    const votes = await this.prisma.vote.findMany({
      where: { itemId: { in: ids }, item: { datasetId } },
      select: { itemId: true, answer: true, solverId: true },
    });
    const solverIds = [...new Set(votes.map((vote) => vote.solverId))];
    const record = solverIds.length
      ? await this.prisma.solver.aggregate({
          where: { id: { in: solverIds } },
          _sum: { gtCorrect: true, gtTotal: true },
        })
      : { _sum: { gtCorrect: 0, gtTotal: 0 } };
    return {
      votes: votes.map((vote) => ({ item_id: vote.itemId, answer: vote.answer })),
      solvers: solverIds.length,
      gt_correct: record._sum.gtCorrect ?? 0,
      gt_total: record._sum.gtTotal ?? 0,
    };
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

/** The crowd's votes on some items and its voters' record on ground-truth items. */
export interface CrowdRecord {
  /** `answer`: the class, or the JSON of the sorted cell indices (`[1,4]`), as the label export writes it. */
  votes: { item_id: string; answer: string }[];
  /** Distinct people (client hashes) who voted on the items. */
  solvers: number;
  /** Their answers on ground-truth items: right, and all. */
  gt_correct: number;
  gt_total: number;
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

/** A label row with its item's reference and modality, as the wire shows it. */
function labelOut(row: {
  itemId: string;
  datasetId: string;
  label: unknown;
  confidence: number;
  solverCount: number;
  weightedConfidence: number | null;
  createdAt: Date;
  item: { dataRef: string; modality: Modality };
}) {
  return {
    item_id: row.itemId,
    data_ref: row.item.dataRef,
    modality: row.item.modality,
    label: labelValue(row.label),
    confidence: row.confidence,
    solver_count: row.solverCount,
    weighted_confidence: row.weightedConfidence,
    created_at: isoDate(row.createdAt),
    dataset_id: row.datasetId,
  };
}
