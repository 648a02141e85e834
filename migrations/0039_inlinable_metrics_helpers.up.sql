-- conversation_key() and metrics_is_later() inlined by the planner (issue 15, write path).
--
-- Both are one-expression SQL functions, meant to be inlined into the statements that
-- call them (the metrics statement per chat row, its upsert three times per customer,
-- metrics_add, the recomputation). Neither was: conversation_key() is declared
-- IMMUTABLE but its body used `'row:' || p_id` (text || bigint: anytextcat, STABLE), and
-- the planner does not inline a function whose body is less immutable than declared;
-- metrics_is_later() carries a SET search_path clause, which forbids inlining. So every
-- call site parsed and planned the body again for each statement (pg_stat_statements
-- with track_planning: one plan per call of a single-row chat insert, three for
-- metrics_is_later) and ran a small executor per row. Same results: p_id::text is the
-- same int8 output anytextcat used; metrics_is_later's body names no table or function,
-- only operators of pg_catalog, which is searched first whatever the search_path (it is
-- not SECURITY DEFINER, so CatalogLintTest's rule for those does not apply).
CREATE OR REPLACE FUNCTION conversation_key(p_session_id text, p_id bigint) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN p_session_id IS NULL OR p_session_id = '' THEN 'row:' || p_id::text ELSE p_session_id END $$;

CREATE OR REPLACE FUNCTION metrics_is_later(new_at timestamptz, new_id bigint, old_at timestamptz, old_id bigint)
  RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT old_id IS NULL OR CASE
    WHEN new_at IS NULL AND old_at IS NULL THEN new_id > old_id
    WHEN new_at IS NULL THEN false
    WHEN old_at IS NULL THEN true
    WHEN new_at <> old_at THEN new_at > old_at
    ELSE new_id > old_id
  END
$$;
