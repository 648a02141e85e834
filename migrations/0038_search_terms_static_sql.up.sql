-- The search dictionary's trigger without dynamic SQL (issue 15, write path).
--
-- customer_search_terms_sync() (0017) keeps search_name_terms and search_email_stems
-- exact with six statements per customer_search statement, built with format() and run
-- with EXECUTE: each parsed and planned again on every call, and for an INSERT four of
-- them (the subtractions and the removal of terms left at 0) cannot change anything. A
-- chat row from a new contact (one customer, one search row) spent ~3 ms there, most of
-- the search row's cost. Now the same statements are static SQL, chosen by TG_OP, so
-- PL/pgSQL keeps their plans for the session; an INSERT runs the two upserts, a DELETE
-- the two subtractions and two removals, an UPDATE all six, in 0017's order, with the
-- same row sets (+1 per new row, -1 per old row), the same grouping and the same lock
-- order per table. The counts stay equal to a recount (SearchOracleTest's
-- kDictionaryDrift after every write; ChatIngestBatchTest compares them with the
-- row-by-row paths).
CREATE OR REPLACE FUNCTION customer_search_terms_sync() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
BEGIN
  -- per operation, the statements of 0017 that can change something (an insert only
  -- adds, a delete only subtracts), as static SQL: planned once per session
  IF TG_OP = 'INSERT' THEN
    WITH d AS (SELECT company_id, name AS v, sum(d)::integer AS d FROM (SELECT company_id, name, email_lc, 1 AS d FROM new_rows) r
                WHERE name IS NOT NULL GROUP BY 1, 2 HAVING sum(d) <> 0)
    INSERT INTO search_name_terms AS t (company_id, name, name_lc, customers)
    SELECT company_id, v, lower(v), d FROM d WHERE d > 0
    ON CONFLICT (company_id, name) DO UPDATE SET customers = t.customers + EXCLUDED.customers;
    WITH d AS (SELECT company_id, search_email_stem(email_lc) AS v, sum(d)::integer AS d FROM (SELECT company_id, name, email_lc, 1 AS d FROM new_rows) r
                WHERE email_lc IS NOT NULL GROUP BY 1, 2 HAVING sum(d) <> 0)
    INSERT INTO search_email_stems AS t (company_id, stem, customers)
    SELECT company_id, v, d FROM d WHERE d > 0
    ON CONFLICT (company_id, stem) DO UPDATE SET customers = t.customers + EXCLUDED.customers;
  ELSIF TG_OP = 'UPDATE' THEN
    WITH d AS (SELECT company_id, name AS v, sum(d)::integer AS d FROM (SELECT company_id, name, email_lc, 1 AS d FROM new_rows
                      UNION ALL SELECT company_id, name, email_lc, -1 FROM old_rows) r
                WHERE name IS NOT NULL GROUP BY 1, 2 HAVING sum(d) <> 0)
    INSERT INTO search_name_terms AS t (company_id, name, name_lc, customers)
    SELECT company_id, v, lower(v), d FROM d WHERE d > 0
    ON CONFLICT (company_id, name) DO UPDATE SET customers = t.customers + EXCLUDED.customers;
    WITH d AS (SELECT company_id, name AS v, sum(d)::integer AS d FROM (SELECT company_id, name, email_lc, 1 AS d FROM new_rows
                      UNION ALL SELECT company_id, name, email_lc, -1 FROM old_rows) r
                WHERE name IS NOT NULL GROUP BY 1, 2 HAVING sum(d) < 0)
    UPDATE search_name_terms t SET customers = t.customers + d.d FROM d
     WHERE t.company_id = d.company_id AND t.name = d.v;
    DELETE FROM search_name_terms t USING (SELECT DISTINCT company_id, name FROM (SELECT company_id, name, email_lc, 1 AS d FROM new_rows
                      UNION ALL SELECT company_id, name, email_lc, -1 FROM old_rows) r WHERE d < 0) o
     WHERE t.company_id = o.company_id AND t.name = o.name AND t.customers = 0;
    WITH d AS (SELECT company_id, search_email_stem(email_lc) AS v, sum(d)::integer AS d FROM (SELECT company_id, name, email_lc, 1 AS d FROM new_rows
                      UNION ALL SELECT company_id, name, email_lc, -1 FROM old_rows) r
                WHERE email_lc IS NOT NULL GROUP BY 1, 2 HAVING sum(d) <> 0)
    INSERT INTO search_email_stems AS t (company_id, stem, customers)
    SELECT company_id, v, d FROM d WHERE d > 0
    ON CONFLICT (company_id, stem) DO UPDATE SET customers = t.customers + EXCLUDED.customers;
    WITH d AS (SELECT company_id, search_email_stem(email_lc) AS v, sum(d)::integer AS d FROM (SELECT company_id, name, email_lc, 1 AS d FROM new_rows
                      UNION ALL SELECT company_id, name, email_lc, -1 FROM old_rows) r
                WHERE email_lc IS NOT NULL GROUP BY 1, 2 HAVING sum(d) < 0)
    UPDATE search_email_stems t SET customers = t.customers + d.d FROM d
     WHERE t.company_id = d.company_id AND t.stem = d.v;
    DELETE FROM search_email_stems t
     USING (SELECT DISTINCT company_id, search_email_stem(email_lc) AS v FROM (SELECT company_id, name, email_lc, 1 AS d FROM new_rows
                      UNION ALL SELECT company_id, name, email_lc, -1 FROM old_rows) r WHERE d < 0) o
     WHERE t.company_id = o.company_id AND t.stem = o.v AND t.customers = 0;
  ELSIF TG_OP = 'DELETE' THEN
    WITH d AS (SELECT company_id, name AS v, sum(d)::integer AS d FROM (SELECT company_id, name, email_lc, -1 AS d FROM old_rows) r
                WHERE name IS NOT NULL GROUP BY 1, 2 HAVING sum(d) < 0)
    UPDATE search_name_terms t SET customers = t.customers + d.d FROM d
     WHERE t.company_id = d.company_id AND t.name = d.v;
    DELETE FROM search_name_terms t USING (SELECT DISTINCT company_id, name FROM (SELECT company_id, name, email_lc, -1 AS d FROM old_rows) r WHERE d < 0) o
     WHERE t.company_id = o.company_id AND t.name = o.name AND t.customers = 0;
    WITH d AS (SELECT company_id, search_email_stem(email_lc) AS v, sum(d)::integer AS d FROM (SELECT company_id, name, email_lc, -1 AS d FROM old_rows) r
                WHERE email_lc IS NOT NULL GROUP BY 1, 2 HAVING sum(d) < 0)
    UPDATE search_email_stems t SET customers = t.customers + d.d FROM d
     WHERE t.company_id = d.company_id AND t.stem = d.v;
    DELETE FROM search_email_stems t
     USING (SELECT DISTINCT company_id, search_email_stem(email_lc) AS v FROM (SELECT company_id, name, email_lc, -1 AS d FROM old_rows) r WHERE d < 0) o
     WHERE t.company_id = o.company_id AND t.stem = o.v AND t.customers = 0;
  END IF;
  RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION customer_search_terms_sync() FROM PUBLIC;
