-- 0025's store_duplicate_blocking, with its NOT EXISTS.
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
       AND NOT EXISTS (SELECT 1 FROM duplicate_blocking o
                        WHERE o.company_id = c.company AND o.customer_id = e.id AND o.keys = e.keys)
    ON CONFLICT (company_id, customer_id) DO UPDATE SET keys = EXCLUDED.keys
    RETURNING 1)
  SELECT count(*) FROM written
$$;
