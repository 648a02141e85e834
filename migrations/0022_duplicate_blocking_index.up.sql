-- A stored blocking index for scoring one customer's duplicate candidates
-- (issue 13: <= 5 ms at 1M customers).
--
-- Until now the candidates of one customer came from duplicate_candidate_ids()
-- (0011): trigram similarity on name and email plus a phone suffix, i.e. other
-- rules than the whole-company scan's, and at 1M customers a common name or mail
-- domain matched tens of thousands of rows, of which an arbitrary 1000 were kept
-- (~800 ms per customer). Now every customer's blocking keys, computed in C++ by
-- the same rules as the whole-company scan (domain/match_blocking.cpp), are
-- stored as 64-bit hashes (company, rule and key folded in, so one tenant's keys
-- never share a posting list with another's) and looked up through a GIN index;
-- a key held by more than max_block_size customers is skipped, as in the scan.
--
-- duplicate_blocking is owner-only, like customer_search (0011) and
-- duplicate_queue (0016): RLS enabled but not forced, granted to nobody. The
-- array operators are not LEAKPROOF, so under a forced policy the planner may
-- not use them as index conditions (a sequential scan per lookup); the SECURITY
-- DEFINER doors below read and write only the tenant in app.company_id.
--
-- Written by the application: the duplicate queue (every created or changed
-- customer passes through it) and `duplicates rebuild`, which writes every active
-- customer's keys and records the company in duplicate_blocking_companies. A
-- company not recorded there (upgraded, never rebuilt) keeps the 0011 lookup.
CREATE TABLE duplicate_blocking (
  company_id  uuid     NOT NULL,
  customer_id uuid     NOT NULL,
  keys        bigint[] NOT NULL,
  CONSTRAINT duplicate_blocking_pkey PRIMARY KEY (company_id, customer_id),
  CONSTRAINT duplicate_blocking_customer_fkey FOREIGN KEY (company_id, customer_id)
    REFERENCES customers (company_id, id) ON DELETE CASCADE
);
CREATE INDEX duplicate_blocking_keys_idx ON duplicate_blocking USING gin (keys);
ALTER TABLE duplicate_blocking ENABLE ROW LEVEL SECURITY;  -- deliberately not FORCED: owner-only table
CREATE POLICY tenant_isolation ON duplicate_blocking
  USING (company_id = (SELECT app_current_company())) WITH CHECK (company_id = (SELECT app_current_company()));

-- Companies whose every active customer has its keys stored (by a rebuild).
CREATE TABLE duplicate_blocking_companies (
  company_id uuid        NOT NULL PRIMARY KEY REFERENCES companies (id) ON DELETE CASCADE,
  indexed_at timestamptz NOT NULL DEFAULT now(),
  customers  bigint      NOT NULL
);
ALTER TABLE duplicate_blocking_companies ENABLE ROW LEVEL SECURITY;
ALTER TABLE duplicate_blocking_companies FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON duplicate_blocking_companies
  USING (company_id = (SELECT app_current_company())) WITH CHECK (company_id = (SELECT app_current_company()));
CREATE POLICY owner_maintenance ON duplicate_blocking_companies TO tradesphere_owner
  USING (session_user = 'tradesphere_owner') WITH CHECK (session_user = 'tradesphere_owner');
GRANT SELECT ON duplicate_blocking_companies TO tradesphere_app;

-- Stores the keys of some customers of the current tenant: p_entries is
-- [{"id": uuid, "keys": [bigint, ...]}, ...]. Unchanged keys are not rewritten
-- (each GIN write costs), so a rebuild over an indexed company writes little.
CREATE FUNCTION store_duplicate_blocking(p_entries jsonb) RETURNS bigint
  LANGUAGE sql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
  WITH written AS (
    INSERT INTO duplicate_blocking AS b (company_id, customer_id, keys)
    SELECT app_current_company(), e.id, e.keys
      FROM jsonb_to_recordset(p_entries) AS e (id uuid, keys bigint[])
     WHERE app_current_company() IS NOT NULL
    ON CONFLICT (company_id, customer_id) DO UPDATE SET keys = EXCLUDED.keys
     WHERE b.keys IS DISTINCT FROM EXCLUDED.keys
    RETURNING 1)
  SELECT count(*) FROM written
$$;

-- After a rebuild wrote every active customer's keys: forget the customers that
-- are no longer active, and record the tenant's index as complete.
CREATE FUNCTION finish_duplicate_blocking(p_customers bigint) RETURNS bigint
  LANGUAGE sql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
  WITH gone AS (
    DELETE FROM duplicate_blocking b
     WHERE b.company_id = app_current_company()
       AND NOT EXISTS (SELECT 1 FROM customers c
                        WHERE c.company_id = b.company_id AND c.id = b.customer_id AND c.status = 'active')
    RETURNING 1
  ), marked AS (
    INSERT INTO duplicate_blocking_companies (company_id, customers)
    SELECT app_current_company(), p_customers WHERE app_current_company() IS NOT NULL
    ON CONFLICT (company_id) DO UPDATE SET indexed_at = now(), customers = EXCLUDED.customers
    RETURNING 1
  )
  SELECT count(*) FROM gone
$$;

-- The customers of the current tenant, other than p_customer, holding one of the
-- p_lookup hashes; a hash held by more than p_max_block customers is skipped; at
-- most p_limit customers. Each hash's block is counted through the GIN index up
-- to p_max_block + 1 only, so a huge block costs no more than a small one.
CREATE FUNCTION duplicate_blocking_candidates(p_customer uuid, p_lookup bigint[], p_max_block integer,
                                              p_limit integer)
  RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER
  ROWS 200
  SET search_path = public, pg_temp
AS $$
  WITH usable AS (
    SELECT k FROM unnest(p_lookup) AS k
     WHERE (SELECT count(*) FROM (SELECT 1 FROM duplicate_blocking b
                                   WHERE b.keys @> ARRAY[k] LIMIT p_max_block + 1) n) <= p_max_block
  ), hits AS MATERIALIZED (
    -- the GIN lookup alone: with the tenant beside it the planner may walk the
    -- tenant's primary key instead (every row of a large company)
    SELECT b.company_id, b.customer_id FROM duplicate_blocking b WHERE b.keys && ARRAY(SELECT k FROM usable)
  )
  SELECT DISTINCT h.customer_id
    FROM hits h
   WHERE h.company_id = app_current_company() AND h.customer_id <> p_customer
   LIMIT greatest(p_limit, 0)
$$;

REVOKE EXECUTE ON FUNCTION store_duplicate_blocking(jsonb) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION finish_duplicate_blocking(bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION duplicate_blocking_candidates(uuid, bigint[], integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION store_duplicate_blocking(jsonb) TO tradesphere_app;
GRANT EXECUTE ON FUNCTION finish_duplicate_blocking(bigint) TO tradesphere_app;
GRANT EXECUTE ON FUNCTION duplicate_blocking_candidates(uuid, bigint[], integer, integer) TO tradesphere_app;
