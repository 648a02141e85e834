-- The list's metrics copy (0040) of an UPDATE of customer_metrics, once per statement
-- (issue 15: "a write path that keeps up").
--
-- 0040 copied every updated metrics row onto its customer with an AFTER ROW trigger:
-- one PL/pgSQL call, one single-row UPDATE of customers and one run of that UPDATE's
-- statement trigger (customers_update_statement, two transition tables) per row. The
-- set-based metrics statement of a 500-row chat batch (chat_metrics_add_rows) updates
-- ~500 metrics rows, so ~500 such UPDATEs: 2,500 calls, 0.25 ms each, ~13 % of a
-- 500-row batch (pg_stat_statements, 100k customers; docs/performance.md, "Eighth
-- session of 2026-12-07").
-- Now the UPDATE side is one statement-level trigger with transition tables, which
-- writes the copy of all the statement's changed rows with one UPDATE of customers
-- per company. Same copy at every statement boundary:
--   * every customer whose metrics row the statement changed (one of the five copied
--     columns, or the row moved to it) gets the row's values, unless its copy already
--     holds them;
--   * a customer a metrics row moved away from (no statement does this today) gets
--     0, 0 and NULLs when it has no metrics row after the statement.
-- INSERT and DELETE keep 0040's row triggers (a new customer's empty metrics row is
-- skipped by their WHEN clause without entering PL/pgSQL). A statement that changes
-- no copied column (the status copy of customers_metrics_row) runs the function and
-- one query of the transition tables, and writes nothing.

DROP TRIGGER trg_customer_metrics_copy_update ON customer_metrics;

CREATE FUNCTION customer_metrics_copy_updated() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_company uuid;
  v_prev    text;
  v_moved   boolean;
BEGIN
  -- rows that left their customer (none but for a statement moving metrics rows)
  v_moved := EXISTS (SELECT 1 FROM old_metrics o
                      WHERE NOT EXISTS (SELECT 1 FROM changed_metrics n
                                         WHERE n.company_id = o.company_id AND n.customer_id = o.customer_id));
  FOR v_company IN
    SELECT n.company_id
      FROM changed_metrics n
      LEFT JOIN old_metrics o ON o.company_id = n.company_id AND o.customer_id = n.customer_id
     WHERE o.customer_id IS NULL
        OR (o.conversation_count, o.message_count, o.first_contact_at, o.last_contact_at, o.last_message_preview)
           IS DISTINCT FROM (n.conversation_count, n.message_count, n.first_contact_at, n.last_contact_at,
                             n.last_message_preview)
    UNION
    SELECT o.company_id
      FROM old_metrics o
     WHERE v_moved
       AND NOT EXISTS (SELECT 1 FROM changed_metrics n WHERE n.company_id = o.company_id AND n.customer_id = o.customer_id)
    ORDER BY 1
  LOOP
    v_prev := app_enter_company(v_company);
    IF v_moved THEN
      -- customers a metrics row moved away from, without one now
      UPDATE customers c
         SET metric_conversation_count = 0, metric_message_count = 0, metric_first_contact_at = NULL,
             metric_last_contact_at = NULL, metric_last_message_preview = NULL
        FROM (SELECT DISTINCT o.customer_id FROM old_metrics o
               WHERE o.company_id = v_company
                 AND NOT EXISTS (SELECT 1 FROM changed_metrics n
                                  WHERE n.company_id = o.company_id AND n.customer_id = o.customer_id)) gone
       WHERE c.company_id = v_company AND c.id = gone.customer_id
         AND NOT EXISTS (SELECT 1 FROM customer_metrics m WHERE m.company_id = v_company AND m.customer_id = gone.customer_id)
         AND (c.metric_conversation_count, c.metric_message_count, c.metric_first_contact_at,
              c.metric_last_contact_at, c.metric_last_message_preview)
             IS DISTINCT FROM (0, 0::bigint, NULL::timestamptz, NULL::timestamptz, NULL::text);
    END IF;
    -- the changed rows' customers
    UPDATE customers c
       SET metric_conversation_count = n.conversation_count, metric_message_count = n.message_count,
           metric_first_contact_at = n.first_contact_at, metric_last_contact_at = n.last_contact_at,
           metric_last_message_preview = n.last_message_preview
      FROM changed_metrics n
     WHERE n.company_id = v_company AND c.company_id = v_company AND c.id = n.customer_id
       AND (c.metric_conversation_count, c.metric_message_count, c.metric_first_contact_at,
            c.metric_last_contact_at, c.metric_last_message_preview)
           IS DISTINCT FROM (n.conversation_count, n.message_count, n.first_contact_at,
                             n.last_contact_at, n.last_message_preview);
    PERFORM app_leave_company(v_prev);
  END LOOP;
  RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION customer_metrics_copy_updated() FROM PUBLIC;

CREATE TRIGGER trg_customer_metrics_copy_update
  AFTER UPDATE ON customer_metrics
  REFERENCING OLD TABLE AS old_metrics NEW TABLE AS changed_metrics
  FOR EACH STATEMENT EXECUTE FUNCTION customer_metrics_copy_updated();
