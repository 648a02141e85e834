-- Back to 0048: the stage counts read customers_active_stage_idx again (0031's
-- index, rebuilt here: about a second per million customers), 0034's insert
-- trigger function, 0040's update statement trigger function, 0013's gauges.
CREATE INDEX customers_active_stage_idx ON customers (company_id, lifecycle_stage) WHERE status = 'active';

CREATE OR REPLACE FUNCTION customer_gauges()
  RETURNS TABLE (company_id uuid, lifecycle_stage text, customers bigint, with_duplicate bigint)
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
      WITH active_keys AS (
        SELECT k.customer_id, count(*) OVER (PARTITION BY k.key_type, k.key_value) AS holders
          FROM customer_matching_keys k
          JOIN customers c ON c.company_id = k.company_id AND c.id = k.customer_id
         WHERE k.company_id = v_company AND k.key_type IN ('email', 'phone') AND c.status = 'active'
      ), duplicated AS (
        SELECT DISTINCT a.customer_id FROM active_keys a WHERE a.holders > 1
      )
      SELECT v_company, c.lifecycle_stage, count(*), count(d.customer_id)
        FROM customers c
        LEFT JOIN duplicated d ON d.customer_id = c.id
       WHERE c.company_id = v_company AND c.status = 'active'
       GROUP BY c.lifecycle_stage
       ORDER BY c.lifecycle_stage;
  END LOOP;
  PERFORM app_leave_company(v_prev);
END
$$;

DROP TRIGGER trg_customers_after_truncate ON customers;
DROP FUNCTION customers_after_truncate();
DROP TRIGGER trg_customers_after_delete_statement ON customers;
DROP FUNCTION customers_after_delete_statement();

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

CREATE OR REPLACE FUNCTION customers_after_insert() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_company uuid;
  v_prev    text;
BEGIN
  IF chat_customer_effects_deferred() THEN
    RETURN NULL;                         -- chat_flush_new_customers() writes them
  END IF;
  FOR v_company IN SELECT DISTINCT n.company_id FROM new_customers n LOOP
    v_prev := app_enter_company(v_company);

    INSERT INTO customer_audit_log (company_id, table_name, operation, record_id, customer_id,
                                    before, after, changed_fields, actor, correlation_id)
    SELECT n.company_id, 'customers', 'INSERT', n.id::text, n.id, NULL, to_jsonb(n), NULL,
           app_actor(), app_correlation_id()
      FROM new_customers n
     WHERE n.company_id = v_company;

    -- normalized once per row in a sub-select (OFFSET 0 keeps the planner from pulling
    -- the calls into the VALUES list, which was 5x slower)
    INSERT INTO customer_matching_keys (company_id, key_type, key_value, customer_id)
    SELECT n.company_id, k.key_type, k.key_value, n.id
      FROM (SELECT c.company_id, c.id, normalize_email(c.email) AS email,
                   normalize_phone(c.phone, co.default_country_code) AS phone, normalize_name(c.name) AS name
              FROM new_customers c
              JOIN companies co ON co.id = c.company_id
             WHERE c.company_id = v_company AND c.status <> 'deleted'
            OFFSET 0) n
     CROSS JOIN LATERAL (VALUES ('email', n.email), ('phone', n.phone), ('name', n.name)) AS k (key_type, key_value)
     WHERE k.key_value IS NOT NULL;

    INSERT INTO customer_events (company_id, customer_id, event_type, payload)
    SELECT n.company_id, n.id, 'created',
           jsonb_build_object('source', n.source, 'name', n.name, 'email', n.email,
                              'phone', n.phone, 'lifecycle_stage', n.lifecycle_stage,
                              'status', n.status)
      FROM new_customers n
     WHERE n.company_id = v_company;

    INSERT INTO customer_metrics (company_id, customer_id, customer_status)
    SELECT n.company_id, n.id, n.status
      FROM new_customers n
     WHERE n.company_id = v_company;

    INSERT INTO customer_search (company_id, customer_id, name, email_lc, phone_digits)
    SELECT n.company_id, n.id, n.name, lower(n.email), phone_digits(n.phone)
      FROM new_customers n
     WHERE n.company_id = v_company AND n.status = 'active';

    PERFORM app_leave_company(v_prev);
  END LOOP;
  RETURN NULL;
END
$$;

DROP FUNCTION customer_stage_counts_rebuild(uuid);
DROP FUNCTION customer_stage_count_drift(uuid);
DROP FUNCTION customer_stage_counts_maybe_compact(uuid);
DROP FUNCTION customer_stage_counts_compact(uuid);
DROP TABLE customer_stage_counts;
