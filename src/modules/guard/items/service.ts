import { randomUUID } from "node:crypto";
import type { PrismaClient } from "../../../generated/prisma/client.js";
import type { ApiKeyPrincipal } from "../../../platform/auth.js";
import { ValidationError, type ValidationIssue } from "../../../platform/errors.js";
import type { MetricsService } from "../metrics/service.js";
import { type ChallengeType, challengeTypeFits, GRID_TYPES, isoDate } from "../shared.schema.js";
import type { ItemInput, ItemOut } from "./items.schema.js";

/** The 422 body names at most this many bad fields (the first ones), so it stays small. */
const MAX_ISSUES = 100;

/** Dataset ids a key may see, or null when it may see all of them. */
export function scopeOf(principal: ApiKeyPrincipal): string[] | null {
  return principal.datasets.length > 0 ? principal.datasets : null;
}

interface DatasetInfo {
  id: string;
  modality: string;
  challengeType: ChallengeType;
  choices: string[];
}

/** Ground-truth and unlabeled items uploaded through the public API. */
export class ItemService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * Validates every item first (all-or-nothing), then inserts them and bumps the datasets' item counts in
   * one transaction. Ids are returned in the order the items were sent. `principal` null is the dashboard
   * (every dataset).
   */
  async upload(
    principal: ApiKeyPrincipal | null,
    items: ItemInput[],
  ): Promise<{ created: number; item_ids: string[] }> {
    // null: the dashboard, which sees every dataset.
    const scope = principal ? scopeOf(principal) : null;
    const wanted = [...new Set(items.map((item) => item.dataset_id.toLowerCase()))];
    const visible = scope ? wanted.filter((id) => scope.includes(id)) : wanted;
    const datasets = new Map<string, DatasetInfo>(
      (
        await this.prisma.dataset.findMany({
          where: { id: { in: visible } },
          select: { id: true, modality: true, challengeType: true, choices: true },
        })
      ).map((row) => [row.id, row]),
    );

    const issues: ValidationIssue[] = [];
    const rows = items.map((item, index) => {
      const at = (field: string) => ["body", "items", index, field];
      const report = (field: string, msg: string, type = "value_error") => {
        if (issues.length < MAX_ISSUES) issues.push({ loc: at(field), msg, type });
      };
      // A dataset outside the key's scope is reported exactly like a missing one: no existence oracle.
      const dataset = datasets.get(item.dataset_id.toLowerCase());
      if (!dataset) {
        report("dataset_id", "Dataset not found", "not_found");
        return null;
      }
      if (item.modality !== dataset.modality) {
        report("modality", `must be the dataset's modality (${dataset.modality})`);
      }
      const type = (item.challenge_type ?? dataset.challengeType) as ChallengeType;
      if (item.challenge_type && !challengeTypeFits(item.challenge_type, item.modality)) {
        report("challenge_type", `${item.challenge_type} does not fit modality ${item.modality}`);
      }
      const gt = item.ground_truth ?? null;
      let groundTruth: string | number[] | null = null;
      if (gt !== null) {
        if (GRID_TYPES.has(type)) {
          if (!Array.isArray(gt)) report("ground_truth", `${type} answers are a list of cell indices`);
          else groundTruth = [...new Set(gt)].sort((a, b) => a - b);
        } else if (Array.isArray(gt)) {
          report("ground_truth", `${type} answers are a string`);
        } else if (dataset.choices.length > 0 && !dataset.choices.includes(gt)) {
          report("ground_truth", `must be one of the dataset's choices: ${dataset.choices.join(", ")}`);
        } else {
          groundTruth = gt;
        }
      }
      return {
        id: randomUUID(),
        datasetId: dataset.id,
        dataRef: item.data_ref,
        modality: dataset.modality as ItemOut["modality"],
        challengeType: item.challenge_type ?? null,
        prompt: item.prompt ?? null,
        groundTruth: groundTruth ?? undefined,
        isGt: groundTruth !== null,
      };
    });
    if (issues.length > 0) throw new ValidationError(issues);

    const valid = rows as NonNullable<(typeof rows)[number]>[];
    const perDataset = new Map<string, number>();
    for (const row of valid) perDataset.set(row.datasetId, (perDataset.get(row.datasetId) ?? 0) + 1);

    // One INSERT ... SELECT FROM unnest(arrays): a fixed 8 parameters whatever the batch size, where an
    // ORM multi-row insert binds 8 per row and costs ~10× more. Counts are bumped in the same transaction,
    // dataset rows in sorted order so two concurrent uploads never deadlock.
    const counts = [...perDataset].sort(([a], [b]) => a.localeCompare(b));
    await this.prisma.$transaction([
      this.prisma.$executeRaw`
        INSERT INTO items (id, dataset_id, data_ref, modality, challenge_type, prompt, ground_truth, is_gt)
        SELECT id, dataset_id, data_ref, modality::modality, challenge_type::challenge_type, prompt,
               ground_truth::jsonb, is_gt
        FROM unnest(${valid.map((r) => r.id)}::uuid[], ${valid.map((r) => r.datasetId)}::uuid[],
                    ${valid.map((r) => r.dataRef)}::text[], ${valid.map((r) => r.modality)}::text[],
                    ${valid.map((r) => r.challengeType)}::text[], ${valid.map((r) => r.prompt)}::text[],
                    ${valid.map((r) => (r.groundTruth === undefined ? null : JSON.stringify(r.groundTruth)))}::text[],
                    ${valid.map((r) => r.isGt)}::boolean[])
             WITH ORDINALITY AS u(id, dataset_id, data_ref, modality, challenge_type, prompt, ground_truth, is_gt, n)
        ORDER BY n`,
      ...counts.map(([datasetId, count]) =>
        this.prisma.dataset.update({ where: { id: datasetId }, data: { itemCount: { increment: count } } }),
      ),
    ]);
    await this.metrics.itemsChanged();
    return { created: valid.length, item_ids: valid.map((row) => row.id) };
  }

  /** Items the key may see, in upload order. */
  async list(principal: ApiKeyPrincipal, paging: { limit: number; offset: number }): Promise<ItemOut[]> {
    const scope = scopeOf(principal);
    const rows = await this.prisma.item.findMany({
      where: scope ? { datasetId: { in: scope } } : {},
      orderBy: { seq: "asc" },
      skip: paging.offset,
      take: paging.limit,
      select: {
        id: true,
        datasetId: true,
        dataRef: true,
        modality: true,
        createdAt: true,
        challengeType: true,
        prompt: true,
      },
    });
    return rows.map((row) => ({
      id: row.id,
      dataset_id: row.datasetId,
      data_ref: row.dataRef,
      modality: row.modality,
      created_at: isoDate(row.createdAt),
      challenge_type: row.challengeType,
      prompt: row.prompt,
    }));
  }
}
