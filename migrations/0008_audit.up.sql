-- 0008 customer_audit_log: one row per committed INSERT/UPDATE/DELETE of a row of
-- an audited table (customers, customer_merge_log, duplicate_dismissals), written
-- in the same transaction by trg_*_audit_log (so a rolled-back change leaves none).
-- Append-only: no role the application uses may UPDATE/DELETE/TRUNCATE or INSERT
-- it directly, and triggers refuse UPDATE/DELETE/TRUNCATE even for the owner.

CREATE TABLE customer_audit_log (
  id             bigint GENERATED ALWAYS AS IDENTITY,
  company_id     uuid NOT NULL,
  table_name     text NOT NULL,
  operation      text NOT NULL,
  record_id      text NOT NULL,       -- primary key of the audited row (without company_id)
  customer_id    uuid,                -- the customer the row is about, for per-customer history
  before         jsonb,               -- NULL for INSERT
  after          jsonb,               -- NULL for DELETE
  changed_fields text[],              -- UPDATE: columns whose value changed
  actor          text,                -- app.user_id
  correlation_id text,                -- app.correlation_id
  db_user        text NOT NULL DEFAULT session_user,
  txid           bigint NOT NULL DEFAULT txid_current(),
  created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT customer_audit_log_pkey PRIMARY KEY (company_id, id),
  CONSTRAINT customer_audit_log_company_fkey FOREIGN KEY (company_id) REFERENCES companies (id),
  CONSTRAINT customer_audit_log_operation_check CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE'))
);
CREATE INDEX customer_audit_log_customer_idx ON customer_audit_log (company_id, customer_id, id);
CREATE INDEX customer_audit_log_created_idx ON customer_audit_log (company_id, created_at);

CREATE FUNCTION audit_row_change() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_prev     text;
  v_row      jsonb;
  v_before   jsonb;
  v_after    jsonb;
  v_changed  text[];
  v_customer uuid;
  v_record   text;
BEGIN
  IF TG_OP <> 'INSERT' THEN
    v_before := to_jsonb(OLD);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    v_after := to_jsonb(NEW);
  END IF;
  v_row := coalesce(v_after, v_before);
  IF TG_OP = 'UPDATE' THEN
    v_changed := ARRAY(SELECT a.key FROM jsonb_each(v_after) a
                        WHERE a.value IS DISTINCT FROM v_before -> a.key ORDER BY a.key);
  END IF;
  IF TG_TABLE_NAME = 'customers' THEN
    v_record := v_row ->> 'id';
    v_customer := (v_row ->> 'id')::uuid;
  ELSIF TG_TABLE_NAME = 'customer_merge_log' THEN
    v_record := v_row ->> 'id';
    v_customer := (v_row ->> 'target_customer_id')::uuid;
  ELSIF TG_TABLE_NAME = 'duplicate_dismissals' THEN
    v_record := (v_row ->> 'customer_a') || ',' || (v_row ->> 'customer_b');
    v_customer := (v_row ->> 'customer_a')::uuid;
  ELSE
    v_record := coalesce(v_row ->> 'id', '');
  END IF;

  v_prev := app_enter_company((v_row ->> 'company_id')::uuid);
  INSERT INTO customer_audit_log (company_id, table_name, operation, record_id, customer_id,
                                  before, after, changed_fields, actor, correlation_id)
  VALUES ((v_row ->> 'company_id')::uuid, TG_TABLE_NAME, TG_OP, v_record, v_customer,
          v_before, v_after, v_changed, app_actor(), app_correlation_id());
  PERFORM app_leave_company(v_prev);
  RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION audit_row_change() FROM PUBLIC;

CREATE TRIGGER trg_customers_audit_log
  AFTER INSERT OR UPDATE OR DELETE ON customers
  FOR EACH ROW EXECUTE FUNCTION audit_row_change();
CREATE TRIGGER trg_customer_merge_log_audit_log
  AFTER INSERT OR UPDATE OR DELETE ON customer_merge_log
  FOR EACH ROW EXECUTE FUNCTION audit_row_change();
CREATE TRIGGER trg_duplicate_dismissals_audit_log
  AFTER INSERT OR UPDATE OR DELETE ON duplicate_dismissals
  FOR EACH ROW EXECUTE FUNCTION audit_row_change();

CREATE FUNCTION customer_audit_log_append_only() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
AS $$
BEGIN
  RAISE EXCEPTION 'customer_audit_log is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER trg_customer_audit_log_append_only
  BEFORE UPDATE OR DELETE ON customer_audit_log
  FOR EACH ROW EXECUTE FUNCTION customer_audit_log_append_only();
CREATE TRIGGER trg_customer_audit_log_no_truncate
  BEFORE TRUNCATE ON customer_audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION customer_audit_log_append_only();
