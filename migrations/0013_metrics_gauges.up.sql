-- 0013 business gauges of GET /metrics (issue 7): the lifecycle stage distribution
-- and the duplicate rate of every company, as aggregate counts only.
--
-- /metrics is not tenant-scoped, while row-level security confines every query to
-- app.company_id (docs/database.md, "Tenant isolation"). customer_gauges() runs as
-- the owner (SECURITY DEFINER): it lists the companies (RLS on companies is
-- enabled, not forced, so its owner reads every row), enters each company in turn
-- (app_enter_company, as the trigger functions do), counts inside that tenant only,
-- and restores the caller's setting. No row data leaves it: one row per company and
-- lifecycle stage with active customers, holding
--   customers       active customers of that stage;
--   with_duplicate  those of them that share an email or phone matching key with at
--                   least one other active customer of the same company.
-- One statement per company over customers and customer_matching_keys; the service
-- calls it at most once per cache period (services/business_gauges.hpp).

CREATE FUNCTION customer_gauges()
  RETURNS TABLE (company_id uuid, lifecycle_stage text, customers bigint, with_duplicate bigint)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  v_company uuid;
  v_prev    text := current_setting('app.company_id', true);
BEGIN
  FOR v_company IN SELECT co.id FROM companies co ORDER BY co.id LOOP
    PERFORM app_enter_company(v_company);
    RETURN QUERY
      WITH active_keys AS (
        SELECT k.customer_id, count(*) OVER (PARTITION BY k.key_type, k.key_value) AS holders
          FROM customer_matching_keys k
          JOIN customers c ON c.company_id = k.company_id AND c.id = k.customer_id
         WHERE k.company_id = v_company AND k.key_type IN ('email', 'phone') AND c.status = 'active'
      ), duplicated AS (
        SELECT DISTINCT a.customer_id FROM active_keys a WHERE a.holders > 1
      )
      SELECT v_company, c.lifecycle_stage, count(*), count(d.customer_id)
        FROM customers c
        LEFT JOIN duplicated d ON d.customer_id = c.id
       WHERE c.company_id = v_company AND c.status = 'active'
       GROUP BY c.lifecycle_stage
       ORDER BY c.lifecycle_stage;
  END LOOP;
  PERFORM app_leave_company(v_prev);
END
$$;
REVOKE EXECUTE ON FUNCTION customer_gauges() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION customer_gauges() TO tradesphere_app;
