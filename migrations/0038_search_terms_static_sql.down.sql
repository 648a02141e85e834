-- Back to 0037: 0017's customer_search_terms_sync(), with its dynamic SQL.
CREATE OR REPLACE FUNCTION customer_search_terms_sync() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_rows text;   -- the statement's rows, +1 each new and -1 each old
  v_sql  text;
BEGIN
  v_rows := CASE TG_OP
    WHEN 'INSERT' THEN 'SELECT company_id, name, email_lc, 1 AS d FROM new_rows'
    WHEN 'DELETE' THEN 'SELECT company_id, name, email_lc, -1 AS d FROM old_rows'
    ELSE 'SELECT company_id, name, email_lc, 1 AS d FROM new_rows
          UNION ALL SELECT company_id, name, email_lc, -1 FROM old_rows' END;
  -- one statement per table and direction: positive deltas upserted, negative ones
  -- subtracted, terms left at 0 deleted
  FOREACH v_sql IN ARRAY ARRAY[
    $s$WITH d AS (SELECT company_id, name AS v, sum(d)::integer AS d FROM (%1$s) r
                   WHERE name IS NOT NULL GROUP BY 1, 2 HAVING sum(d) <> 0)
       INSERT INTO search_name_terms AS t (company_id, name, name_lc, customers)
       SELECT company_id, v, lower(v), d FROM d WHERE d > 0
       ON CONFLICT (company_id, name) DO UPDATE SET customers = t.customers + EXCLUDED.customers$s$,
    $s$WITH d AS (SELECT company_id, name AS v, sum(d)::integer AS d FROM (%1$s) r
                   WHERE name IS NOT NULL GROUP BY 1, 2 HAVING sum(d) < 0)
       UPDATE search_name_terms t SET customers = t.customers + d.d FROM d
        WHERE t.company_id = d.company_id AND t.name = d.v$s$,
    $s$DELETE FROM search_name_terms t USING (SELECT DISTINCT company_id, name FROM (%1$s) r WHERE d < 0) o
        WHERE t.company_id = o.company_id AND t.name = o.name AND t.customers = 0$s$,
    $s$WITH d AS (SELECT company_id, search_email_stem(email_lc) AS v, sum(d)::integer AS d FROM (%1$s) r
                   WHERE email_lc IS NOT NULL GROUP BY 1, 2 HAVING sum(d) <> 0)
       INSERT INTO search_email_stems AS t (company_id, stem, customers)
       SELECT company_id, v, d FROM d WHERE d > 0
       ON CONFLICT (company_id, stem) DO UPDATE SET customers = t.customers + EXCLUDED.customers$s$,
    $s$WITH d AS (SELECT company_id, search_email_stem(email_lc) AS v, sum(d)::integer AS d FROM (%1$s) r
                   WHERE email_lc IS NOT NULL GROUP BY 1, 2 HAVING sum(d) < 0)
       UPDATE search_email_stems t SET customers = t.customers + d.d FROM d
        WHERE t.company_id = d.company_id AND t.stem = d.v$s$,
    $s$DELETE FROM search_email_stems t
        USING (SELECT DISTINCT company_id, search_email_stem(email_lc) AS v FROM (%1$s) r WHERE d < 0) o
        WHERE t.company_id = o.company_id AND t.stem = o.v AND t.customers = 0$s$]
  LOOP
    EXECUTE format(v_sql, v_rows);
  END LOOP;
  RETURN NULL;
END
$$;
