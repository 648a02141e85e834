-- The first rebuild of a large company no longer slows down as it writes (issue 13).
--
-- store_duplicate_blocking() (0025) skipped a customer whose stored keys were
-- unchanged with NOT EXISTS over duplicate_blocking. A rebuild writes a whole
-- company in one transaction; on its first run every customer is new, the
-- table's statistics still say it is empty, and the planner answered the
-- NOT EXISTS with a nested-loop anti-join over a materialized scan of the rows
-- written so far: each call re-read everything before it. On a freshly seeded
-- company of 1M customers the calls took 10-50 s each after the first 9,000
-- customers (a tuplestore spilled to disk and rescanned, seen with perf), and the
-- rebuild did not finish in 10 minutes. Since 0029 the rebuild sends only the
-- customers whose keys changed, so the check is left to ON CONFLICT, which always
-- goes through the primary key: an unchanged row is neither updated nor counted,
-- as before.
CREATE OR REPLACE FUNCTION store_duplicate_blocking(p_ids uuid[], p_lengths integer[], p_keys bigint[]) RETURNS bigint
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
    ON CONFLICT (company_id, customer_id) DO UPDATE SET keys = EXCLUDED.keys
     WHERE b.keys IS DISTINCT FROM EXCLUDED.keys
    RETURNING 1)
  SELECT count(*) FROM written
$$;
