import type { PrismaClient } from "../../../generated/prisma/client.js";
import type { RuntimeConfig } from "../runtime-config/runtime-config.schema.js";
import type { ChallengeType } from "../shared.schema.js";
import { canonicalStored, storedAnswer } from "./answers.js";
import { processRevalidation } from "./revalidation.js";
import { round } from "./tx.js";

export interface VoteInput {
  itemId: string;
  solverId: string;
  sessionId: string | null;
  /** Canonical answer (see answers.ts). */
  answer: string;
  type: ChallengeType;
  choices: string[];
}

export type VoteOutcome =
  | { recorded: false; reason: "item_gone" | "duplicate" }
  | {
      recorded: true;
      revalidation: boolean;
      /** Set when this vote finalized the item's label. */
      finalized: boolean;
      state: string;
    };

interface ItemRow {
  id: string;
  dataset_id: string;
  state: string;
  is_gt: boolean;
  vote_count: number;
}

interface TallyRow {
  answer: string;
  votes: number;
  weight: number;
}

/**
 * Generous limits: on embedded PGlite (one connection) transactions queue behind each other, and on
 * PostgreSQL many voters on one item queue on its row lock; neither is an error.
 */
export const VOTE_TX = { maxWait: 30_000, timeout: 30_000 } as const;

/**
 * Votes, labels and reliability. Every vote on an item runs in one transaction (`hiveguard_record_vote`, or
 * the interactive one below) that first locks the item's row (`SELECT ... FOR UPDATE`), so concurrent voters
 * on one item (on any number of instances) are applied one after the other: every vote counted once, exactly one label, counts that add up. Nothing inside the
 * transaction uses another connection, so single-connection PGlite cannot deadlock on it.
 */
export class ConsensusService {
  /** The last fallback vote queued per item: votes on one item run their transactions in arrival order. */
  private readonly queued = new Map<string, Promise<unknown>>();

  constructor(private readonly prisma: PrismaClient) {}

  /**
   * The outcome of a vote that `hiveguard_submit_batch` (group commit, see its migration) already tried: it
   * records the common case itself (the vote of an unlabeled item that does not finalize its label, or of an already labeled
   * one), locking the item, checking for a duplicate, inserting and counting in the same round trip. It
   * records nothing and says `fallback` for the rest (the vote that finalizes a label, re-validation votes):
   * those run the transaction below, which takes the same row lock and decides again from scratch.
   */
  async settleVote(
    vote: VoteInput,
    tried: { outcome: string | null; state: string | null },
    config: RuntimeConfig,
  ): Promise<VoteOutcome> {
    if (tried.outcome === "item_gone" || tried.outcome === "duplicate")
      return { recorded: false, reason: tried.outcome };
    if (tried.outcome === "recorded")
      return { recorded: true, revalidation: false, finalized: false, state: tried.state! };
    // Votes of one batch on one item come back in arrival order; their transactions keep that order.
    const before = this.queued.get(vote.itemId);
    const mine = (before ?? Promise.resolve())
      .catch(() => {})
      .then(() => this.recordVoteInTransaction(vote, config));
    this.queued.set(vote.itemId, mine);
    try {
      return await mine;
    } finally {
      if (this.queued.get(vote.itemId) === mine) this.queued.delete(vote.itemId);
    }
  }

  /** Every vote, in one interactive transaction: the path of votes that finalize or re-validate a label. */
  private async recordVoteInTransaction(vote: VoteInput, config: RuntimeConfig): Promise<VoteOutcome> {
    return this.prisma.$transaction(async (tx) => {
      const [item] = await tx.$queryRaw<ItemRow[]>`
        SELECT id::text AS id, dataset_id::text AS dataset_id, state::text AS state, is_gt, vote_count
        FROM items WHERE id = ${vote.itemId}::uuid FOR UPDATE`;
      if (!item) return { recorded: false, reason: "item_gone" } as const;

      // One vote per solver per item (the selection never shows an item twice, this makes it certain). The
      // duplicate check, the insert, the count and the tally are one statement, run after the lock is held
      // (so its snapshot sees every vote committed before): the tally is the item's committed votes plus
      // the one just inserted (a statement does not see its own inserts, so that one is added explicitly).
      const revalidation = item.state === "revalidating";
      const tally = await tx.$queryRaw<(TallyRow & { inserted: number })[]>`
        WITH ins AS (
          INSERT INTO votes (item_id, session_id, solver_id, answer, revalidation)
          SELECT ${vote.itemId}::uuid, ${vote.sessionId}::uuid, ${vote.solverId}, ${vote.answer}, ${revalidation}
          WHERE NOT EXISTS (
            SELECT 1 FROM votes WHERE solver_id = ${vote.solverId} AND item_id = ${vote.itemId}::uuid)
          RETURNING solver_id, answer),
        bump AS (
          UPDATE items SET vote_count = ${item.vote_count + 1}, updated_at = now()
          WHERE id = ${vote.itemId}::uuid AND EXISTS (SELECT 1 FROM ins)
          RETURNING id),
        counted AS (
          SELECT solver_id, answer FROM votes WHERE item_id = ${vote.itemId}::uuid
          UNION ALL
          SELECT solver_id, answer FROM ins)
        SELECT (SELECT count(*) FROM ins)::int + (SELECT count(*) FROM bump)::int AS inserted,
               v.answer, count(*)::int AS votes,
               sum((COALESCE(s.gt_correct, 0) + 1)::float8 / (COALESCE(s.gt_total, 0) + 2))::float8 AS weight
        FROM counted v LEFT JOIN solvers s ON s.id = v.solver_id
        GROUP BY v.answer ORDER BY votes DESC, v.answer ASC`;
      if (!tally[0] || tally[0].inserted === 0) return { recorded: false, reason: "duplicate" } as const;
      const voteCount = item.vote_count + 1;

      const total = tally.reduce((sum, row) => sum + row.votes, 0);
      let state = item.state;
      let finalized = false;
      if (item.state === "unlabeled" && !item.is_gt) {
        const top = tally[0]!;
        const agreement = top.votes / total;
        if (total >= config.consensus_min_votes && agreement >= config.consensus_threshold) {
          const totalWeight = tally.reduce((sum, row) => sum + row.weight, 0);
          await tx.$executeRaw`
            INSERT INTO labels (item_id, dataset_id, label, confidence, weighted_confidence, solver_count, vote_count)
            VALUES (${vote.itemId}::uuid, ${item.dataset_id}::uuid,
                    ${JSON.stringify(storedAnswer(top.answer, vote.type))}::jsonb, ${round(agreement, 2)},
                    ${round(top.weight / totalWeight, 4)}, ${total}, ${total})`;
          await tx.$executeRaw`UPDATE items SET state = 'revalidating' WHERE id = ${vote.itemId}::uuid`;
          state = "revalidating";
          finalized = true;
        }
      } else {
        // Already labeled: keep the label's counts exact; re-validation moves its confidence.
        await tx.$executeRaw`
          UPDATE labels SET vote_count = ${total}, solver_count = ${total}, updated_at = now()
          WHERE item_id = ${vote.itemId}::uuid`;
        if (revalidation) {
          state = await processRevalidation(tx, {
            itemId: vote.itemId,
            voteCount,
            config,
            canonicalLabel: (label) => canonicalStored(label, { type: vote.type, choices: vote.choices }),
          });
        }
      }
      return { recorded: true, revalidation, finalized, state } as const;
    }, VOTE_TX);
  }
}
