-- 0018 open chat sync failures on GET /metrics (issue 15, "honest reports"): a
-- chat row that the sync could not link is stored orphaned and recorded in
-- chat_sync_failures (0006); until now nothing outside the database showed it.
--
-- chat_sync_failure_gauges() runs as the owner (SECURITY DEFINER), like
-- customer_gauges() (0013): it enters each company in turn (chat_sync_failures
-- forces row-level security), counts that tenant's open failures (resolved_at IS
-- NULL) grouped by reason ('error', 'paused', 'metrics') and SQLSTATE, and restores
-- the caller's setting. Counts only: no message text, no row data leaves it.
-- Served as tradesphere_chat_sync_failures_open{company_id,reason,sqlstate}.

CREATE FUNCTION chat_sync_failure_gauges()
  RETURNS TABLE (company_id uuid, reason text, sqlstate text, failures bigint)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  v_company uuid;
  v_prev    text := current_setting('app.company_id', true);
BEGIN
  FOR v_company IN SELECT co.id FROM companies co ORDER BY co.id LOOP
    PERFORM app_enter_company(v_company);
    RETURN QUERY
      SELECT v_company, f.reason, coalesce(f.sqlstate, ''), count(*)
        FROM chat_sync_failures f
       WHERE f.company_id = v_company AND f.resolved_at IS NULL
       GROUP BY f.reason, coalesce(f.sqlstate, '')
       ORDER BY 2, 3;
  END LOOP;
  PERFORM app_leave_company(v_prev);
END
$$;
REVOKE EXECUTE ON FUNCTION chat_sync_failure_gauges() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION chat_sync_failure_gauges() TO tradesphere_app;
