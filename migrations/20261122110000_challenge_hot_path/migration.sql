-- The challenge engine's hot path as two functions (src/modules/guard/challenges/selection.ts and service.ts):
-- a generate is one read-only round trip to the database and a submit one write transaction, instead of six
-- round trips of ad-hoc statements that PostgreSQL planned again on every call. PL/pgSQL keeps each
-- statement's plan for the life of the connection, on PostgreSQL and on embedded PGlite alike.
-- A challenge's session row is written when it is answered (hiveguard_submit), from the state kept in Redis
-- while it is live: generate writes nothing, so a flood of generate calls cannot fill the database.

-- The degradation ladder. Every pick is an index range read,
-- never a table scan:
-- - the unknown item (tier 1: unlabeled, tier 2: in re-validation) has the fewest votes, then sits at a random
--   point of the `rand` column, both served by the index (modality, is_gt, state, vote_count, rand); items
--   the client voted on or was recently shown (p_exclude) are skipped;
-- - the ground-truth item sits at a random point of (is_gt, modality, rand), from the unknown item's dataset
--   when it has ground truth (same prompt and choices, so nothing sets the two apart), else from any dataset
--   in scope.
-- Modalities are tried in the caller's order (the requested one first, else shuffled): the best tier wins, a
-- tier-1 pair ends the search, and a requested modality with ground truth is kept whatever its tier. The
-- random points come from the caller's CSPRNG (two per pick), so picks are not predictable.
-- Returns no rows for tier 4 (no ground truth in scope), else one row per picked item with the tier and the
-- client's ground-truth record so far (the risk model's history features, as of when the challenge is served).
CREATE FUNCTION hiveguard_generate(
  p_modalities modality[], p_requested boolean, p_scope uuid[], p_client text, p_exclude uuid[],
  p_random float8[]
) RETURNS TABLE (
  tier integer, role text, id text, dataset_id text, data_ref text, modality text, challenge_type text,
  prompt text, choices text[], ground_truth jsonb, solver_gt_correct integer, solver_gt_total integer
)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  v_modality modality;
  v_state item_state;
  v_draw integer := 0;
  v_least integer;
  v_unknown uuid;
  v_unknown_ds uuid;
  v_gt uuid;
  v_found integer;
  v_best integer := 4;
  v_best_modality modality;
  v_best_gt uuid;
  v_best_unknown uuid;
  v_solver_correct integer := 0;
  v_solver_total integer := 0;
BEGIN
  FOREACH v_modality IN ARRAY p_modalities LOOP
    v_found := 4;
    IF EXISTS (SELECT 1 FROM items i WHERE i.is_gt AND i.modality = v_modality
                 AND (p_scope IS NULL OR i.dataset_id = ANY(p_scope))) THEN
      FOREACH v_state IN ARRAY ARRAY['unlabeled', 'revalidating']::item_state[] LOOP
        v_unknown := NULL;
        v_unknown_ds := NULL;
        v_gt := NULL;
        -- The least vote count first (its own index read), then a random point among those items.
        SELECT i.vote_count INTO v_least FROM items i
         WHERE i.modality = v_modality AND NOT i.is_gt AND i.state = v_state
           AND (p_scope IS NULL OR i.dataset_id = ANY(p_scope)) AND NOT (i.id = ANY(p_exclude))
           AND NOT EXISTS (SELECT 1 FROM votes v WHERE v.solver_id = p_client AND v.item_id = i.id)
         ORDER BY i.vote_count LIMIT 1;
        IF FOUND THEN
          SELECT i.id, i.dataset_id INTO v_unknown, v_unknown_ds FROM items i
           WHERE i.modality = v_modality AND NOT i.is_gt AND i.state = v_state AND i.vote_count = v_least
             AND i.rand >= p_random[v_draw + 1]
             AND (p_scope IS NULL OR i.dataset_id = ANY(p_scope)) AND NOT (i.id = ANY(p_exclude))
             AND NOT EXISTS (SELECT 1 FROM votes v WHERE v.solver_id = p_client AND v.item_id = i.id)
           ORDER BY i.rand LIMIT 1;
          IF NOT FOUND THEN
            SELECT i.id, i.dataset_id INTO v_unknown, v_unknown_ds FROM items i
             WHERE i.modality = v_modality AND NOT i.is_gt AND i.state = v_state AND i.vote_count = v_least
               AND (p_scope IS NULL OR i.dataset_id = ANY(p_scope)) AND NOT (i.id = ANY(p_exclude))
               AND NOT EXISTS (SELECT 1 FROM votes v WHERE v.solver_id = p_client AND v.item_id = i.id)
             ORDER BY i.rand LIMIT 1;
          END IF;
        END IF;
        IF v_unknown_ds IS NOT NULL THEN
          SELECT i.id INTO v_gt FROM items i
           WHERE i.is_gt AND i.modality = v_modality AND i.dataset_id = v_unknown_ds
             AND i.rand >= p_random[v_draw + 2]
           ORDER BY i.rand LIMIT 1;
          IF v_gt IS NULL THEN
            SELECT i.id INTO v_gt FROM items i
             WHERE i.is_gt AND i.modality = v_modality AND i.dataset_id = v_unknown_ds
             ORDER BY i.rand LIMIT 1;
          END IF;
        END IF;
        IF v_gt IS NULL THEN
          SELECT i.id INTO v_gt FROM items i
           WHERE i.is_gt AND i.modality = v_modality AND (p_scope IS NULL OR i.dataset_id = ANY(p_scope))
             AND i.rand >= p_random[v_draw + 2]
           ORDER BY i.rand LIMIT 1;
          IF v_gt IS NULL THEN
            SELECT i.id INTO v_gt FROM items i
             WHERE i.is_gt AND i.modality = v_modality AND (p_scope IS NULL OR i.dataset_id = ANY(p_scope))
             ORDER BY i.rand LIMIT 1;
          END IF;
        END IF;
        v_draw := v_draw + 2;
        IF v_gt IS NULL THEN
          v_found := 4; -- the ground truth went away meanwhile: nothing here makes a challenge
          EXIT;
        END IF;
        v_found := CASE WHEN v_unknown IS NULL THEN 3 WHEN v_state = 'unlabeled' THEN 1 ELSE 2 END;
        EXIT WHEN v_unknown IS NOT NULL;
      END LOOP;
    END IF;
    IF v_found < v_best THEN
      v_best := v_found;
      v_best_modality := v_modality;
      v_best_gt := v_gt;
      v_best_unknown := CASE WHEN v_found = 3 THEN NULL ELSE v_unknown END;
    END IF;
    EXIT WHEN v_best = 1 OR (p_requested AND v_found <> 4);
  END LOOP;

  IF v_best = 4 THEN
    RETURN;
  END IF;

  SELECT s.gt_correct, s.gt_total INTO v_solver_correct, v_solver_total FROM solvers s WHERE s.id = p_client;

  RETURN QUERY
  SELECT v_best, CASE WHEN i.id = v_best_gt THEN 'gt' ELSE 'unknown' END, i.id::text, i.dataset_id::text,
         i.data_ref, i.modality::text, COALESCE(i.challenge_type, d.challenge_type)::text,
         COALESCE(i.prompt, d.prompt), d.choices, i.ground_truth, COALESCE(v_solver_correct, 0),
         COALESCE(v_solver_total, 0)
    FROM items i JOIN datasets d ON d.id = i.dataset_id
   WHERE i.id = v_best_gt OR i.id = v_best_unknown;
