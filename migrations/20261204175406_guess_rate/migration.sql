-- AlterTable
ALTER TABLE "items" ADD COLUMN     "guess_rate" DOUBLE PRECISION NOT NULL DEFAULT 1;

-- CreateIndex
CREATE INDEX "items_is_gt_modality_guess_rate_rand_idx" ON "items"("is_gt", "modality", "guess_rate", "rand");

-- Hand-written below (issue 18). A challenge's ground truth is composed so that a random answer passes with
-- at most the runtime setting max_guess_rate: every item carries its guess rate, the ladder adds ground-truth
-- items, lowest guess rate first, until the product of their guess rates is under the bound (see
-- src/modules/guard/challenges/guess-rate.ts, which states the same rule in TypeScript).

-- The chance that a random answer is right: an exact set of a 3 × 3 grid 1/2^9, a choice among k 1/k (yes/no
-- 1/2), a free-text answer (no choices) 0.01.
CREATE FUNCTION hiveguard_guess_rate(p_type challenge_type, p_choices text[]) RETURNS float8
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN p_type IN ('grid_select', 'select_all') THEN 1.0 / 512
    WHEN COALESCE(cardinality(p_choices), 0) = 0 THEN 0.01
    ELSE 1.0 / cardinality(p_choices)
  END::float8
$$;

-- Kept by triggers, whatever writes the rows (upload, promotion, a dataset's changed choices).
CREATE FUNCTION hiveguard_items_guess_rate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  SELECT hiveguard_guess_rate(COALESCE(NEW.challenge_type, d.challenge_type), d.choices) INTO NEW.guess_rate
    FROM datasets d WHERE d.id = NEW.dataset_id;
  NEW.guess_rate := COALESCE(NEW.guess_rate, 1);
  RETURN NEW;
END;
$$;

CREATE TRIGGER items_guess_rate BEFORE INSERT OR UPDATE OF challenge_type, dataset_id ON items
  FOR EACH ROW EXECUTE FUNCTION hiveguard_items_guess_rate();

CREATE FUNCTION hiveguard_datasets_guess_rate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE items i SET guess_rate = hiveguard_guess_rate(COALESCE(i.challenge_type, NEW.challenge_type), NEW.choices)
   WHERE i.dataset_id = NEW.id;
  RETURN NULL;
END;
$$;

CREATE TRIGGER datasets_guess_rate AFTER UPDATE OF challenge_type, choices ON datasets
  FOR EACH ROW WHEN (OLD.challenge_type IS DISTINCT FROM NEW.challenge_type OR OLD.choices IS DISTINCT FROM NEW.choices)
  EXECUTE FUNCTION hiveguard_datasets_guess_rate();

UPDATE items i SET guess_rate = hiveguard_guess_rate(COALESCE(i.challenge_type, d.challenge_type), d.choices)
  FROM datasets d WHERE d.id = i.dataset_id;

-- The ground-truth items of one dataset by guess rate: the pick from the unknown item's dataset reads one
-- entry here even when that dataset has no item of the wanted guess rate (a partial index, ground truth only;
-- not expressible in schema.prisma, so the schema diff never sees it).
CREATE INDEX items_gt_dataset_guess_rate_rand_idx ON items (dataset_id, guess_rate, rand) WHERE is_gt;

-- The ladder with composed ground truth (an overload: instances of the previous version keep calling the
-- six-argument function during a rolling upgrade). The unknown item is picked as before (the modality loop
-- now only looks for it; a modality "has ground truth" by the same EXISTS). Then, for the chosen modality,
-- ground-truth items are added one by one until the product of their guess rates is at most
-- p_max_guess_rate or p_max_gt items are in: each time the lowest guess rate still available in scope,
-- from the unknown item's dataset when it has ground truth of that guess rate (same prompt and choices, so
-- nothing sets the unknown item apart from it), else from any dataset in scope, at a random point of
-- (is_gt, modality, guess_rate, rand). An item whose guess rate is 1 (one choice) is never added as a second.
-- Returns no rows for tier 4, else one row per item (role 'gt' or 'unknown') with its guess rate.
CREATE FUNCTION hiveguard_generate(
  p_modalities modality[], p_requested boolean, p_scope uuid[], p_client text, p_exclude uuid[],
  p_random float8[], p_max_guess_rate float8, p_max_gt integer
) RETURNS TABLE (
  tier integer, role text, id text, dataset_id text, data_ref text, modality text, challenge_type text,
  prompt text, choices text[], ground_truth jsonb, guess_rate float8, solver_gt_correct integer,
  solver_gt_total integer
)
-- Generic plans, kept for the connection: with custom plans PostgreSQL plans the composition's statements
-- again on every call (their generic plans look costlier on paper; measured: +0.6 ms a call).
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
DECLARE
  v_modality modality;
  v_state item_state;
  v_draw integer := 0;
  v_least integer;
  v_unknown uuid;
  v_unknown_ds uuid;
  v_found integer;
  v_best integer := 4;
  v_best_modality modality;
  v_best_unknown uuid;
  v_best_unknown_ds uuid;
  v_gts uuid[] := '{}';
  v_gt uuid;
  v_class float8;
  v_floor float8 := -1;
  v_in_ds boolean := false;
  v_rate float8 := 1;
  v_point float8;
  v_solver_correct integer := 0;
  v_solver_total integer := 0;
