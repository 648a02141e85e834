-- Row triggers for customers' audit rows and stage events again (0008/0011 and 0005's body).
DROP TRIGGER trg_customers_update_statement ON customers;
DROP TRIGGER trg_customers_matching_keys_sync ON customers;
CREATE TRIGGER trg_customers_matching_keys_sync
  AFTER UPDATE ON customers
  FOR EACH ROW EXECUTE FUNCTION customers_matching_keys_sync();

DROP TRIGGER trg_customers_audit_log ON customers;
CREATE TRIGGER trg_customers_audit_log
  AFTER UPDATE OR DELETE ON customers
  FOR EACH ROW EXECUTE FUNCTION audit_row_change();

DROP FUNCTION customers_update_statement();

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

  IF NEW.lifecycle_stage IS DISTINCT FROM OLD.lifecycle_stage THEN
    INSERT INTO customer_events (company_id, customer_id, event_type, payload)
    VALUES (NEW.company_id, NEW.id, 'stage_changed',
            jsonb_build_object('from', OLD.lifecycle_stage, 'to', NEW.lifecycle_stage));
  END IF;

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
