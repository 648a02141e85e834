-- The list page reads a customer's metrics from its own row (issue 14: list of 1000
-- over HTTP at 1M <= 10 ms).
--
-- The list statement joined customer_metrics by primary key for every row of the
-- page: ~1000 index descents and heap fetches (4 buffers each) at 1M, ~60 % of the
-- statement (10.7-13 ms with the join, 4.1-4.5 ms without; docs/performance.md,
-- "Seventh session of 2026-12-07"). A covering index did not remove the descent.
-- Now the five columns the page shows are kept on customers as well:
--   metric_conversation_count, metric_message_count, metric_first_contact_at,
--   metric_last_contact_at, metric_last_message_preview
-- with the values the LEFT JOIN gave (0, 0 and NULLs for a customer without a
-- metrics row). customer_metrics stays the source of truth (its maintenance,
-- indexes and the metric-sorted pages are unchanged); three row triggers on it copy
-- every inserted, updated or deleted row onto the customer, in the same statement,
-- so the copy is exact at every statement boundary.
-- customer_metrics_drift() reports a customer whose copy differs (kind 'list'),
-- so `verify` and the metrics property tests check it.
--
-- The copy must not look like an edit of the customer:
--   * customers_stamp runs only for UPDATEs that set a column other than the copy
--     (UPDATE OF <every other column>): version, updated_at and updated_by stay;
--   * customers_update_statement (audit rows, stage_changed events) skips rows
--     whose version did not change: every other UPDATE is stamped, so its version
--     always changes;
--   * the other row triggers on customers already fire only when one of their
--     columns changed (WHEN ... IS DISTINCT FROM ...).
-- The copied columns are not indexed, so the copy's updates are HOT where the
-- page has room (fillfactor 90, 0037).

ALTER TABLE customers
  ADD COLUMN metric_conversation_count integer NOT NULL DEFAULT 0,
  ADD COLUMN metric_message_count bigint NOT NULL DEFAULT 0,
  ADD COLUMN metric_first_contact_at timestamptz,
  ADD COLUMN metric_last_contact_at timestamptz,
  ADD COLUMN metric_last_message_preview text;

DROP TRIGGER trg_customers_stamp ON customers;
CREATE TRIGGER trg_customers_stamp
  BEFORE INSERT OR UPDATE OF id, company_id, name, email, phone, created_at, external_id, address, notes,
                             attributes, lifecycle_stage, tags, source, status, merged_into_customer_id,
                             deleted_at, updated_at, created_by, updated_by, version
  ON customers
  FOR EACH ROW EXECUTE FUNCTION customers_stamp();

-- 0032's function; rows whose version did not change (the metrics copy) are skipped.
CREATE OR REPLACE FUNCTION customers_update_statement() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_company uuid;
  v_prev    text;
BEGIN
  FOR v_company IN SELECT DISTINCT n.company_id
                     FROM new_rows n
                     JOIN old_rows o ON o.company_id = n.company_id AND o.id = n.id
                    WHERE n.version IS DISTINCT FROM o.version
                    ORDER BY 1 LOOP
    v_prev := app_enter_company(v_company);
    WITH r AS MATERIALIZED (
      SELECT n.company_id, n.id, to_jsonb(o) AS before, to_jsonb(n) AS after,
             o.lifecycle_stage AS stage_from, n.lifecycle_stage AS stage_to
        FROM new_rows n
        JOIN old_rows o ON o.company_id = n.company_id AND o.id = n.id
       WHERE n.company_id = v_company AND n.version IS DISTINCT FROM o.version
    ), audited AS (
      INSERT INTO customer_audit_log (company_id, table_name, operation, record_id, customer_id,
                                      before, after, changed_fields, actor, correlation_id)
      SELECT r.company_id, 'customers', 'UPDATE', r.id::text, r.id, r.before, r.after,
             ARRAY(SELECT k.key FROM jsonb_each(r.after) k WHERE k.value IS DISTINCT FROM r.before -> k.key ORDER BY k.key),
             app_actor(), app_correlation_id()
        FROM r
       ORDER BY r.id
    )
    INSERT INTO customer_events (company_id, customer_id, event_type, payload)
    SELECT r.company_id, r.id, 'stage_changed', jsonb_build_object('from', r.stage_from, 'to', r.stage_to)
      FROM r
     WHERE r.stage_to IS DISTINCT FROM r.stage_from
     ORDER BY r.id;
    PERFORM app_leave_company(v_prev);
  END LOOP;
  RETURN NULL;
END
$$;

