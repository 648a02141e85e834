-- Quarantined chat rows assigned without linking them in the same transaction
-- (issue 15, write path).
--
-- assign_quarantined_chat_rows() (0006) gives the quarantined rows of one tech id a
-- company, resolves their quarantine entries and links them with link_chat_row() one
-- by one, in one transaction: the shape that made retry_chat_sync() take ~25 ms a row
-- and more the longer it ran (foreign-key checks with plans cached while a table was
-- small, scanning rows that each row's subtransaction left with multixact lockers;
-- docs/performance.md, "Ninth session"). A legacy database can hold thousands of rows
-- of one unknown tech id.
-- Now the assignment is its own function, assign_quarantined_chat_rows_unlinked(),
-- which returns the assigned ids; `tradesphere quarantine assign` calls it and then
-- links the rows in committed set-based batches (the backfill's batch, as `sync
-- resume` does). assign_quarantined_chat_rows() keeps its result for SQL callers: the
-- same assignment, then the same row-by-row links.
CREATE FUNCTION assign_quarantined_chat_rows_unlinked(p_tech_id text, p_company uuid) RETURNS bigint[]
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_ids bigint[];
BEGIN
  WITH u AS (
    UPDATE "VC Usage" SET company_id = p_company
     WHERE company_id IS NULL AND tech_id IS NOT DISTINCT FROM p_tech_id
    RETURNING id
  )
  SELECT coalesce(array_agg(id ORDER BY id), '{}') INTO v_ids FROM u;
  UPDATE vc_usage_quarantine
     SET resolved_at = now(), resolved_company_id = p_company, resolved_by = app_actor()
   WHERE vc_usage_id = ANY (v_ids) AND resolved_at IS NULL;
  RETURN v_ids;
END
$$;
REVOKE EXECUTE ON FUNCTION assign_quarantined_chat_rows_unlinked(text, uuid) FROM PUBLIC;

CREATE OR REPLACE FUNCTION assign_quarantined_chat_rows(p_tech_id text, p_company uuid) RETURNS integer
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_ids bigint[] := assign_quarantined_chat_rows_unlinked(p_tech_id, p_company);
  v_id  bigint;
BEGIN
  FOREACH v_id IN ARRAY v_ids LOOP
    PERFORM link_chat_row(v_id);
  END LOOP;
  RETURN cardinality(v_ids);
END
$$;
