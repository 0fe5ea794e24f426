import { randomInt } from "node:crypto";
import type { Database } from "../../../platform/db.js";
import { MAX_GT_ITEMS } from "../runtime-config/runtime-config.schema.js";
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
  /** Chance that a random answer is right (see guess-rate.ts). */
  guessRate: number;
}

/** The client's ground-truth record when the challenge is served (the risk model's history features). */
export interface SolverHistory {
  gtCorrect: number;
  gtTotal: number;
}

/** `gts`: the composed ground-truth items (at least one); `guessRate`: the product of their guess rates. */
export type Selection =
  | {
      tier: 1 | 2;
      modality: Modality;
      gts: PickedItem[];
      guessRate: number;
      unknown: PickedItem;
      solver: SolverHistory;
    }
  | {
      tier: 3;
      modality: Modality;
      gts: PickedItem[];
      guessRate: number;
      unknown: null;
      solver: SolverHistory;
    }
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
  /** Ground-truth items are added until the product of their guess rates is at most this... */
  maxGuessRate: number;
  /** ...or this many are in. */
  maxGtItems: number;
}

/** A uniform random float in [0, 1) from the CSPRNG (picks must not be predictable). */
const random = () => randomInt(0, 2 ** 47) / 2 ** 47;

/** A random point per unknown pick (two per modality at most) and per ground-truth item. */
const DRAWS = 2 * MODALITIES.length + MAX_GT_ITEMS;

/**
 * The degradation ladder: one read-only call of `hiveguard_generate` (see its migrations for the rules of each
 * pick; the ground truth is composed under the guess-rate bound as guess-rate.ts states). Without a requested modality every modality
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
              solver_gt_correct, solver_gt_total, guess_rate
         FROM hiveguard_generate($1::text[]::modality[], $2, $3::uuid[], $4, $5::uuid[], $6::float8[],
                                 $7::float8, $8::integer)`,
      [
        order,
        Boolean(request.modality),
        request.scope,
        request.client,
        request.exclude,
        Array.from({ length: DRAWS }, random),
        request.maxGuessRate,
        request.maxGtItems,
      ],
    );
    if (rows.length === 0) return { tier: 4 };
    const first = rows[0]!;
    const tier = first[0] as 1 | 2 | 3;
    const solver = { gtCorrect: first[10] as number, gtTotal: first[11] as number };
    const picked = rows.map(toPicked);
    const gts = picked.filter((item) => item.role === "gt").map((item) => item.item);
    const unknown = picked.find((item) => item.role === "unknown")?.item;
    const guessRate = gts.reduce((product, item) => product * item.guessRate, 1);
    const modality = gts[0]!.modality;
    if (tier === 3 || !unknown) return { tier: 3, modality, gts, guessRate, unknown: null, solver };
    return { tier: tier as 1 | 2, modality, gts, guessRate, unknown, solver };
  }
}

/** A row of hiveguard_generate, columns in its order. */
function toPicked(row: unknown[]): { role: "gt" | "unknown"; item: PickedItem } {
  const [
    ,
    role,
    id,
    datasetId,
    dataRef,
    modality,
    challengeType,
    prompt,
    choices,
    groundTruth,
    ,
    ,
    guessRate,
  ] = row;
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
      guessRate: Number(guessRate),
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
