import type { PrismaClient } from "../../../generated/prisma/client.js";
import { NotFoundError, ValidationError } from "../../../platform/errors.js";
import type { MetricsService } from "../metrics/service.js";
import { type ChallengeType, challengeTypeFits, GRID_TYPES, isoDate } from "../shared.schema.js";
import type { CreateDatasetInput, DatasetOut } from "./datasets.schema.js";

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

  async list(): Promise<DatasetOut[]> {
    const rows = await this.prisma.dataset.findMany({ orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
    return rows.map(toDatasetOut);
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
}
