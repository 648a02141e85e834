-- 0006's assign_quarantined_chat_rows(), which assigns and links in one body.
CREATE OR REPLACE FUNCTION assign_quarantined_chat_rows(p_tech_id text, p_company uuid) RETURNS integer
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_ids bigint[];
  v_id  bigint;
BEGIN
  WITH u AS (
    UPDATE "VC Usage" SET company_id = p_company
     WHERE company_id IS NULL AND tech_id IS NOT DISTINCT FROM p_tech_id
    RETURNING id
  )
  SELECT array_agg(id ORDER BY id) INTO v_ids FROM u;
  IF v_ids IS NULL THEN
    RETURN 0;
  END IF;
  UPDATE vc_usage_quarantine
     SET resolved_at = now(), resolved_company_id = p_company, resolved_by = app_actor()
   WHERE vc_usage_id = ANY (v_ids) AND resolved_at IS NULL;
  FOREACH v_id IN ARRAY v_ids LOOP
    PERFORM link_chat_row(v_id);
  END LOOP;
  RETURN cardinality(v_ids);
END
$$;
DROP FUNCTION assign_quarantined_chat_rows_unlinked(text, uuid);
