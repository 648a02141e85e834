-- Set-based triggers for updates of customers (issue 15: bulk stage update of 1000
-- customers at 1M <= 100 ms).
--
-- A bulk stage change of 1000 customers ran two row triggers per customer: the
-- audit row (audit_row_change, 0008) and the stage_changed event
-- (customers_matching_keys_sync, 0005), each a single-row INSERT with its
-- foreign-key checks and tenant switches: ~300 of the ~700 ms of the UPDATE at 1M
-- (pg_stat_statements, track = all). Now:
--   * the audit rows of an UPDATE are written by one statement-level trigger
--     (customers_update_statement) over
--     the transition tables, one INSERT per company touched (the tenant is entered
--     for each, as the row trigger did; customers_stamp() refuses changes of id and
--     company_id, so old and new rows always join on them); DELETE keeps the row trigger;
--   * stage_changed events are written set-based by the same trigger, from the same join;
--     customers_matching_keys_sync no longer writes them, and its row trigger runs
--     only when a column it handles changed (not for a stage-only change).
-- The audit and event rows are the same as before (same columns, same values);
-- within one statement they are ordered by customer id, and a statement's
-- stage_changed events follow its other events.

CREATE OR REPLACE FUNCTION customers_matching_keys_sync() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_prev    text;
  v_changes jsonb := '{}'::jsonb;
  v_fields  text[] := '{}';
  v_added   text[];
  v_removed text[];
BEGIN
  -- the row's tenant, for the row-level security of the tables written below
  v_prev := app_enter_company(NEW.company_id);

  IF TG_OP = 'INSERT'
     OR NEW.name IS DISTINCT FROM OLD.name OR NEW.email IS DISTINCT FROM OLD.email
     OR NEW.phone IS DISTINCT FROM OLD.phone OR NEW.status IS DISTINCT FROM OLD.status THEN
    PERFORM sync_customer_matching_keys(NEW.company_id, NEW.id);
  END IF;

  IF TG_OP = 'INSERT' THEN
    INSERT INTO customer_events (company_id, customer_id, event_type, payload)
    VALUES (NEW.company_id, NEW.id, 'created',
            jsonb_build_object('source', NEW.source, 'name', NEW.name, 'email', NEW.email,
                               'phone', NEW.phone, 'lifecycle_stage', NEW.lifecycle_stage,
                               'status', NEW.status));
    PERFORM app_leave_company(v_prev);
    RETURN NULL;
  END IF;

  IF NEW.name IS DISTINCT FROM OLD.name THEN
    v_changes := v_changes || jsonb_build_object('name', jsonb_build_object('from', OLD.name, 'to', NEW.name));
  END IF;
  IF NEW.email IS DISTINCT FROM OLD.email THEN
    v_changes := v_changes || jsonb_build_object('email', jsonb_build_object('from', OLD.email, 'to', NEW.email));
  END IF;
  IF NEW.phone IS DISTINCT FROM OLD.phone THEN
    v_changes := v_changes || jsonb_build_object('phone', jsonb_build_object('from', OLD.phone, 'to', NEW.phone));
  END IF;
  IF v_changes <> '{}'::jsonb THEN
    INSERT INTO customer_events (company_id, customer_id, event_type, payload)
    VALUES (NEW.company_id, NEW.id, 'contact_changed', jsonb_build_object('changes', v_changes));
  END IF;

  -- stage_changed: written for the whole statement by customers_update_statement() (0032)

  IF NEW.tags IS DISTINCT FROM OLD.tags THEN
    v_added := ARRAY(SELECT unnest(NEW.tags) EXCEPT SELECT unnest(OLD.tags) ORDER BY 1);
    v_removed := ARRAY(SELECT unnest(OLD.tags) EXCEPT SELECT unnest(NEW.tags) ORDER BY 1);
    IF cardinality(v_added) > 0 THEN
      INSERT INTO customer_events (company_id, customer_id, event_type, payload)
      VALUES (NEW.company_id, NEW.id, 'tags_added', jsonb_build_object('tags', to_jsonb(v_added)));
    END IF;
    IF cardinality(v_removed) > 0 THEN
      INSERT INTO customer_events (company_id, customer_id, event_type, payload)
      VALUES (NEW.company_id, NEW.id, 'tags_removed', jsonb_build_object('tags', to_jsonb(v_removed)));
    END IF;
  END IF;

  IF OLD.status = 'active' AND NEW.status = 'deleted' THEN
    INSERT INTO customer_events (company_id, customer_id, event_type, payload)
    VALUES (NEW.company_id, NEW.id, 'deleted', '{}'::jsonb);
  ELSIF OLD.status = 'deleted' AND NEW.status = 'active' THEN
    INSERT INTO customer_events (company_id, customer_id, event_type, payload)
    VALUES (NEW.company_id, NEW.id, 'restored', '{}'::jsonb);
  END IF;

  IF NEW.external_id IS DISTINCT FROM OLD.external_id THEN v_fields := v_fields || 'external_id'::text; END IF;
  IF NEW.address IS DISTINCT FROM OLD.address THEN v_fields := v_fields || 'address'::text; END IF;
  IF NEW.notes IS DISTINCT FROM OLD.notes THEN v_fields := v_fields || 'notes'::text; END IF;
  IF NEW.attributes IS DISTINCT FROM OLD.attributes THEN v_fields := v_fields || 'attributes'::text; END IF;
  IF NEW.source IS DISTINCT FROM OLD.source THEN v_fields := v_fields || 'source'::text; END IF;
  IF cardinality(v_fields) > 0 THEN
    INSERT INTO customer_events (company_id, customer_id, event_type, payload)
    VALUES (NEW.company_id, NEW.id, 'updated', jsonb_build_object('fields', to_jsonb(v_fields)));
  END IF;
  PERFORM app_leave_company(v_prev);
  RETURN NULL;
END
$$;

-- One statement-level trigger writes both, per company touched: old and new rows are
-- joined once (MATERIALIZED: each row's jsonb built once; inlined, to_jsonb(old) ran
-- once per key of the changed-fields subquery).
CREATE FUNCTION customers_update_statement() RETURNS trigger
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
REVOKE EXECUTE ON FUNCTION customers_update_statement() FROM PUBLIC;

DROP TRIGGER trg_customers_audit_log ON customers;
CREATE TRIGGER trg_customers_audit_log
  AFTER DELETE ON customers
  FOR EACH ROW EXECUTE FUNCTION audit_row_change();

DROP TRIGGER trg_customers_matching_keys_sync ON customers;
CREATE TRIGGER trg_customers_matching_keys_sync
  AFTER UPDATE ON customers
  FOR EACH ROW
  WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.email IS DISTINCT FROM NEW.email
        OR OLD.phone IS DISTINCT FROM NEW.phone OR OLD.status IS DISTINCT FROM NEW.status
        OR OLD.tags IS DISTINCT FROM NEW.tags OR OLD.external_id IS DISTINCT FROM NEW.external_id
        OR OLD.address IS DISTINCT FROM NEW.address OR OLD.notes IS DISTINCT FROM NEW.notes
        OR OLD.attributes IS DISTINCT FROM NEW.attributes OR OLD.source IS DISTINCT FROM NEW.source)
  EXECUTE FUNCTION customers_matching_keys_sync();
CREATE TRIGGER trg_customers_update_statement
  AFTER UPDATE ON customers
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION customers_update_statement();