-- Copies a metrics row onto its customer, in the statement that wrote it (AFTER ROW
-- triggers run before the statement ends). Row triggers, not statement triggers with
-- transition tables: a single-row chat insert (the common write) then pays one
-- primary-key UPDATE and no transition table, and the WHEN clauses skip the writes
-- that change nothing the list shows (a status copy, a new customer's empty row)
-- without entering PL/pgSQL. A deleted metrics row leaves the values the list's LEFT
-- JOIN gave without one (0, 0, NULLs).
CREATE FUNCTION customer_metrics_copy_to_customer() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_prev text;
BEGIN
  IF TG_OP = 'DELETE' THEN
    v_prev := app_enter_company(OLD.company_id);
    UPDATE customers c
       SET metric_conversation_count = 0, metric_message_count = 0, metric_first_contact_at = NULL,
           metric_last_contact_at = NULL, metric_last_message_preview = NULL
     WHERE c.company_id = OLD.company_id AND c.id = OLD.customer_id
       AND (c.metric_conversation_count, c.metric_message_count, c.metric_first_contact_at,
            c.metric_last_contact_at, c.metric_last_message_preview)
           IS DISTINCT FROM (0, 0::bigint, NULL::timestamptz, NULL::timestamptz, NULL::text);
  ELSE
    IF TG_OP = 'UPDATE' AND (OLD.company_id, OLD.customer_id) IS DISTINCT FROM (NEW.company_id, NEW.customer_id) THEN
      -- a metrics row moved to another customer (no statement does this today): the one it left
      v_prev := app_enter_company(OLD.company_id);
      UPDATE customers c
         SET metric_conversation_count = 0, metric_message_count = 0, metric_first_contact_at = NULL,
             metric_last_contact_at = NULL, metric_last_message_preview = NULL
       WHERE c.company_id = OLD.company_id AND c.id = OLD.customer_id
         AND NOT EXISTS (SELECT 1 FROM customer_metrics m WHERE m.company_id = OLD.company_id AND m.customer_id = OLD.customer_id);
      PERFORM app_leave_company(v_prev);
    END IF;
    v_prev := app_enter_company(NEW.company_id);
    UPDATE customers c
       SET metric_conversation_count = NEW.conversation_count, metric_message_count = NEW.message_count,
           metric_first_contact_at = NEW.first_contact_at, metric_last_contact_at = NEW.last_contact_at,
           metric_last_message_preview = NEW.last_message_preview
     WHERE c.company_id = NEW.company_id AND c.id = NEW.customer_id
       AND (c.metric_conversation_count, c.metric_message_count, c.metric_first_contact_at,
            c.metric_last_contact_at, c.metric_last_message_preview)
           IS DISTINCT FROM (NEW.conversation_count, NEW.message_count, NEW.first_contact_at,
                             NEW.last_contact_at, NEW.last_message_preview);
  END IF;
  PERFORM app_leave_company(v_prev);
  RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION customer_metrics_copy_to_customer() FROM PUBLIC;

CREATE TRIGGER trg_customer_metrics_copy_insert
  AFTER INSERT ON customer_metrics
  FOR EACH ROW
  WHEN (NEW.conversation_count <> 0 OR NEW.message_count <> 0 OR NEW.first_contact_at IS NOT NULL
        OR NEW.last_contact_at IS NOT NULL OR NEW.last_message_preview IS NOT NULL)
  EXECUTE FUNCTION customer_metrics_copy_to_customer();
CREATE TRIGGER trg_customer_metrics_copy_update
  AFTER UPDATE ON customer_metrics
  FOR EACH ROW
  WHEN ((OLD.conversation_count, OLD.message_count, OLD.first_contact_at, OLD.last_contact_at,
         OLD.last_message_preview)
        IS DISTINCT FROM (NEW.conversation_count, NEW.message_count, NEW.first_contact_at,
                          NEW.last_contact_at, NEW.last_message_preview)
        OR OLD.company_id IS DISTINCT FROM NEW.company_id OR OLD.customer_id IS DISTINCT FROM NEW.customer_id)
  EXECUTE FUNCTION customer_metrics_copy_to_customer();
CREATE TRIGGER trg_customer_metrics_copy_delete
  AFTER DELETE ON customer_metrics
  FOR EACH ROW EXECUTE FUNCTION customer_metrics_copy_to_customer();

-- 0007's function and a third kind, 'list': a customer whose copy differs from its
-- metrics row (0, 0 and NULLs without one).
CREATE OR REPLACE FUNCTION customer_metrics_drift(p_company uuid)
  RETURNS TABLE (customer_id uuid, kind text, stored jsonb, expected jsonb)
  LANGUAGE sql STABLE
  SET search_path = public, pg_temp
AS $$
  WITH s AS (
    SELECT m.customer_id, m.customer_status, m.conversation_count, m.message_count, m.first_contact_at,
           m.last_contact_at, m.last_message_id, m.last_message_preview
      FROM customer_metrics m WHERE m.company_id = p_company
  ), e AS (
    SELECT * FROM customer_metrics_expected(p_company)
  ), ss AS (
    SELECT sc.customer_id, sc.session_key, sc.message_count
      FROM customer_session_counts sc WHERE sc.company_id = p_company
  ), se AS (
    SELECT v.customer_id, conversation_key(v.session_id, v.id) AS session_key, count(*)::integer AS message_count
      FROM "VC Usage" v WHERE v.company_id = p_company AND v.customer_id IS NOT NULL
     GROUP BY 1, 2
  ), lc AS (
    SELECT c.id AS customer_id, c.metric_conversation_count AS conversation_count,
           c.metric_message_count AS message_count, c.metric_first_contact_at AS first_contact_at,
           c.metric_last_contact_at AS last_contact_at, c.metric_last_message_preview AS last_message_preview,
           coalesce(m.conversation_count, 0) AS m_conversation_count, coalesce(m.message_count, 0) AS m_message_count,
           m.first_contact_at AS m_first_contact_at, m.last_contact_at AS m_last_contact_at,
           m.last_message_preview AS m_last_message_preview
      FROM customers c
      LEFT JOIN customer_metrics m ON m.company_id = c.company_id AND m.customer_id = c.id
     WHERE c.company_id = p_company
  )
  SELECT coalesce(s.customer_id, e.customer_id), 'metrics',
         CASE WHEN s.customer_id IS NOT NULL THEN to_jsonb(s) END,
         CASE WHEN e.customer_id IS NOT NULL THEN to_jsonb(e) END
    FROM s FULL JOIN e ON e.customer_id = s.customer_id
   WHERE (s.customer_id, s.customer_status, s.conversation_count, s.message_count, s.first_contact_at,
          s.last_contact_at, s.last_message_id, s.last_message_preview)
         IS DISTINCT FROM
         (e.customer_id, e.customer_status, e.conversation_count, e.message_count, e.first_contact_at,
          e.last_contact_at, e.last_message_id, e.last_message_preview)
  UNION ALL
  SELECT coalesce(ss.customer_id, se.customer_id), 'session',
         CASE WHEN ss.customer_id IS NOT NULL THEN to_jsonb(ss) END,
         CASE WHEN se.customer_id IS NOT NULL THEN to_jsonb(se) END
    FROM ss FULL JOIN se ON se.customer_id = ss.customer_id AND se.session_key = ss.session_key
   WHERE ss.message_count IS DISTINCT FROM se.message_count
  UNION ALL
  SELECT lc.customer_id, 'list',
         jsonb_build_object('conversation_count', lc.conversation_count, 'message_count', lc.message_count,
                            'first_contact_at', lc.first_contact_at, 'last_contact_at', lc.last_contact_at,
                            'last_message_preview', lc.last_message_preview),
         jsonb_build_object('conversation_count', lc.m_conversation_count, 'message_count', lc.m_message_count,
                            'first_contact_at', lc.m_first_contact_at, 'last_contact_at', lc.m_last_contact_at,
                            'last_message_preview', lc.m_last_message_preview)
    FROM lc
   WHERE (lc.conversation_count, lc.message_count, lc.first_contact_at, lc.last_contact_at, lc.last_message_preview)
         IS DISTINCT FROM
         (lc.m_conversation_count, lc.m_message_count, lc.m_first_contact_at, lc.m_last_contact_at,
          lc.m_last_message_preview)
$$;
REVOKE EXECUTE ON FUNCTION customer_metrics_drift(uuid) FROM PUBLIC;

-- The copy of the rows there are (no audit rows, no stamp: see above). The statement
-- trigger is off meanwhile: its transition tables would hold every customer twice to
-- find that no version changed. Rows of customers without chats keep the defaults.
ALTER TABLE customers DISABLE TRIGGER trg_customers_update_statement;
UPDATE customers c
   SET metric_conversation_count = m.conversation_count, metric_message_count = m.message_count,
       metric_first_contact_at = m.first_contact_at, metric_last_contact_at = m.last_contact_at,
       metric_last_message_preview = m.last_message_preview
  FROM customer_metrics m
 WHERE m.company_id = c.company_id AND m.customer_id = c.id
   AND (m.conversation_count, m.message_count, m.first_contact_at, m.last_contact_at, m.last_message_preview)
       IS DISTINCT FROM (0, 0::bigint, NULL::timestamptz, NULL::timestamptz, NULL::text);
ALTER TABLE customers ENABLE TRIGGER trg_customers_update_statement;
