-- A chat row linked by any path resolves its open sync failures (issue 15).
-- Until now only link_chat_row() (backfill, retry) resolved a row's open
-- 'paused'/'error' failure. A row linked otherwise — an operator linking a
-- conversation (POST /v1/customers/{id}/conversations, the console's
-- "Conversations without a customer"), or the application relinking a row —
-- kept its failure open: `verify` failed and /metrics counted an open failure for
-- a row that had its customer. Found by the interleaving property test
-- (MetricsTest.RandomizedChatActivityKeepsMetricsEqualToARecomputation).
--
-- Row-level, and only for an orphan becoming linked (the WHEN clause), so
-- inserts and every other update pay nothing.
CREATE FUNCTION vc_usage_linked_resolve_failures() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
BEGIN
  UPDATE chat_sync_failures
     SET resolved_at = now()
   WHERE company_id = NEW.company_id AND vc_usage_id = NEW.id
     AND reason IN ('error', 'paused') AND resolved_at IS NULL;
  RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION vc_usage_linked_resolve_failures() FROM PUBLIC;

CREATE TRIGGER trg_vc_usage_linked_resolve_failures
  AFTER UPDATE OF customer_id ON "VC Usage"
  FOR EACH ROW
  WHEN (OLD.customer_id IS NULL AND NEW.customer_id IS NOT NULL)
  EXECUTE FUNCTION vc_usage_linked_resolve_failures();

-- Rows linked that way before this migration.
UPDATE chat_sync_failures f
   SET resolved_at = now()
  FROM "VC Usage" v
 WHERE v.company_id = f.company_id AND v.id = f.vc_usage_id AND v.customer_id IS NOT NULL
   AND f.reason IN ('error', 'paused') AND f.resolved_at IS NULL;
