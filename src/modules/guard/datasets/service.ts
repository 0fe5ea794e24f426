import type { PrismaClient } from "../../../generated/prisma/client.js";
import { NotFoundError, ValidationError } from "../../../platform/errors.js";
import type { MetricsService } from "../metrics/service.js";
import { type ChallengeType, challengeTypeFits, GRID_TYPES, isoDate } from "../shared.schema.js";
import { type ListPage, type Paged, pageArgs } from "../../../trpc/paging.js";
import type { CreateDatasetInput, DatasetOut, DatasetProgressOut } from "./datasets.schema.js";

type DatasetRow = Awaited<ReturnType<PrismaClient["dataset"]["findFirstOrThrow"]>>;

export const DATASET_NOT_FOUND = "Dataset not found";

export function toDatasetOut(row: DatasetRow): DatasetOut {
  return {
    id: row.id,
    name: row.name,
    modality: row.modality,
    item_count: row.itemCount,
    created_at: isoDate(row.createdAt),
    prompt: row.prompt,
    challenge_type: row.challengeType,
    choices: row.choices,
  };
}

/** Item datasets: the unit of scope for API keys, of labeling defaults and of export. */
export class DatasetService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly metrics: MetricsService,
  ) {}

  async list(page?: ListPage): Promise<Paged<DatasetOut>> {
    const [rows, total] = await Promise.all([
      this.prisma.dataset.findMany({ orderBy: [{ createdAt: "asc" }, { id: "asc" }], ...pageArgs(page) }),
      this.prisma.dataset.count(),
    ]);
    return { rows: rows.map(toDatasetOut), total };
  }

  async create(input: CreateDatasetInput): Promise<DatasetOut> {
    const challengeType: ChallengeType = input.challenge_type ?? input.modality;
    if (!challengeTypeFits(challengeType, input.modality)) {
      throw ValidationError.field(
        ["body", "challenge_type"],
        GRID_TYPES.has(challengeType)
          ? `${challengeType} needs modality image`
          : `must be ${input.modality} (or a grid type for images)`,
      );
    }
    const grid = GRID_TYPES.has(challengeType);
    if (grid && input.choices && input.choices.length > 0) {
      throw ValidationError.field(
        ["body", "choices"],
        `${challengeType} answers are cell indices, not choices`,
      );
    }
    const choices = grid ? [] : (input.choices ?? ["yes", "no"]);
    if (new Set(choices).size !== choices.length) {
      throw ValidationError.field(["body", "choices"], "choices must be distinct");
    }
    const row = await this.prisma.dataset.create({
      data: {
        name: input.name,
        modality: input.modality,
        prompt: input.prompt ?? null,
        challengeType,
        choices,
      },
    });
    return toDatasetOut(row);
  }

  async get(id: string): Promise<DatasetOut> {
    const row = await this.prisma.dataset.findUnique({ where: { id } });
    if (!row) throw new NotFoundError(DATASET_NOT_FOUND);
    return toDatasetOut(row);
  }

  /**
   * Deletes the dataset; its items, votes and labels go with it through ON DELETE CASCADE in the same
   * statement, i.e. one transaction: a reader sees all of it or none of it.
   */
  async delete(id: string): Promise<void> {
    const { count } = await this.prisma.dataset.deleteMany({ where: { id } });
    if (count === 0) throw new NotFoundError(DATASET_NOT_FOUND);
    await this.metrics.itemsChanged();
  }

  /**
   * Labeling progress of many datasets in one grouped query (the GraphQL `Dataset.progress` field batches
   * every dataset of a list into one call). Datasets with no items answer zeros; unknown ids are left out.
   */
  async progress(ids: string[] | undefined): Promise<DatasetProgressOut[]> {
    const known = await this.prisma.dataset.findMany({
      where: ids ? { id: { in: ids } } : {},
      select: { id: true },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
    });
    const groups = await this.prisma.item.groupBy({
      by: ["datasetId", "state", "isGt"],
      where: { datasetId: { in: known.map((row) => row.id) } },
      _count: { _all: true },
    });
    const byId = new Map<string, DatasetProgressOut>(
      known.map(({ id }) => [
        id,
        {
          dataset_id: id,
          ground_truth: 0,
          unlabeled: 0,
          labeled: 0,
          revalidating: 0,
          graduated: 0,
          needs_review: 0,
        },
      ]),
    );
    for (const group of groups) {
      const entry = byId.get(group.datasetId);
      if (!entry) continue;
      // Ground-truth items are outside the labeling life cycle: counted apart.
      if (group.isGt) entry.ground_truth += group._count._all;
      else entry[group.state] += group._count._all;
    }
    return [...byId.values()];
  }
}
