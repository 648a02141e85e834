-- 0026 Ended console sign-ins are deleted (issue 17). Sign-in codes live 10
-- minutes and sessions 8 hours, but 0024 kept their rows forever: who signed in,
-- from which company, with which role. `serve` now calls console_purge_ended()
-- every hour; a code or session is deleted once it has been expired (or, for a
-- session, revoked) for longer than the grace period the caller passes (a day by
-- default, so a sign-in can still be traced shortly after it ended).
--
-- The application cannot delete these rows itself (no DELETE grant, forced RLS);
-- the SECURITY DEFINER function below deletes only ended rows, of every company.
CREATE POLICY definer_purge_delete ON console_sign_in_codes FOR DELETE TO tradesphere_owner USING (true);
CREATE POLICY definer_purge_delete ON console_sessions FOR DELETE TO tradesphere_owner USING (true);

CREATE FUNCTION console_purge_ended(p_grace_seconds integer)
  RETURNS TABLE (codes bigint, sessions bigint)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_before timestamptz;
BEGIN
  IF p_grace_seconds IS NULL OR p_grace_seconds < 0 THEN
    RAISE EXCEPTION 'grace period out of range' USING ERRCODE = '22023';
  END IF;
  v_before := now() - make_interval(secs => p_grace_seconds);
  RETURN QUERY
    WITH c AS (
      DELETE FROM console_sign_in_codes k WHERE k.expires_at < v_before RETURNING 1
    ), s AS (
      DELETE FROM console_sessions x WHERE least(x.expires_at, coalesce(x.revoked_at, x.expires_at)) < v_before
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM c), (SELECT count(*) FROM s);
END
$$;
REVOKE EXECUTE ON FUNCTION console_purge_ended(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION console_purge_ended(integer) TO tradesphere_app;
