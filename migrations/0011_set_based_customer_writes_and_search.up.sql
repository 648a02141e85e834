-- 0011 Set-based customer inserts and an index-backed search under row-level security.
--
-- 1. INSERT side of the customer triggers becomes one statement-level trigger with a
--    transition table (customers_after_insert): audit rows, matching keys, the
--    'created' events, metrics rows and search rows are written with one statement
--    each per company instead of three PL/pgSQL calls per row. A 1000-row import
--    batch went from ~1.5 s of trigger work to a few tens of ms. Row-level triggers
--    keep handling UPDATE/DELETE (their per-row diffs need OLD and NEW).
--
-- 2. customer_search: what search and duplicate blocking match on, one row per
--    ACTIVE customer, with the trigram GIN indexes. Why a separate table: under the
--    FORCED row-level security of customers the planner must evaluate the policy
--    (company_id = app_current_company()) before any non-LEAKPROOF predicate, and
--    pg_trgm's %, <% and LIKE/ILIKE operators are not LEAKPROOF, so the trigram
--    indexes on customers could never be used by the application role (every search
--    was a scan of the company's rows: 0.7-1.0 s at 100k customers). Marking
--    pg_trgm's functions LEAKPROOF needs a superuser, which the service must not
--    require. customer_search has row-level security ENABLED but not forced and is
--    owned by the schema owner; the application role has no privilege on it. It is
--    read only through the SECURITY DEFINER functions below, which always filter
--    by app_current_company() (NULL -> no rows), so tenant isolation is still
--    enforced by the database, and both predicates sit at the same security level,
--    so the trigram indexes are used. The unusable trigram indexes on customers are
--    dropped (they only cost writes).

------------------------------------------------------------------------------
-- customer_search
------------------------------------------------------------------------------
CREATE TABLE customer_search (
  company_id   uuid NOT NULL,
  customer_id  uuid NOT NULL,
  name         text,
  email_lc     text,            -- lower(email)
  phone_digits text,            -- phone_digits(phone)
  CONSTRAINT customer_search_pkey PRIMARY KEY (company_id, customer_id),
  CONSTRAINT customer_search_customer_fkey FOREIGN KEY (company_id, customer_id)
    REFERENCES customers (company_id, id) ON DELETE CASCADE
);
CREATE INDEX customer_search_name_trgm_idx ON customer_search USING gin (company_id, name gin_trgm_ops);
CREATE INDEX customer_search_email_trgm_idx ON customer_search USING gin (company_id, email_lc gin_trgm_ops);
CREATE INDEX customer_search_phone_trgm_idx ON customer_search USING gin (company_id, phone_digits gin_trgm_ops);

ALTER TABLE customer_search ENABLE ROW LEVEL SECURITY;   -- deliberately not FORCED: see above
CREATE POLICY tenant_isolation ON customer_search
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());

INSERT INTO customer_search (company_id, customer_id, name, email_lc, phone_digits)
SELECT c.company_id, c.id, c.name, lower(c.email), phone_digits(c.phone)
  FROM customers c
 WHERE c.status = 'active';
ANALYZE customer_search;   -- planner statistics now, not at the first autovacuum

DROP INDEX customers_name_trgm_idx;
DROP INDEX customers_email_trgm_idx;
DROP INDEX customers_phone_trgm_idx;

-- UPDATE side: keep the search row in step (active <-> merged/deleted, contact edits).
CREATE FUNCTION customers_search_sync() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
BEGIN
  IF NEW.status = 'active' THEN
    INSERT INTO customer_search (company_id, customer_id, name, email_lc, phone_digits)
    VALUES (NEW.company_id, NEW.id, NEW.name, lower(NEW.email), phone_digits(NEW.phone))
    ON CONFLICT (company_id, customer_id) DO UPDATE
      SET name = EXCLUDED.name, email_lc = EXCLUDED.email_lc, phone_digits = EXCLUDED.phone_digits;
  ELSE
    DELETE FROM customer_search WHERE company_id = NEW.company_id AND customer_id = NEW.id;
  END IF;
  RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION customers_search_sync() FROM PUBLIC;

CREATE TRIGGER trg_customers_search_sync
  AFTER UPDATE ON customers
  FOR EACH ROW
  WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.email IS DISTINCT FROM NEW.email
        OR OLD.phone IS DISTINCT FROM NEW.phone OR OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION customers_search_sync();

------------------------------------------------------------------------------
-- INSERT side: one statement-level trigger
------------------------------------------------------------------------------
-- Writes exactly what the row-level INSERT branches of audit_row_change (0008),
-- customers_matching_keys_sync/sync_customer_matching_keys (0005) and
-- customers_metrics_row (0007) wrote, in that order, plus the search rows. No
-- ON CONFLICT: every row written here carries the id of a customer this statement
-- created (the foreign keys guarantee nothing can reference it yet), and a
-- speculative insert costs twice a plain one.
CREATE FUNCTION customers_after_insert() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_company uuid;
  v_prev    text;
BEGIN
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
REVOKE EXECUTE ON FUNCTION customers_after_insert() FROM PUBLIC;

DROP TRIGGER trg_customers_audit_log ON customers;
CREATE TRIGGER trg_customers_audit_log
  AFTER UPDATE OR DELETE ON customers
  FOR EACH ROW EXECUTE FUNCTION audit_row_change();

DROP TRIGGER trg_customers_matching_keys_sync ON customers;
CREATE TRIGGER trg_customers_matching_keys_sync
  AFTER UPDATE ON customers
  FOR EACH ROW EXECUTE FUNCTION customers_matching_keys_sync();

