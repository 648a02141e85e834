-- The maintained duplicate queue (issue 13, docs/duplicates.md).
--
-- duplicate_queue: customers whose duplicate candidates must be scored again,
--   written by triggers when a customer is created or its name, email, phone,
--   address or status changes (API, chat sync, import, merge, undo). Owner-only,
--   like customer_search (0011): RLS enabled but not forced, granted to nobody,
--   written by SECURITY DEFINER triggers and read through claim_duplicate_queue(),
--   which takes the tenant from app.company_id.
-- duplicate_candidates: the scored pairs (customer_a < customer_b), written by
--   the application (CustomerMergeService) from the queue or a whole-company
--   rebuild, read by GET /v1/duplicates and GET /v1/customers/{id}/duplicates.
--   Merged or deleted customers lose their pairs; a dismissal removes its pair.
CREATE TABLE duplicate_queue (
  company_id  uuid NOT NULL,
  customer_id uuid NOT NULL,
  enqueued_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT duplicate_queue_pkey PRIMARY KEY (company_id, customer_id),
  CONSTRAINT duplicate_queue_customer_fkey FOREIGN KEY (company_id, customer_id)
    REFERENCES customers (company_id, id) ON DELETE CASCADE
);
CREATE INDEX duplicate_queue_order_idx ON duplicate_queue (company_id, enqueued_at);
ALTER TABLE duplicate_queue ENABLE ROW LEVEL SECURITY;  -- deliberately not FORCED: owner-only table
CREATE POLICY tenant_isolation ON duplicate_queue
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());

CREATE TABLE duplicate_candidates (
  company_id  uuid NOT NULL,
  customer_a  uuid NOT NULL,
  customer_b  uuid NOT NULL,
  score       double precision NOT NULL CHECK (score >= 0 AND score <= 1),
  evidence    jsonb NOT NULL DEFAULT '[]',
  scored_at   timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT duplicate_candidates_pkey PRIMARY KEY (company_id, customer_a, customer_b),
  CONSTRAINT duplicate_candidates_order_check CHECK (customer_a < customer_b),
  CONSTRAINT duplicate_candidates_a_fkey FOREIGN KEY (company_id, customer_a)
    REFERENCES customers (company_id, id) ON DELETE CASCADE,
  CONSTRAINT duplicate_candidates_b_fkey FOREIGN KEY (company_id, customer_b)
    REFERENCES customers (company_id, id) ON DELETE CASCADE
);
CREATE INDEX duplicate_candidates_b_idx ON duplicate_candidates (company_id, customer_b);
CREATE INDEX duplicate_candidates_score_idx ON duplicate_candidates (company_id, score DESC);
ALTER TABLE duplicate_candidates ENABLE ROW LEVEL SECURITY;
ALTER TABLE duplicate_candidates FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON duplicate_candidates
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
CREATE POLICY owner_maintenance ON duplicate_candidates TO tradesphere_owner
  USING (session_user = 'tradesphere_owner') WITH CHECK (session_user = 'tradesphere_owner');
GRANT SELECT, INSERT, UPDATE, DELETE ON duplicate_candidates TO tradesphere_app;

-- every active customer is scored once after the upgrade
INSERT INTO duplicate_queue (company_id, customer_id)
SELECT company_id, id FROM customers WHERE status = 'active';

-- new customers (set-based: one statement per INSERT, as customers_after_insert)
CREATE FUNCTION customers_duplicate_enqueue_new() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
BEGIN
  INSERT INTO duplicate_queue (company_id, customer_id)
  SELECT n.company_id, n.id FROM new_customers_dq n WHERE n.status = 'active'
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION customers_duplicate_enqueue_new() FROM PUBLIC;
CREATE TRIGGER trg_customers_duplicate_enqueue_new
  AFTER INSERT ON customers
  REFERENCING NEW TABLE AS new_customers_dq
  FOR EACH STATEMENT EXECUTE FUNCTION customers_duplicate_enqueue_new();

-- changed customers: active ones are scored again, merged or deleted ones leave the queue
-- (their pairs go too; the tenant is the updating transaction's, so the forced policy holds)
CREATE FUNCTION customers_duplicate_enqueue_changed() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
BEGIN
  IF NEW.status = 'active' THEN
    INSERT INTO duplicate_queue (company_id, customer_id) VALUES (NEW.company_id, NEW.id)
    ON CONFLICT (company_id, customer_id) DO UPDATE SET enqueued_at = now();
  ELSE
    DELETE FROM duplicate_queue WHERE company_id = NEW.company_id AND customer_id = NEW.id;
    DELETE FROM duplicate_candidates
     WHERE company_id = NEW.company_id AND (customer_a = NEW.id OR customer_b = NEW.id);
  END IF;
  RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION customers_duplicate_enqueue_changed() FROM PUBLIC;
CREATE TRIGGER trg_customers_duplicate_enqueue_changed
  AFTER UPDATE ON customers
  FOR EACH ROW
  WHEN (OLD.name IS DISTINCT FROM NEW.name OR OLD.email IS DISTINCT FROM NEW.email
        OR OLD.phone IS DISTINCT FROM NEW.phone OR OLD.address IS DISTINCT FROM NEW.address
        OR OLD.status IS DISTINCT FROM NEW.status)
  EXECUTE FUNCTION customers_duplicate_enqueue_changed();

-- "not a duplicate": the pair leaves the candidates
CREATE FUNCTION duplicate_dismissals_drop_candidate() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
AS $$
BEGIN
  DELETE FROM duplicate_candidates
   WHERE company_id = NEW.company_id AND customer_a = NEW.customer_a AND customer_b = NEW.customer_b;
  RETURN NULL;
END
$$;
CREATE TRIGGER trg_duplicate_dismissals_drop_candidate
  AFTER INSERT ON duplicate_dismissals
  FOR EACH ROW EXECUTE FUNCTION duplicate_dismissals_drop_candidate();

-- The doors into duplicate_queue (tenant from app.company_id).
-- Takes up to p_limit queued customers of the current tenant, oldest first.
CREATE FUNCTION claim_duplicate_queue(p_limit integer) RETURNS SETOF uuid
  LANGUAGE sql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
  DELETE FROM duplicate_queue q
   WHERE (q.company_id, q.customer_id) IN (
           SELECT company_id, customer_id FROM duplicate_queue
            WHERE company_id = app_current_company()
            ORDER BY enqueued_at
            LIMIT greatest(p_limit, 0)
              FOR UPDATE SKIP LOCKED)
  RETURNING q.customer_id
$$;
-- Forgets the current tenant's queue (a whole-company rebuild scored everyone).
CREATE FUNCTION clear_duplicate_queue() RETURNS bigint
  LANGUAGE sql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
  WITH d AS (DELETE FROM duplicate_queue WHERE company_id = app_current_company() RETURNING 1)
  SELECT count(*) FROM d
$$;
-- Companies with queued customers and how many (for the background worker; no customer data).
CREATE FUNCTION duplicate_queue_companies() RETURNS TABLE (company_id uuid, queued bigint)
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
  SELECT q.company_id, count(*) FROM duplicate_queue q GROUP BY q.company_id ORDER BY 1
$$;
REVOKE EXECUTE ON FUNCTION claim_duplicate_queue(integer), clear_duplicate_queue(), duplicate_queue_companies() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION claim_duplicate_queue(integer), clear_duplicate_queue(), duplicate_queue_companies()
  TO tradesphere_app;
