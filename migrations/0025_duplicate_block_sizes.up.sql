-- Stored block sizes for the per-customer duplicate lookup (issue 13: <= 5 ms
-- per customer at 1M customers).
--
-- duplicate_blocking_candidates() (0022) counted every lookup hash's block
-- through the GIN index on each call, up to 301 heap rows per hash, to take the
-- blocks smallest first within the candidate budget: at 1M customers ~19 ms of
-- the ~22 ms of scoring one customer. The sizes hardly change between two
-- rebuilds, and only the large blocks matter to the budget (a block of at most
-- 50 customers is always read). So `duplicates rebuild` now stores the size of
-- every block of more than 50 customers (the C++ rebuild counts them from the
-- keys it writes: domain::blocks_larger_than, kAlwaysReadBlock), and the lookup
-- reads a size from here instead of counting: a hash without a row is a small
-- block, read whole.
--
-- Between two rebuilds the sizes are those of the last one: a block that grew
-- past 50 since is read whole (bounded by the LIMIT on the hits below), a block
-- that shrank keeps its old size. Owner-only like duplicate_blocking: RLS
-- enabled, not forced, granted to nobody; read and written through the doors.
CREATE TABLE duplicate_block_sizes (
  company_id uuid    NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
  key        bigint  NOT NULL,
  size       integer NOT NULL CHECK (size > 0),
  CONSTRAINT duplicate_block_sizes_pkey PRIMARY KEY (company_id, key)
);
ALTER TABLE duplicate_block_sizes ENABLE ROW LEVEL SECURITY;  -- deliberately not FORCED: owner-only table
CREATE POLICY tenant_isolation ON duplicate_block_sizes
  USING (company_id = (SELECT app_current_company())) WITH CHECK (company_id = (SELECT app_current_company()));

-- Companies indexed before this migration: their sizes from the stored keys
-- (the same threshold as kAlwaysReadBlock).
INSERT INTO duplicate_block_sizes (company_id, key, size)
SELECT b.company_id, k, count(*)
  FROM duplicate_blocking b, unnest(b.keys) AS k
 GROUP BY b.company_id, k
HAVING count(*) > 50;

-- The keys of some customers of the current tenant, as three arrays instead of
-- 0022's jsonb ([{"id", "keys"}]): customer p_ids[i] holds the next p_lengths[i]
-- hashes of p_keys. At 100k customers a rebuild spent 1.5 s in jsonb parsing;
-- array input is a fraction of that. Unchanged keys are filtered out before
-- the INSERT: ON CONFLICT ... WHERE would lock (and so write) every existing
-- row even when it leaves it unchanged.
DROP FUNCTION store_duplicate_blocking(jsonb);
CREATE FUNCTION store_duplicate_blocking(p_ids uuid[], p_lengths integer[], p_keys bigint[]) RETURNS bigint
  LANGUAGE sql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
  WITH spans AS (
    SELECT u.id, u.len, (sum(u.len) OVER (ORDER BY u.ord) - u.len)::integer AS start
      FROM unnest(p_ids, p_lengths) WITH ORDINALITY AS u (id, len, ord)
  ), entries AS (
    SELECT sp.id, coalesce(p_keys[sp.start + 1 : sp.start + sp.len], '{}') AS keys FROM spans sp
  ), written AS (
    INSERT INTO duplicate_blocking AS b (company_id, customer_id, keys)
    SELECT c.company, e.id, e.keys
      FROM entries e, (SELECT app_current_company() AS company) c
     WHERE c.company IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM duplicate_blocking o
                        WHERE o.company_id = c.company AND o.customer_id = e.id AND o.keys = e.keys)
    ON CONFLICT (company_id, customer_id) DO UPDATE SET keys = EXCLUDED.keys
    RETURNING 1)
  SELECT count(*) FROM written
$$;

-- Replaces the current tenant's block sizes (p_keys[i] has p_sizes[i] customers).
CREATE FUNCTION store_duplicate_block_sizes(p_keys bigint[], p_sizes integer[]) RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_company uuid := app_current_company();
  v_written bigint;
BEGIN
  IF v_company IS NULL THEN
    RETURN 0;
  END IF;
  DELETE FROM duplicate_block_sizes WHERE company_id = v_company;
  INSERT INTO duplicate_block_sizes (company_id, key, size)
  SELECT v_company, u.k, u.n FROM unnest(p_keys, p_sizes) AS u (k, n);
  GET DIAGNOSTICS v_written = ROW_COUNT;
  RETURN v_written;
END
$$;

-- As in 0022, with the stored sizes: the hashes without a stored size (small
-- blocks) are read whole; the large ones smallest first while the running total
-- fits p_limit, none above p_max_block. The tenant is computed once
-- ((SELECT ...) is an InitPlan), not per row.
CREATE OR REPLACE FUNCTION duplicate_blocking_candidates(p_customer uuid, p_lookup bigint[], p_max_block integer,
                                                         p_limit integer)
  RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER
  ROWS 200
  SET search_path = public, pg_temp
AS $$
  WITH sized AS (
    SELECT k, (SELECT s.size FROM duplicate_block_sizes s
                WHERE s.company_id = (SELECT app_current_company()) AND s.key = k) AS n
      FROM unnest(p_lookup) AS k
  ), usable AS (
    SELECT k FROM sized WHERE n IS NULL
    UNION ALL
    SELECT k FROM (SELECT k, sum(n) OVER (ORDER BY n, k) AS running
                     FROM sized WHERE n <= p_max_block) s
     WHERE running <= p_limit
  ), hits AS MATERIALIZED (
    -- the GIN lookup alone: with the tenant beside it the planner may walk the
    -- tenant's primary key instead (every row of a large company); the LIMIT
    -- bounds a small block that grew large since the last rebuild
    SELECT b.company_id, b.customer_id FROM duplicate_blocking b
     WHERE b.keys && ARRAY(SELECT k FROM usable)
     LIMIT 10 * greatest(p_limit, 0)
  )
  SELECT DISTINCT h.customer_id
    FROM hits h
   WHERE h.company_id = (SELECT app_current_company()) AND h.customer_id <> p_customer
   LIMIT greatest(p_limit, 0)
$$;

REVOKE EXECUTE ON FUNCTION store_duplicate_blocking(uuid[], integer[], bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION store_duplicate_blocking(uuid[], integer[], bigint[]) TO tradesphere_app;
REVOKE EXECUTE ON FUNCTION store_duplicate_block_sizes(bigint[], integer[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION store_duplicate_block_sizes(bigint[], integer[]) TO tradesphere_app;
