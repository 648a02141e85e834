-- 0005 matching keys, typed customer timeline, merge log, duplicate dismissals,
-- and trg_customers_matching_keys_sync (keys + timeline events of a customer).

CREATE TABLE customer_matching_keys (
  company_id  uuid NOT NULL,
  key_type    text NOT NULL,
  key_value   text NOT NULL,
  customer_id uuid NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT customer_matching_keys_pkey PRIMARY KEY (company_id, key_type, key_value, customer_id),
  CONSTRAINT customer_matching_keys_customer_fkey FOREIGN KEY (company_id, customer_id)
    REFERENCES customers (company_id, id) ON DELETE CASCADE,
  CONSTRAINT customer_matching_keys_key_type_check CHECK (key_type IN ('email', 'phone', 'name'))
);
CREATE INDEX customer_matching_keys_customer_idx ON customer_matching_keys (company_id, customer_id);
CREATE INDEX customer_matching_keys_name_trgm_idx ON customer_matching_keys
  USING gin (company_id, key_value gin_trgm_ops) WHERE key_type = 'name';

CREATE TABLE customer_events (
  id             bigint GENERATED ALWAYS AS IDENTITY,
  company_id     uuid NOT NULL,
  customer_id    uuid NOT NULL,
  event_type     text NOT NULL,
  payload        jsonb NOT NULL DEFAULT '{}'::jsonb,
  actor          text DEFAULT app_actor(),
  correlation_id text DEFAULT app_correlation_id(),
  created_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT customer_events_pkey PRIMARY KEY (company_id, id),
  CONSTRAINT customer_events_customer_fkey FOREIGN KEY (company_id, customer_id)
    REFERENCES customers (company_id, id) ON DELETE CASCADE,
  CONSTRAINT customer_events_event_type_check CHECK (event_type IN (
    'created', 'updated', 'contact_changed', 'stage_changed', 'tags_added', 'tags_removed',
    'conversation_linked', 'conversation_unlinked', 'match_conflict', 'merged', 'merge_undone',
    'enriched', 'deleted', 'restored', 'note')),
  CONSTRAINT customer_events_payload_check CHECK (jsonb_typeof(payload) = 'object')
);
CREATE INDEX customer_events_timeline_idx ON customer_events (company_id, customer_id, created_at, id);

CREATE TABLE customer_merge_log (
  id                 uuid NOT NULL DEFAULT gen_random_uuid(),
  company_id         uuid NOT NULL,
  source_customer_id uuid NOT NULL,
  target_customer_id uuid NOT NULL,
  source_snapshot    jsonb NOT NULL,                    -- source row before the merge
  target_snapshot    jsonb NOT NULL,                    -- target row before the merge
  field_choices      jsonb NOT NULL DEFAULT '{}'::jsonb, -- field -> 'source' | 'target' | value
  moved_rows         jsonb NOT NULL DEFAULT '{}'::jsonb, -- table name -> [row ids moved to target]
  actor              text DEFAULT app_actor(),
  correlation_id     text DEFAULT app_correlation_id(),
  created_at         timestamptz NOT NULL DEFAULT now(),
  undone_at          timestamptz,
  undone_by          text,
  CONSTRAINT customer_merge_log_pkey PRIMARY KEY (company_id, id),
  CONSTRAINT customer_merge_log_source_fkey FOREIGN KEY (company_id, source_customer_id)
    REFERENCES customers (company_id, id),
  CONSTRAINT customer_merge_log_target_fkey FOREIGN KEY (company_id, target_customer_id)
    REFERENCES customers (company_id, id),
  CONSTRAINT customer_merge_log_distinct_check CHECK (source_customer_id <> target_customer_id),
  CONSTRAINT customer_merge_log_undone_check CHECK (undone_at IS NOT NULL OR undone_by IS NULL),
  CONSTRAINT customer_merge_log_json_check CHECK (
    jsonb_typeof(source_snapshot) = 'object' AND jsonb_typeof(target_snapshot) = 'object'
    AND jsonb_typeof(field_choices) = 'object' AND jsonb_typeof(moved_rows) = 'object')
);
CREATE INDEX customer_merge_log_source_idx ON customer_merge_log (company_id, source_customer_id, created_at);
CREATE INDEX customer_merge_log_target_idx ON customer_merge_log (company_id, target_customer_id, created_at);

