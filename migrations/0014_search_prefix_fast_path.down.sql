-- Back to the search of 0011.
CREATE OR REPLACE FUNCTION search_customer_hits(p_query text, p_like text, p_digits text, p_limit integer)
  RETURNS TABLE (customer_id uuid, score float8, by_name boolean, by_email boolean, by_phone boolean)
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
BEGIN
  -- EXECUTE: planned with the actual values each time (selectivity of the
  -- patterns matters more than the ~0.1 ms of planning).
  -- One indexed branch per predicate (an OR of them does not become a BitmapOr next
  -- to the company condition: the planner scanned the company instead), then the
  -- candidates are scored and ranked.
  RETURN QUERY EXECUTE $q$
    WITH candidates AS (
      SELECT c.customer_id, c.name, c.email_lc, c.phone_digits FROM customer_search c
       WHERE c.company_id = app_current_company() AND c.name % $1
      UNION
      SELECT c.customer_id, c.name, c.email_lc, c.phone_digits FROM customer_search c
       WHERE c.company_id = app_current_company() AND $1 <% c.name
      UNION
      SELECT c.customer_id, c.name, c.email_lc, c.phone_digits FROM customer_search c
       WHERE c.company_id = app_current_company() AND c.name ILIKE '%' || $2 || '%'
      UNION
      SELECT c.customer_id, c.name, c.email_lc, c.phone_digits FROM customer_search c
       WHERE c.company_id = app_current_company() AND c.email_lc LIKE '%' || lower($2) || '%'
      UNION
      SELECT c.customer_id, c.name, c.email_lc, c.phone_digits FROM customer_search c
       WHERE c.company_id = app_current_company() AND c.email_lc % lower($1)
      UNION
      SELECT c.customer_id, c.name, c.email_lc, c.phone_digits FROM customer_search c
       WHERE c.company_id = app_current_company() AND $3 IS NOT NULL AND c.phone_digits LIKE '%' || $3 || '%'
    )
    SELECT s.customer_id,
           greatest(
             CASE WHEN lower(s.name) = lower($1) OR s.email_lc = lower($1)
                       OR ($3 IS NOT NULL AND s.phone_digits = $3) THEN 1.0 ELSE 0 END,
             CASE WHEN s.name ILIKE $2 || '%' OR s.email_lc LIKE lower($2) || '%' THEN 0.9 ELSE 0 END,
             CASE WHEN s.name ILIKE '%' || $2 || '%' OR s.email_lc LIKE '%' || lower($2) || '%'
                       OR ($3 IS NOT NULL AND s.phone_digits LIKE '%' || $3 || '%')
                  THEN 0.7 ELSE 0 END,
             0.8 * coalesce(similarity(s.name, $1), 0),
             0.8 * coalesce(word_similarity($1, s.name), 0),
             0.6 * coalesce(similarity(s.email_lc, lower($1)), 0))::float8,
           (s.name ILIKE '%' || $2 || '%' OR s.name % $1 OR $1 <% s.name),
           (s.email_lc LIKE '%' || lower($2) || '%' OR s.email_lc % lower($1)),
           ($3 IS NOT NULL AND s.phone_digits LIKE '%' || $3 || '%')
      FROM candidates s
     ORDER BY 2 DESC, lower(s.name) ASC NULLS LAST, s.customer_id
     LIMIT $4
  $q$ USING p_query, p_like, p_digits, p_limit;
END
$$;
DROP INDEX customer_search_email_prefix_idx;
DROP INDEX customer_search_name_prefix_idx;
