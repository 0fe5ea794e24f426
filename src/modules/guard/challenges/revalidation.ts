import type { RuntimeConfig } from "../runtime-config/runtime-config.schema.js";
import { round, type Tx } from "./tx.js";

interface LabelRow {
  label: unknown;
  confidence: number;
}

/**
 * Re-validation of a labeled item (tier 2), inside the vote's transaction (the item row is locked).
 * Once `revalidation_min_votes` unprocessed re-validation votes exist, the oldest batch of that size is
 * marked processed, then each agreeing vote adds `revalidation_delta` to the label's confidence and each
 * disagreeing one subtracts it (clamped to 0..1). The item graduates at `revalidation_exit_confidence`
 * with at least `revalidation_min_total_votes` votes (and joins the ground-truth pool when
 * `revalidation_promote_to_gt` is on); below `revalidation_floor` it is flagged needs_review.
 * Returns the item's state afterwards.
 */
export async function processRevalidation(
  tx: Tx,
  opts: {
    itemId: string;
    voteCount: number;
    config: RuntimeConfig;
    canonicalLabel: (label: unknown) => string | null;
  },
): Promise<string> {
  const { itemId, config } = opts;
  const [label] = await tx.$queryRaw<LabelRow[]>`
    SELECT label, confidence FROM labels WHERE item_id = ${itemId}::uuid`;
  if (!label) return "revalidating";
  const expected = opts.canonicalLabel(label.label);
  let confidence = label.confidence;
  for (;;) {
    const batch = await tx.$queryRaw<{ id: string; answer: string }[]>`
      SELECT id::text AS id, answer FROM votes
      WHERE item_id = ${itemId}::uuid AND revalidation = true AND processed = false
      ORDER BY created_at, id LIMIT ${config.revalidation_min_votes}`;
    if (batch.length < config.revalidation_min_votes) return "revalidating";
    // Processed first, then the delta: a batch can never be applied twice.
    await tx.$executeRaw`UPDATE votes SET processed = true WHERE id = ANY(${batch.map((v) => v.id)}::uuid[])`;
    const agreeing = batch.filter((v) => v.answer === expected).length;
    const delta = (agreeing - (batch.length - agreeing)) * config.revalidation_delta;
    confidence = round(Math.min(1, Math.max(0, confidence + delta)), 6);
    await tx.$executeRaw`
      UPDATE labels SET confidence = ${confidence}, updated_at = now() WHERE item_id = ${itemId}::uuid`;

    if (
      confidence >= config.revalidation_exit_confidence &&
      opts.voteCount >= config.revalidation_min_total_votes
    ) {
      if (config.revalidation_promote_to_gt) {
        await tx.$executeRaw`
          UPDATE items SET state = 'graduated', is_gt = true, ground_truth = ${JSON.stringify(label.label)}::jsonb,
                 updated_at = now()
          WHERE id = ${itemId}::uuid`;
      } else {
        await tx.$executeRaw`UPDATE items SET state = 'graduated', updated_at = now() WHERE id = ${itemId}::uuid`;
      }
      return "graduated";
    }
    if (confidence < config.revalidation_floor) {
      await tx.$executeRaw`UPDATE items SET state = 'needs_review', updated_at = now() WHERE id = ${itemId}::uuid`;
      return "needs_review";
    }
  }
}
