import { randomInt } from "node:crypto";
import type { Database } from "../../../platform/db.js";
import { emptySql, type Sql, sql } from "../../../platform/sql.js";
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

export type Selection =
  | { tier: 1 | 2; modality: Modality; gt: PickedItem; unknown: PickedItem }
  | { tier: 3; modality: Modality; gt: PickedItem; unknown: null }
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

interface Row {
  id: string;
  dataset_id: string;
  data_ref: string;
  modality: Modality;
  challenge_type: ChallengeType;
  prompt: string | null;
  choices: string[];
  ground_truth: unknown;
}

/** A uniform random float in [0, 1) from the CSPRNG (picks must not be predictable). */
const random = () => randomInt(0, 2 ** 47) / 2 ** 47;

/**
 * The degradation ladder. Every pick is an index range read, never a table scan:
 * - unknown item (tier 1: unlabeled, tier 2: in re-validation): the lowest vote count first, then a random
 *   point in the `rand` column, both served by the index (modality, is_gt, state, vote_count, rand);
 *   items the client voted on (votes(solver_id, item_id)) or was recently shown are skipped;
 * - ground-truth item: a random point in (is_gt, modality, rand), from the unknown item's dataset when it
 *   has ground truth (same prompt and choices, so nothing sets the two apart), else from any dataset in scope.
 * Without a requested modality, every modality is tried (in random order) and the best tier wins.
 */
export class ChallengeSelector {
  /** The raw driver: these statements run on every generate, and Prisma's per-call cost dominates them. */
  constructor(private readonly db: Pick<Database, "queryRows">) {}

