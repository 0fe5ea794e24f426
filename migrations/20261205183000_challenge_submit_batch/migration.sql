-- Group commit on the challenge hot path (issue 20): the submits that arrive while one write is in flight are
-- written together, in one statement and so one transaction and one commit (src/platform/group-commit.ts,
-- src/modules/guard/challenges/submit-writer.ts). Each element of p_rows is one submit, as the arguments of
-- hiveguard_submit; `ord` is its place in the batch (arrival order). Nothing is committed unless all of it is.
--
-- Set-based: every session row in one INSERT, every solver's record in one upsert (one row per solver, its
-- submits summed). Votes: the items voted on are locked first, all at once and in id order (two batches on
-- two instances lock in the same order, so they cannot deadlock; solvers are upserted in id order for the same
-- reason), then the votes are applied one by one in arrival order through hiveguard_record_vote, so votes on
-- the same item see each other exactly as if they had come in separate transactions. Once a vote on an item
-- answers 'fallback' (it would finalize the label, or the item is in re-validation), every later vote on that
-- item in the batch answers 'fallback' too, unrecorded: the TypeScript transaction then applies them in order.
CREATE FUNCTION hiveguard_submit_batch(p_rows jsonb)
RETURNS TABLE (ord integer, outcome text, item_state text)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
  r record;
  v_fallback uuid[] := '{}';
  v_outcome text;
  v_state text;
BEGIN
  -- A key deleted since the challenge was served leaves no dangling reference. A challenge served by a
  -- version that wrote the row at generate is completed, not refused.
  INSERT INTO challenge_sessions (id, challenge_id, api_key_id, client_hash, tier, modality, challenge_type,
                                  gt_item_id, unknown_item_id, outcome, gt_correct, risk_score, features,
                                  created_at, submitted_at)
  SELECT b.session, b.challenge, k.id, b.solver, b.tier, b.modality, b.challenge_type, b.gt_item,
         b.unknown_item, b.result, b.correct, b.risk_score, b.features, to_timestamp(b.issued_at_ms / 1000),
         to_timestamp(b.submitted_at_ms / 1000)
    FROM jsonb_to_recordset(p_rows) AS b(ord integer, session uuid, challenge text, api_key uuid, solver text,
         tier integer, modality modality, challenge_type challenge_type, gt_item uuid, unknown_item uuid,
         issued_at_ms float8, submitted_at_ms float8, correct boolean, risk_score float8,
         result session_outcome, features jsonb)
    LEFT JOIN api_keys k ON k.id = b.api_key
   ORDER BY b.ord
  ON CONFLICT (id) DO UPDATE SET outcome = EXCLUDED.outcome, gt_correct = EXCLUDED.gt_correct,
    risk_score = EXCLUDED.risk_score, features = EXCLUDED.features, submitted_at = EXCLUDED.submitted_at;

  -- The solvers' ground-truth records (answered challenges only), one row per solver.
  INSERT INTO solvers AS s (id, gt_correct, gt_total, votes, updated_at)
  SELECT b.solver, sum(b.correct::integer)::integer, count(*)::integer,
         sum((b.correct AND b.unknown_item IS NOT NULL AND b.answer IS NOT NULL)::integer)::integer, now()
    FROM jsonb_to_recordset(p_rows) AS b(solver text, correct boolean, unknown_item uuid, answer text,
         result session_outcome)
   WHERE b.result <> 'expired'
   GROUP BY b.solver
   ORDER BY b.solver
  ON CONFLICT (id) DO UPDATE SET gt_correct = s.gt_correct + EXCLUDED.gt_correct,
    gt_total = s.gt_total + EXCLUDED.gt_total, votes = s.votes + EXCLUDED.votes, updated_at = now();

  -- Every item voted on, locked in one statement in id order.
  PERFORM 1 FROM items i
   WHERE i.id IN (SELECT b.unknown_item FROM jsonb_to_recordset(p_rows) AS b(unknown_item uuid, correct boolean,
                  answer text, result session_outcome)
                   WHERE b.result <> 'expired' AND b.correct AND b.answer IS NOT NULL)
   ORDER BY i.id FOR UPDATE;

  FOR r IN SELECT b.ord AS n, b.session AS session_id, b.solver AS solver_id, b.unknown_item AS item_id,
                  b.answer AS vote_answer, b.min_votes, b.threshold,
                  (b.result <> 'expired' AND b.correct AND b.unknown_item IS NOT NULL AND b.answer IS NOT NULL)
                    AS voted
             FROM jsonb_to_recordset(p_rows) AS b(ord integer, session uuid, solver text, unknown_item uuid,
                  answer text, min_votes integer, threshold float8, correct boolean, result session_outcome)
            ORDER BY b.ord LOOP
    IF NOT COALESCE(r.voted, false) THEN
      RETURN QUERY SELECT r.n, NULL::text, NULL::text;
    ELSIF r.item_id = ANY(v_fallback) THEN
      RETURN QUERY SELECT r.n, 'fallback'::text, NULL::text;
    ELSE
      SELECT x.outcome, x.item_state INTO v_outcome, v_state
        FROM hiveguard_record_vote(r.item_id, r.session_id, r.solver_id, r.vote_answer, r.min_votes,
                                   r.threshold) x;
      IF v_outcome = 'fallback' THEN
        v_fallback := v_fallback || r.item_id;
      END IF;
      RETURN QUERY SELECT r.n, v_outcome, v_state;
    END IF;
  END LOOP;
END;
$$;
