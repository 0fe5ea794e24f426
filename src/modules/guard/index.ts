// What other modules may use of the guard (modules reach each other only through a module's index.ts).
import type { DatasetService } from "./datasets/service.js";
import type { LabelService } from "./labels/service.js";

/** Looks up a challenge dataset by id (NotFoundError when there is none). */
export type GuardDatasetLookup = Pick<DatasetService, "get">;
/** Reads a dataset's finalized labels in batches. */
export type GuardLabelReader = Pick<LabelService, "exportBatches">;
/** Lists the challenge datasets. */
export type GuardDatasetList = Pick<DatasetService, "list" | "get">;
/** The crowd's votes on items and its voters' record on ground-truth items. */
export type GuardCrowdReader = Pick<LabelService, "crowdRecord" | "exportBatches">;
export type { CrowdRecord } from "./labels/service.js";

/** One finalized label as a table row (what the lab imports as a dataset). */
export interface FinalizedLabelRow {
  item_id: string;
  data_ref: string;
  modality: string;
  /** The consensus answer: the class, or the selected grid cells as compact JSON (`[1,4]`). */
  label: string;
  confidence: number;
  solver_count: number;
  created_at: string;
}

/**
 * A dataset's finalized labels (items sent to review left out), in creation order, in batches: the same
 * rows as the label export, as objects.
 */
export async function* finalizedLabelRows(
  labels: GuardLabelReader,
  datasetId: string,
  options: { signal?: AbortSignal } = {},
): AsyncGenerator<FinalizedLabelRow[]> {
  for await (const batch of labels.exportBatches(datasetId, options))
    yield batch.map((row) => ({
      item_id: row.itemId,
      data_ref: row.dataRef,
      modality: row.modality,
      label: row.labelCsv,
      confidence: row.confidence,
      solver_count: row.solverCount,
      created_at: row.createdAt,
    }));
}
