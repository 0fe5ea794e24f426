// The risk model's registry: versions stored in the database (ONNX bytes, feature names, metrics), the
// counts training needs, and the labeled sessions it reads. The newest version is the active one.
import { Prisma, type PrismaClient } from "../../../generated/prisma/client.js";
import { isoDate } from "../shared.schema.js";
import { FEATURE_NAMES, type SessionFeatures } from "./features.js";
import type { ModelInfo, ModelMetrics } from "./ml.schema.js";

const LABELED = { gtCorrect: { not: null }, features: { not: Prisma.DbNull } } as const;

export interface LabeledSession {
  features: SessionFeatures;
  human: boolean;
}

export interface StoredModel {
  info: ModelInfo;
  onnx: Uint8Array;
  featureNames: string[];
}

export class RiskModelRegistry {
  constructor(private readonly prisma: PrismaClient) {}

  countWithFeatures(): Promise<number> {
    return this.prisma.challengeSession.count({ where: { features: { not: Prisma.DbNull } } });
  }

  /** Sessions with features and a ground-truth outcome: what training reads. */
  countLabeled(): Promise<number> {
    return this.prisma.challengeSession.count({ where: LABELED });
  }

  /** Labeled sessions, oldest first, in keyset batches (a stable order: the split is reproducible). */
  async *readLabeled(batchSize: number): AsyncGenerator<LabeledSession[]> {
    let cursor: { createdAt: Date; id: string } | null = null;
    for (;;) {
      const rows: { id: string; createdAt: Date; features: unknown; gtCorrect: boolean | null }[] =
        await this.prisma.challengeSession.findMany({
          where: {
            ...LABELED,
            ...(cursor && {
              OR: [
                { createdAt: { gt: cursor.createdAt } },
                { createdAt: cursor.createdAt, id: { gt: cursor.id } },
              ],
            }),
          },
          orderBy: [{ createdAt: "asc" }, { id: "asc" }],
          take: batchSize,
          select: { id: true, createdAt: true, features: true, gtCorrect: true },
        });
      yield rows.map((row) => ({ features: row.features as SessionFeatures, human: row.gtCorrect === true }));
      if (rows.length < batchSize) return;
      cursor = rows.at(-1)!;
    }
  }

  /** The most recent labeled sessions (what an uploaded model is evaluated on). */
  async recentLabeled(limit: number): Promise<LabeledSession[]> {
    const rows = await this.prisma.challengeSession.findMany({
      where: LABELED,
      orderBy: [{ createdAt: "desc" }, { id: "desc" }],
      take: limit,
      select: { features: true, gtCorrect: true },
    });
    return rows.map((row) => ({ features: row.features as SessionFeatures, human: row.gtCorrect === true }));
  }

  async lastTrainedAt(): Promise<Date | null> {
    const row = await this.prisma.riskModel.findFirst({
      where: { source: "trained" },
      orderBy: { version: "desc" },
      select: { createdAt: true },
    });
    return row?.createdAt ?? null;
  }

  async newestVersion(): Promise<number | null> {
    const row = await this.prisma.riskModel.findFirst({
      orderBy: { version: "desc" },
      select: { version: true },
    });
    return row?.version ?? null;
  }

  async get(version: number): Promise<StoredModel> {
    const row = await this.prisma.riskModel.findUniqueOrThrow({ where: { version } });
    return { info: toInfo(row), onnx: row.onnx, featureNames: row.featureNames };
  }

  /** Stores a model as the next version (the newest: active once the instances load it). */
  async store(model: {
    source: "trained" | "uploaded";
    onnx: Uint8Array;
    metrics: ModelMetrics;
    trainedOn: number;
  }): Promise<ModelInfo> {
    const row = await this.prisma.riskModel.create({
      data: {
        source: model.source,
        onnx: new Uint8Array(model.onnx),
        featureNames: [...FEATURE_NAMES],
        metrics: model.metrics,
        trainedOn: model.trainedOn,
      },
    });
    return toInfo(row);
  }
}

export function emptyMetrics(): ModelMetrics {
  return {
    accuracy: null,
    roc_auc: null,
    log_loss: null,
    training_ms: null,
    train_sessions: null,
    test_sessions: null,
    iterations: null,
    onnx_max_abs_diff: null,
  };
}

function toInfo(row: {
  version: number;
  source: string;
  createdAt: Date;
  trainedOn: number;
  metrics: unknown;
}): ModelInfo {
  return {
    version: row.version,
    source: row.source === "uploaded" ? "uploaded" : "trained",
    created_at: isoDate(row.createdAt),
    trained_on: row.trainedOn,
    metrics: { ...emptyMetrics(), ...(row.metrics as Partial<ModelMetrics>) },
  };
}
