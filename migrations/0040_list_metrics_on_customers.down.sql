-- Back to 0039: no metrics copy on customers; 0032's statement trigger function,
-- 0002's stamp trigger and 0007's drift function.
DROP TRIGGER trg_customer_metrics_copy_insert ON customer_metrics;
DROP TRIGGER trg_customer_metrics_copy_update ON customer_metrics;
DROP TRIGGER trg_customer_metrics_copy_delete ON customer_metrics;
DROP FUNCTION customer_metrics_copy_to_customer();

DROP TRIGGER trg_customers_stamp ON customers;
CREATE TRIGGER trg_customers_stamp
  BEFORE INSERT OR UPDATE ON customers
  FOR EACH ROW EXECUTE FUNCTION customers_stamp();

CREATE OR REPLACE FUNCTION customers_update_statement() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_company uuid;
  v_prev    text;
BEGIN
  FOR v_company IN SELECT DISTINCT n.company_id FROM new_rows n ORDER BY 1 LOOP
    v_prev := app_enter_company(v_company);
    WITH r AS MATERIALIZED (
      SELECT n.company_id, n.id, to_jsonb(o) AS before, to_jsonb(n) AS after,
             o.lifecycle_stage AS stage_from, n.lifecycle_stage AS stage_to
        FROM new_rows n
        JOIN old_rows o ON o.company_id = n.company_id AND o.id = n.id
       WHERE n.company_id = v_company
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
$$;

ALTER TABLE customers
  DROP COLUMN metric_conversation_count,
  DROP COLUMN metric_message_count,
  DROP COLUMN metric_first_contact_at,
  DROP COLUMN metric_last_contact_at,
  DROP COLUMN metric_last_message_preview;
