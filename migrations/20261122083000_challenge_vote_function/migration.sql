-- One vote as one statement (src/modules/guard/challenges/consensus.ts): the common case of a vote, in a
-- single round trip instead of an interactive transaction of four. It locks the item's row first, so
-- concurrent voters on one item (on any instance) take turns; every statement after the lock takes a fresh
-- snapshot (PL/pgSQL in a VOLATILE function, READ COMMITTED), so it sees every vote committed before.
-- It writes nothing and answers 'fallback' when the vote needs the full path in TypeScript: an item in
-- re-validation, or a vote that would finalize the label (rounding and label shape stay in one place).
CREATE FUNCTION hiveguard_record_vote(
  p_item uuid, p_session uuid, p_solver text, p_answer text, p_min_votes integer, p_threshold float8
) RETURNS TABLE (outcome text, item_state text)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_state item_state;
  v_is_gt boolean;
  v_count integer;
  v_total integer;
  v_top integer;
BEGIN
  SELECT i.state, i.is_gt, i.vote_count INTO v_state, v_is_gt, v_count
    FROM items i WHERE i.id = p_item FOR UPDATE;
  IF NOT FOUND THEN
    RETURN QUERY SELECT 'item_gone'::text, NULL::text;
    RETURN;
  END IF;
  IF v_state = 'revalidating' THEN
    RETURN QUERY SELECT 'fallback'::text, v_state::text;
    RETURN;
  END IF;
  -- One vote per solver per item.
  IF EXISTS (SELECT 1 FROM votes v WHERE v.solver_id = p_solver AND v.item_id = p_item) THEN
    RETURN QUERY SELECT 'duplicate'::text, v_state::text;
    RETURN;
  END IF;
  -- The tally with this vote counted: would it finalize the label?
  SELECT COALESCE(sum(c), 0)::integer + 1, max(c + (a = p_answer)::integer)
    INTO v_total, v_top
    FROM (SELECT v.answer AS a, count(*)::integer AS c FROM votes v WHERE v.item_id = p_item GROUP BY v.answer) t;
  v_top := GREATEST(COALESCE(v_top, 0), 1);
  IF v_state = 'unlabeled' AND NOT v_is_gt AND v_total >= p_min_votes
     AND v_top::float8 / v_total >= p_threshold THEN
    RETURN QUERY SELECT 'fallback'::text, v_state::text;
    RETURN;
  END IF;
  INSERT INTO votes (item_id, session_id, solver_id, answer, revalidation)
    VALUES (p_item, p_session, p_solver, p_answer, false);
  UPDATE items SET vote_count = v_count + 1, updated_at = now() WHERE id = p_item;
  IF NOT (v_state = 'unlabeled' AND NOT v_is_gt) THEN
    -- Already labeled: keep the label's counts exact.
    UPDATE labels SET vote_count = v_total, solver_count = v_total, updated_at = now() WHERE item_id = p_item;
  END IF;
  RETURN QUERY SELECT 'recorded'::text, v_state::text;
END;
$$;