  async #query(query: Sql): Promise<unknown[][]> {
    const { text, values } = query.render();
    return this.db.queryRows(text, values);
  }

  async select(request: SelectionRequest): Promise<Selection> {
    // A modality without ground truth in scope can only end in tier 4: one statement finds them all, so
    // empty modalities cost nothing more.
    const withGt = new Set(await this.modalitiesWithGt(request.scope));
    const order = (
      request.modality
        ? [request.modality, ...MODALITIES.filter((m) => m !== request.modality)]
        : shuffle([...MODALITIES])
    ).filter((modality) => withGt.has(modality));
    let best: Selection = { tier: 4 };
    for (const modality of order) {
      const found = await this.selectIn(modality, request);
      if (found.tier < best.tier) best = found;
      // A requested modality with ground truth is kept whatever its tier; otherwise stop at tier 1.
      if (best.tier === 1 || (request.modality && found.tier !== 4)) break;
    }
    return best;
  }

  /** The modalities with at least one ground-truth item in scope (one index probe each). */
  private async modalitiesWithGt(scope: string[] | null): Promise<Modality[]> {
    const rows = await this.#query(sql`
      SELECT m::text AS modality FROM unnest(enum_range(NULL::modality)) AS m
      WHERE EXISTS (SELECT 1 FROM items i WHERE i.is_gt = true AND i.modality = m ${scopeFilter(scope)})`);
    return rows.map((row) => row[0] as Modality);
  }

  private async selectIn(modality: Modality, request: SelectionRequest): Promise<Selection> {
    let gt: PickedItem | null = null;
    for (const [tier, state] of [
      [1, "unlabeled"],
      [2, "revalidating"],
    ] as const) {
      const pair = await this.pick(modality, state, request);
      gt = pair.gt;
      // No ground truth in this modality at all: nothing else here can make a challenge.
      if (!gt) return { tier: 4 };
      if (pair.unknown) return { tier, modality, gt, unknown: pair.unknown };
    }
    return gt ? { tier: 3, modality, gt, unknown: null } : { tier: 4 };
  }

  /**
   * One statement: the unknown item in `state` (if any) and a ground-truth item, from the unknown item's
   * dataset when it has ground truth (same prompt and choices, so nothing sets the two apart), else from
   * any dataset in scope.
   */
  private async pick(
    modality: Modality,
    state: "unlabeled" | "revalidating",
    request: SelectionRequest,
  ): Promise<{ unknown: PickedItem | null; gt: PickedItem | null }> {
    const filter = sql`
      i.modality = ${modality}::modality AND i.is_gt = false AND i.state = ${state}::item_state
      ${scopeFilter(request.scope)}
      AND NOT (i.id = ANY(${request.exclude}::uuid[]))
      AND NOT EXISTS (SELECT 1 FROM votes v WHERE v.solver_id = ${request.client} AND v.item_id = i.id)`;
    const base = sql`i.is_gt = true AND i.modality = ${modality}::modality`;
    const r = random();
    const g = random();
    // The least vote count goes in as a scalar subquery (an init plan), so it is an index condition and the
    // pick reads one index entry, not every item of the group.
    const rows = (
      await this.#query(sql`
      WITH least AS (SELECT i.vote_count FROM items i WHERE ${filter} ORDER BY i.vote_count LIMIT 1),
      upick AS (
        (SELECT i.id, i.dataset_id FROM items i WHERE ${filter} AND i.vote_count = (SELECT vote_count FROM least)
           AND i.rand >= ${r}::float8 ORDER BY i.rand LIMIT 1)
        UNION ALL
        (SELECT i.id, i.dataset_id FROM items i WHERE ${filter} AND i.vote_count = (SELECT vote_count FROM least)
           ORDER BY i.rand LIMIT 1)
        LIMIT 1),
      gpick AS (
        (SELECT i.id FROM items i WHERE ${base} AND i.dataset_id = (SELECT dataset_id FROM upick)
           AND i.rand >= ${g}::float8 ORDER BY i.rand LIMIT 1)
        UNION ALL
        (SELECT i.id FROM items i WHERE ${base} AND i.dataset_id = (SELECT dataset_id FROM upick)
           ORDER BY i.rand LIMIT 1)
        UNION ALL
        (SELECT i.id FROM items i WHERE ${base} ${scopeFilter(request.scope)} AND i.rand >= ${g}::float8
           ORDER BY i.rand LIMIT 1)
        UNION ALL
        (SELECT i.id FROM items i WHERE ${base} ${scopeFilter(request.scope)} ORDER BY i.rand LIMIT 1)
        LIMIT 1)
      ${SELECT_ITEM_ROLE("unknown")} JOIN upick ON upick.id = i.id
      UNION ALL
      ${SELECT_ITEM_ROLE("gt")} JOIN gpick ON gpick.id = i.id`)
    ).map(toRow);
    return {
      unknown: toPicked(rows.find((row) => row.role === "unknown")),
      gt: toPicked(rows.find((row) => row.role === "gt")),
    };
  }
}

const SELECT_ITEM_ROLE = (role: "unknown" | "gt") => sql`
  SELECT ${role}::text AS role, i.id::text AS id, i.dataset_id::text AS dataset_id, i.data_ref, i.modality::text AS modality,
         COALESCE(i.challenge_type, d.challenge_type)::text AS challenge_type,
         COALESCE(i.prompt, d.prompt) AS prompt, d.choices, i.ground_truth
  FROM items i JOIN datasets d ON d.id = i.dataset_id`;

function scopeFilter(scope: string[] | null): Sql {
  return scope ? sql`AND i.dataset_id = ANY(${scope}::uuid[])` : emptySql;
}

/** A row of SELECT_ITEM_ROLE, columns in its order. */
function toRow(row: unknown[]): Row & { role: "unknown" | "gt" } {
  const [role, id, dataset_id, data_ref, modality, challenge_type, prompt, choices, ground_truth] = row;
  return {
    role: role as "unknown" | "gt",
    id: id as string,
    dataset_id: dataset_id as string,
    data_ref: data_ref as string,
    modality: modality as Modality,
    challenge_type: challenge_type as ChallengeType,
    prompt: prompt as string | null,
    choices: choices as string[],
    ground_truth,
  };
}

function toPicked(row: Row | undefined): PickedItem | null {
  if (!row) return null;
  return {
    id: row.id,
    datasetId: row.dataset_id,
    dataRef: row.data_ref,
    modality: row.modality,
    challengeType: row.challenge_type,
    prompt: row.prompt,
    choices: row.choices,
    groundTruth: row.ground_truth,
  };
}

export function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(0, i + 1);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