BEGIN
  FOREACH v_modality IN ARRAY p_modalities LOOP
    v_found := 4;
    v_unknown := NULL;
    v_unknown_ds := NULL;
    IF EXISTS (SELECT 1 FROM items i WHERE i.is_gt AND i.modality = v_modality
                 AND (p_scope IS NULL OR i.dataset_id = ANY(p_scope))) THEN
      v_found := 3;
      FOREACH v_state IN ARRAY ARRAY['unlabeled', 'revalidating']::item_state[] LOOP
        -- The least vote count first (its own index read), then a random point among those items.
        SELECT i.vote_count INTO v_least FROM items i
         WHERE i.modality = v_modality AND NOT i.is_gt AND i.state = v_state
           AND (p_scope IS NULL OR i.dataset_id = ANY(p_scope)) AND NOT (i.id = ANY(p_exclude))
           AND NOT EXISTS (SELECT 1 FROM votes v WHERE v.solver_id = p_client AND v.item_id = i.id)
         ORDER BY i.vote_count LIMIT 1;
        IF FOUND THEN
          SELECT i.id, i.dataset_id INTO v_unknown, v_unknown_ds FROM items i
           WHERE i.modality = v_modality AND NOT i.is_gt AND i.state = v_state AND i.vote_count = v_least
             AND i.rand >= p_random[1 + v_draw % cardinality(p_random)]
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
        v_draw := v_draw + 1;
        IF v_unknown IS NOT NULL THEN
          v_found := CASE WHEN v_state = 'unlabeled' THEN 1 ELSE 2 END;
          EXIT;
        END IF;
      END LOOP;
    END IF;
    IF v_found < v_best THEN
      v_best := v_found;
      v_best_modality := v_modality;
      v_best_unknown := v_unknown;
      v_best_unknown_ds := v_unknown_ds;
    END IF;
    EXIT WHEN v_best = 1 OR (p_requested AND v_found <> 4);
  END LOOP;

  IF v_best = 4 THEN
    RETURN;
  END IF;

  -- The guess-rate class being drawn from is read once and kept while it has items left; whether the
  -- unknown item's dataset has items of it is one probe of the partial index.
  WHILE cardinality(v_gts) < GREATEST(p_max_gt, 1) AND (cardinality(v_gts) = 0 OR v_rate > p_max_guess_rate) LOOP
    IF v_class IS NULL THEN
      SELECT i.guess_rate INTO v_class FROM items i
       WHERE i.is_gt AND i.modality = v_best_modality AND (p_scope IS NULL OR i.dataset_id = ANY(p_scope))
         AND i.guess_rate > v_floor AND NOT (i.id = ANY(v_gts))
       ORDER BY i.guess_rate LIMIT 1;
      EXIT WHEN v_class IS NULL;
      v_in_ds := v_best_unknown_ds IS NOT NULL AND EXISTS (
        SELECT 1 FROM items i WHERE i.is_gt AND i.dataset_id = v_best_unknown_ds AND i.guess_rate = v_class
           AND NOT (i.id = ANY(v_gts)));
    END IF;
    EXIT WHEN cardinality(v_gts) > 0 AND v_class >= 1;
    v_point := p_random[1 + v_draw % cardinality(p_random)];
    v_draw := v_draw + 1;
    v_gt := NULL;
    IF v_in_ds THEN
      SELECT i.id INTO v_gt FROM items i
       WHERE i.is_gt AND i.dataset_id = v_best_unknown_ds AND i.guess_rate = v_class
         AND i.modality = v_best_modality AND i.rand >= v_point AND NOT (i.id = ANY(v_gts))
       ORDER BY i.rand LIMIT 1;
      IF v_gt IS NULL THEN
        SELECT i.id INTO v_gt FROM items i
         WHERE i.is_gt AND i.dataset_id = v_best_unknown_ds AND i.guess_rate = v_class
           AND i.modality = v_best_modality AND NOT (i.id = ANY(v_gts))
         ORDER BY i.rand LIMIT 1;
      END IF;
      IF v_gt IS NULL THEN
        v_in_ds := false; -- the dataset's items of this guess rate are used up: any dataset in scope next
        CONTINUE;
      END IF;
    ELSE
      SELECT i.id INTO v_gt FROM items i
       WHERE i.is_gt AND i.modality = v_best_modality AND i.guess_rate = v_class
         AND (p_scope IS NULL OR i.dataset_id = ANY(p_scope)) AND i.rand >= v_point AND NOT (i.id = ANY(v_gts))
       ORDER BY i.rand LIMIT 1;
      IF v_gt IS NULL THEN
        SELECT i.id INTO v_gt FROM items i
         WHERE i.is_gt AND i.modality = v_best_modality AND i.guess_rate = v_class
           AND (p_scope IS NULL OR i.dataset_id = ANY(p_scope)) AND NOT (i.id = ANY(v_gts))
         ORDER BY i.rand LIMIT 1;
      END IF;
      IF v_gt IS NULL THEN
        v_floor := v_class; -- this guess rate is used up (or went away): the next one up
        v_class := NULL;
        CONTINUE;
      END IF;
    END IF;
    v_gts := v_gts || v_gt;
    v_rate := v_rate * v_class;
  END LOOP;

  IF cardinality(v_gts) = 0 THEN
    RETURN; -- the ground truth went away meanwhile: nothing makes a challenge
  END IF;

  SELECT s.gt_correct, s.gt_total INTO v_solver_correct, v_solver_total FROM solvers s WHERE s.id = p_client;

  RETURN QUERY
  SELECT v_best, CASE WHEN i.id = ANY(v_gts) THEN 'gt' ELSE 'unknown' END, i.id::text, i.dataset_id::text,
         i.data_ref, i.modality::text, COALESCE(i.challenge_type, d.challenge_type)::text,
         COALESCE(i.prompt, d.prompt), d.choices, i.ground_truth, i.guess_rate, COALESCE(v_solver_correct, 0),
         COALESCE(v_solver_total, 0)
    FROM items i JOIN datasets d ON d.id = i.dataset_id
   WHERE i.id = ANY(v_gts) OR i.id = v_best_unknown;
END;
$$;

-- A right answer whose vote is held back (issue 18: the session followed recent failures, or the risk model
-- scored it low) arrives with p_answer NULL: the session and the solver's record are written, no vote.
CREATE OR REPLACE FUNCTION hiveguard_submit(
  p_session uuid, p_challenge text, p_api_key uuid, p_solver text, p_tier integer, p_modality modality,
  p_challenge_type challenge_type, p_gt_item uuid, p_unknown_item uuid, p_issued_at_ms float8,
  p_submitted_at_ms float8, p_correct boolean, p_risk_score float8, p_outcome session_outcome,
  p_features jsonb, p_answer text, p_min_votes integer, p_threshold float8
) RETURNS TABLE (outcome text, item_state text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_voted boolean := p_correct AND p_unknown_item IS NOT NULL AND p_answer IS NOT NULL;
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
