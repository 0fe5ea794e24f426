import { randomInt } from "node:crypto";
import type { Database } from "../../../platform/db.js";
import { type ChallengeType, MODALITIES, type Modality } from "../shared.schema.js";

/** An item as a challenge shows it: the dataset's defaults applied. */
export interface PickedItem {
  id: string;
  datasetId: string;
  dataRef: string;
  modality: Modality;
  challengeType: ChallengeType;
  prompt: string | null;
  choices: string[];
  groundTruth: unknown;
}

/** The client's ground-truth record when the challenge is served (the risk model's history features). */
export interface SolverHistory {
  gtCorrect: number;
  gtTotal: number;
}

export type Selection =
  | { tier: 1 | 2; modality: Modality; gt: PickedItem; unknown: PickedItem; solver: SolverHistory }
  | { tier: 3; modality: Modality; gt: PickedItem; unknown: null; solver: SolverHistory }
  | { tier: 4 };

export interface SelectionRequest {
  /** Requested modality; the others are tried when it has no ground-truth items. */
  modality?: Modality;
  /** Dataset ids the API key may use; null = all. */
  scope: string[] | null;
  /** The client (solver id): items it voted on are never picked again. */
  client: string;
  /** Unknown items recently shown to this client: never picked again either. */
  exclude: string[];
}

/** A uniform random float in [0, 1) from the CSPRNG (picks must not be predictable). */
const random = () => randomInt(0, 2 ** 47) / 2 ** 47;

/** Two random points per pick (unknown item, ground-truth item), two picks per modality at most. */
const DRAWS = 4 * MODALITIES.length;

/**
 * The degradation ladder: one read-only call of `hiveguard_generate` (see its migration for the rules of each
 * pick). Without a requested modality every modality
 * is tried, in random order, and the best tier wins; a requested one is tried first and kept whenever it
 * has ground truth.
 */
export class ChallengeSelector {
  constructor(private readonly db: Pick<Database, "queryRows">) {}

  async select(request: SelectionRequest): Promise<Selection> {
    const order = request.modality
      ? [request.modality, ...MODALITIES.filter((m) => m !== request.modality)]
      : shuffle([...MODALITIES]);
    const rows = await this.db.queryRows(
      `SELECT tier, role, id, dataset_id, data_ref, modality, challenge_type, prompt, choices, ground_truth,
              solver_gt_correct, solver_gt_total
         FROM hiveguard_generate($1::text[]::modality[], $2, $3::uuid[], $4, $5::uuid[], $6::float8[])`,
      [
        order,
        Boolean(request.modality),
        request.scope,
        request.client,
        request.exclude,
        Array.from({ length: DRAWS }, random),
      ],
    );
    if (rows.length === 0) return { tier: 4 };
    const first = rows[0]!;
    const tier = first[0] as 1 | 2 | 3;
    const solver = { gtCorrect: first[10] as number, gtTotal: first[11] as number };
    const picked = rows.map(toPicked);
    const gt = picked.find((item) => item.role === "gt")!.item;
    const unknown = picked.find((item) => item.role === "unknown")?.item;
    if (tier === 3 || !unknown) return { tier: 3, modality: gt.modality, gt, unknown: null, solver };
    return { tier: tier as 1 | 2, modality: gt.modality, gt, unknown, solver };
  }
}

/** A row of hiveguard_generate, columns in its order. */
function toPicked(row: unknown[]): { role: "gt" | "unknown"; item: PickedItem } {
  const [, role, id, datasetId, dataRef, modality, challengeType, prompt, choices, groundTruth] = row;
  return {
    role: role as "gt" | "unknown",
    item: {
      id: id as string,
      datasetId: datasetId as string,
      dataRef: dataRef as string,
      modality: modality as Modality,
      challengeType: challengeType as ChallengeType,
      prompt: prompt as string | null,
      choices: choices as string[],
      groundTruth,
    },
  };
}

export function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(0, i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