-- Pairs an agent marked as "not duplicates" (issue 6); stored with customer_a < customer_b.
CREATE TABLE duplicate_dismissals (
  company_id   uuid NOT NULL,
  customer_a   uuid NOT NULL,
  customer_b   uuid NOT NULL,
  reason       text,
  dismissed_by text DEFAULT app_actor(),
  dismissed_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT duplicate_dismissals_pkey PRIMARY KEY (company_id, customer_a, customer_b),
  CONSTRAINT duplicate_dismissals_a_fkey FOREIGN KEY (company_id, customer_a)
    REFERENCES customers (company_id, id) ON DELETE CASCADE,
  CONSTRAINT duplicate_dismissals_b_fkey FOREIGN KEY (company_id, customer_b)
    REFERENCES customers (company_id, id) ON DELETE CASCADE,
  CONSTRAINT duplicate_dismissals_order_check CHECK (customer_a < customer_b)
);
CREATE INDEX duplicate_dismissals_b_idx ON duplicate_dismissals (company_id, customer_b);

------------------------------------------------------------------------------
-- Matching keys = what the customer's current email/phone/name imply.
-- Active and merged customers have keys (merged ones resolve to their target
-- when matching); soft-deleted customers have none.
------------------------------------------------------------------------------
CREATE FUNCTION sync_customer_matching_keys(p_company uuid, p_customer uuid) RETURNS void
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
AS $$
BEGIN
  WITH c AS (
    SELECT cu.status, cu.name, cu.email, cu.phone, co.default_country_code AS cc
      FROM customers cu
      JOIN companies co ON co.id = cu.company_id
     WHERE cu.company_id = p_company AND cu.id = p_customer
  ), desired AS (
    SELECT k.key_type, k.key_value
      FROM c, LATERAL (VALUES ('email', normalize_email(c.email)),
                              ('phone', normalize_phone(c.phone, c.cc)),
                              ('name',  normalize_name(c.name))) AS k (key_type, key_value)
     WHERE c.status <> 'deleted' AND k.key_value IS NOT NULL
  ), removed AS (
    DELETE FROM customer_matching_keys m
     WHERE m.company_id = p_company AND m.customer_id = p_customer
       AND (m.key_type, m.key_value) NOT IN (SELECT key_type, key_value FROM desired)
    RETURNING 1
  )
  INSERT INTO customer_matching_keys (company_id, key_type, key_value, customer_id)
  SELECT p_company, key_type, key_value, p_customer FROM desired
  ON CONFLICT DO NOTHING;
END
$$;
REVOKE EXECUTE ON FUNCTION sync_customer_matching_keys(uuid, uuid) FROM PUBLIC;

-- Keys plus the timeline events a customer row change implies. Events written
-- here: created, contact_changed, stage_changed, tags_added, tags_removed,
-- deleted, restored, updated. merged / merge_undone / enriched are written by
-- the services that perform them.
CREATE FUNCTION customers_matching_keys_sync() RETURNS trigger
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
REVOKE EXECUTE ON FUNCTION customers_matching_keys_sync() FROM PUBLIC;

CREATE TRIGGER trg_customers_matching_keys_sync
  AFTER INSERT OR UPDATE ON customers
  FOR EACH ROW EXECUTE FUNCTION customers_matching_keys_sync();

-- Phone keys depend on the company's calling code: recompute them when it changes.
CREATE FUNCTION companies_country_code_rekey() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_prev text := app_enter_company(NEW.id);
BEGIN
  PERFORM sync_customer_matching_keys(c.company_id, c.id)
     FROM customers c
    WHERE c.company_id = NEW.id AND c.phone IS NOT NULL;
  PERFORM app_leave_company(v_prev);
  RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION companies_country_code_rekey() FROM PUBLIC;

CREATE TRIGGER trg_companies_country_code_rekey
  AFTER UPDATE OF default_country_code ON companies
  FOR EACH ROW WHEN (OLD.default_country_code IS DISTINCT FROM NEW.default_country_code)
  EXECUTE FUNCTION companies_country_code_rekey();

-- Keys of the customers that already exist (legacy rows).
SELECT sync_customer_matching_keys(company_id, id) FROM customers;