END;
$$;

-- A submitted challenge, in one transaction: its session row is written (what was served, the outcome, the
-- risk score and the features), the solver's ground-truth record is counted, and the vote is recorded by
-- hiveguard_record_vote when the ground truth was right and the challenge had an unknown item. The solver's
-- row is locked before the item's, here and nowhere the other way round. Returns the vote's outcome (NULL
-- when there was no vote).
CREATE FUNCTION hiveguard_submit(
  p_session uuid, p_challenge text, p_api_key uuid, p_solver text, p_tier integer, p_modality modality,
  p_challenge_type challenge_type, p_gt_item uuid, p_unknown_item uuid, p_issued_at_ms float8,
  p_submitted_at_ms float8, p_correct boolean, p_risk_score float8, p_outcome session_outcome,
  p_features jsonb, p_answer text, p_min_votes integer, p_threshold float8
) RETURNS TABLE (outcome text, item_state text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_voted boolean := p_correct AND p_unknown_item IS NOT NULL;
BEGIN
  -- A key deleted since the challenge was served leaves no dangling reference.
  INSERT INTO challenge_sessions (id, challenge_id, api_key_id, client_hash, tier, modality, challenge_type,
                                  gt_item_id, unknown_item_id, outcome, gt_correct, risk_score, features,
                                  created_at, submitted_at)
  VALUES (p_session, p_challenge, (SELECT k.id FROM api_keys k WHERE k.id = p_api_key), p_solver, p_tier,
          p_modality, p_challenge_type, p_gt_item, p_unknown_item, p_outcome, p_correct, p_risk_score,
          p_features, to_timestamp(p_issued_at_ms / 1000), to_timestamp(p_submitted_at_ms / 1000))
  -- A challenge served by a version that wrote the row at generate is completed, not refused.
  ON CONFLICT (id) DO UPDATE SET outcome = EXCLUDED.outcome, gt_correct = EXCLUDED.gt_correct,
    risk_score = EXCLUDED.risk_score, features = EXCLUDED.features, submitted_at = EXCLUDED.submitted_at;
  IF p_outcome = 'expired' THEN
    RETURN QUERY SELECT NULL::text, NULL::text;
    RETURN;
  END IF;
  INSERT INTO solvers AS s (id, gt_correct, gt_total, votes, updated_at)
  VALUES (p_solver, p_correct::integer, 1, v_voted::integer, now())
  ON CONFLICT (id) DO UPDATE SET gt_correct = s.gt_correct + EXCLUDED.gt_correct, gt_total = s.gt_total + 1,
    votes = s.votes + EXCLUDED.votes, updated_at = now();
  IF NOT v_voted THEN
    RETURN QUERY SELECT NULL::text, NULL::text;
    RETURN;
  END IF;
  RETURN QUERY SELECT r.outcome, r.item_state
    FROM hiveguard_record_vote(p_unknown_item, p_session, p_solver, p_answer, p_min_votes, p_threshold) r;
END;
$$;
