-- Back to counting each lookup hash's block on every call (0022).
DROP FUNCTION store_duplicate_block_sizes(bigint[], integer[]);
DROP TABLE duplicate_block_sizes;

-- the keys as jsonb again (0022)
DROP FUNCTION store_duplicate_blocking(uuid[], integer[], bigint[]);
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
REVOKE EXECUTE ON FUNCTION store_duplicate_blocking(jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION store_duplicate_blocking(jsonb) TO tradesphere_app;

-- The customers of the current tenant, other than p_customer, holding one of the
-- p_lookup hashes, at most p_limit of them. Each hash's block is counted through
-- the GIN index up to p_max_block + 1 only (a huge block costs no more than a
-- small one) and skipped beyond p_max_block; the others are taken smallest block
-- first while the running total fits p_limit (a block of <= 50 always): the
-- specific keys (email, phone, name + postcode, number + street) are small, the
-- weak ones (given name + town) large, so the budget drops what rarely pays.
CREATE OR REPLACE FUNCTION duplicate_blocking_candidates(p_customer uuid, p_lookup bigint[], p_max_block integer,
                                              p_limit integer)
  RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER
  ROWS 200
  SET search_path = public, pg_temp
AS $$
  WITH sized AS (
    SELECT k, (SELECT count(*) FROM (SELECT 1 FROM duplicate_blocking b
                                      WHERE b.keys @> ARRAY[k] LIMIT p_max_block + 1) n) AS n
      FROM unnest(p_lookup) AS k
  ), usable AS (
    SELECT k FROM (SELECT k, n, sum(n) OVER (ORDER BY n, k) AS running
                     FROM sized WHERE n >= 2 AND n <= p_max_block) s  -- n counts the customer itself
     WHERE n <= 50 OR running <= p_limit
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
