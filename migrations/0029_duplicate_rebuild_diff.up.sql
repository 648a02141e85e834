-- A rebuild writes only what changed in the stored blocking index (issue 13:
-- whole-company rebuild >= 20,000 records/s).
--
-- `duplicates rebuild` sent every active customer's keys to
-- store_duplicate_blocking() (0025), which compared each with the stored row
-- and skipped the unchanged ones, then finish_duplicate_blocking() (0022) looked
-- for rows of customers no longer active with an anti-join over the company:
-- ~2 s at 100k customers for a rebuild that changed nothing. Now the rebuild
-- reads the stored keys once (duplicate_blocking_rows), compares them in C++,
-- sends only the changed customers' keys, and removes exactly the rows of the
-- customers it no longer indexes (finish_duplicate_blocking_of).
--
-- Owner-only table, so both are SECURITY DEFINER doors acting on the tenant in
-- app.company_id (nothing without one), like 0022's.
CREATE FUNCTION duplicate_blocking_rows() RETURNS TABLE (customer_id uuid, keys bigint[])
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
  SELECT b.customer_id, b.keys FROM duplicate_blocking b WHERE b.company_id = (SELECT app_current_company())
$$;

-- Removes the rows of p_gone (customers the rebuild did not index: merged,
-- deleted or inactive when it read them; a customer active again keeps its row),
-- and records the company as indexed with p_customers customers.
CREATE FUNCTION finish_duplicate_blocking_of(p_gone uuid[], p_customers bigint) RETURNS bigint
  LANGUAGE sql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
  WITH gone AS (
    DELETE FROM duplicate_blocking b
     WHERE b.company_id = (SELECT app_current_company())
       AND b.customer_id = ANY (p_gone)
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

REVOKE EXECUTE ON FUNCTION duplicate_blocking_rows() FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION finish_duplicate_blocking_of(uuid[], bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION duplicate_blocking_rows() TO tradesphere_app;
GRANT EXECUTE ON FUNCTION finish_duplicate_blocking_of(uuid[], bigint) TO tradesphere_app;