DROP TRIGGER trg_customers_metrics_row ON customers;
CREATE TRIGGER trg_customers_metrics_row
  AFTER UPDATE OF status ON customers
  FOR EACH ROW EXECUTE FUNCTION customers_metrics_row();

CREATE TRIGGER trg_customers_after_insert
  AFTER INSERT ON customers
  REFERENCING NEW TABLE AS new_customers
  FOR EACH STATEMENT EXECUTE FUNCTION customers_after_insert();

------------------------------------------------------------------------------
-- The doors into customer_search (tenant from app.company_id, never a parameter)
------------------------------------------------------------------------------
-- Search: active customers of the current tenant matching p_query by name
-- (trigram similarity, word similarity, substring), email (substring, similarity)
-- or phone digits (substring), best first. p_like is p_query with LIKE wildcards
-- escaped; p_digits the query's digits when it looks like a phone fragment.
CREATE FUNCTION search_customer_hits(p_query text, p_like text, p_digits text, p_limit integer)
  RETURNS TABLE (customer_id uuid, score float8, by_name boolean, by_email boolean, by_phone boolean)
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
BEGIN
  -- EXECUTE: planned with the actual values each time (selectivity of the
  -- patterns matters more than the ~0.1 ms of planning).
  -- One indexed branch per predicate (an OR of them does not become a BitmapOr next
  -- to the company condition: the planner scanned the company instead), then the
  -- candidates are scored and ranked.
  RETURN QUERY EXECUTE $q$
    WITH candidates AS (
      SELECT c.customer_id, c.name, c.email_lc, c.phone_digits FROM customer_search c
       WHERE c.company_id = app_current_company() AND c.name % $1
      UNION
      SELECT c.customer_id, c.name, c.email_lc, c.phone_digits FROM customer_search c
       WHERE c.company_id = app_current_company() AND $1 <% c.name
      UNION
      SELECT c.customer_id, c.name, c.email_lc, c.phone_digits FROM customer_search c
       WHERE c.company_id = app_current_company() AND c.name ILIKE '%' || $2 || '%'
      UNION
      SELECT c.customer_id, c.name, c.email_lc, c.phone_digits FROM customer_search c
       WHERE c.company_id = app_current_company() AND c.email_lc LIKE '%' || lower($2) || '%'
      UNION
      SELECT c.customer_id, c.name, c.email_lc, c.phone_digits FROM customer_search c
       WHERE c.company_id = app_current_company() AND c.email_lc % lower($1)
      UNION
      SELECT c.customer_id, c.name, c.email_lc, c.phone_digits FROM customer_search c
       WHERE c.company_id = app_current_company() AND $3 IS NOT NULL AND c.phone_digits LIKE '%' || $3 || '%'
    )
    SELECT s.customer_id,
           greatest(
             CASE WHEN lower(s.name) = lower($1) OR s.email_lc = lower($1)
                       OR ($3 IS NOT NULL AND s.phone_digits = $3) THEN 1.0 ELSE 0 END,
             CASE WHEN s.name ILIKE $2 || '%' OR s.email_lc LIKE lower($2) || '%' THEN 0.9 ELSE 0 END,
             CASE WHEN s.name ILIKE '%' || $2 || '%' OR s.email_lc LIKE '%' || lower($2) || '%'
                       OR ($3 IS NOT NULL AND s.phone_digits LIKE '%' || $3 || '%')
                  THEN 0.7 ELSE 0 END,
             0.8 * coalesce(similarity(s.name, $1), 0),
             0.8 * coalesce(word_similarity($1, s.name), 0),
             0.6 * coalesce(similarity(s.email_lc, lower($1)), 0))::float8,
           (s.name ILIKE '%' || $2 || '%' OR s.name % $1 OR $1 <% s.name),
           (s.email_lc LIKE '%' || lower($2) || '%' OR s.email_lc % lower($1)),
           ($3 IS NOT NULL AND s.phone_digits LIKE '%' || $3 || '%')
      FROM candidates s
     ORDER BY 2 DESC, lower(s.name) ASC NULLS LAST, s.customer_id
     LIMIT $4
  $q$ USING p_query, p_like, p_digits, p_limit;
END
$$;
REVOKE EXECUTE ON FUNCTION search_customer_hits(text, text, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION search_customer_hits(text, text, text, integer) TO tradesphere_app;

-- Duplicate blocking for one customer of the current tenant: active customers
-- with a similar email, the same last 7 phone digits, or a similar name.
CREATE FUNCTION duplicate_candidate_ids(p_customer uuid, p_limit integer)
  RETURNS SETOF uuid
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_name   text;
  v_email  text;
  v_phone7 text;
BEGIN
  SELECT c.name, lower(c.email), right(phone_digits(c.phone), 7)
    INTO v_name, v_email, v_phone7
    FROM customers c
   WHERE c.company_id = app_current_company() AND c.id = p_customer;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  IF length(v_phone7) <> 7 THEN
    v_phone7 := NULL;
  END IF;
  RETURN QUERY EXECUTE $q$
    SELECT s.customer_id
      FROM customer_search s
     WHERE s.company_id = app_current_company() AND s.customer_id <> $1
       AND (($2 IS NOT NULL AND s.email_lc % $2)
         OR ($3 IS NOT NULL AND s.phone_digits LIKE '%' || $3)
         OR ($4 IS NOT NULL AND s.name % $4))
     ORDER BY s.customer_id
     LIMIT $5
  $q$ USING p_customer, v_email, v_phone7, v_name, p_limit;
END
$$;
REVOKE EXECUTE ON FUNCTION duplicate_candidate_ids(uuid, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duplicate_candidate_ids(uuid, integer) TO tradesphere_app;
