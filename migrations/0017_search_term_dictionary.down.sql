-- Back to the search of 0014: the dictionaries, their triggers, the new indexes and
-- helpers go; search_customer_hits is 0014's again.
DROP TRIGGER trg_customer_search_terms_insert ON customer_search;
DROP TRIGGER trg_customer_search_terms_update ON customer_search;
DROP TRIGGER trg_customer_search_terms_delete ON customer_search;
DROP FUNCTION customer_search_terms_sync();
DROP INDEX customer_search_name_idx;
DROP INDEX customer_search_email_stem_idx;
DROP INDEX customer_search_phone_idx;
DROP INDEX customer_search_name_order_idx;
DROP INDEX customer_search_phone_grams_idx;
DROP INDEX customer_search_email_trgm_idx;
CREATE INDEX customer_search_email_trgm_idx ON customer_search USING gin (company_id, email_lc gin_trgm_ops);
DROP TABLE search_email_stems;
DROP TABLE search_name_terms;

CREATE OR REPLACE FUNCTION search_customer_hits(p_query text, p_like text, p_digits text, p_limit integer)
  RETURNS TABLE (customer_id uuid, score float8, by_name boolean, by_email boolean, by_phone boolean)
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
BEGIN
  -- Fast path. A customer scores 1.0 on an exact match, 0.9 on a name or email
  -- prefix, and at most 0.8 otherwise. So when at least p_limit customers match
  -- exactly or by prefix (short, common queries: "Mich" at 1M customers), they are
  -- the answer, ranked among themselves, and no fuzzy candidate needs to be fetched
  -- or scored. The prefix sets come from btree ranges (text_pattern_ops).
  RETURN QUERY EXECUTE $q$
    WITH high AS (
      SELECT c.customer_id, c.name, c.email_lc, c.phone_digits FROM customer_search c
       WHERE c.company_id = app_current_company() AND lower(c.name) LIKE lower($2) || '%'
      UNION
      SELECT c.customer_id, c.name, c.email_lc, c.phone_digits FROM customer_search c
       WHERE c.company_id = app_current_company() AND c.email_lc LIKE lower($2) || '%'
      UNION
      SELECT c.customer_id, c.name, c.email_lc, c.phone_digits FROM customer_search c
       WHERE c.company_id = app_current_company() AND $3 IS NOT NULL AND c.phone_digits = $3
    ), counted AS (
      SELECT h.*, count(*) OVER () AS n FROM high h
    )
    SELECT s.customer_id,
           (CASE WHEN lower(s.name) = lower($1) OR s.email_lc = lower($1)
                      OR ($3 IS NOT NULL AND s.phone_digits = $3) THEN 1.0 ELSE 0.9 END)::float8,
           (s.name ILIKE '%' || $2 || '%' OR s.name % $1 OR $1 <% s.name),
           (s.email_lc LIKE '%' || lower($2) || '%' OR s.email_lc % lower($1)),
           ($3 IS NOT NULL AND s.phone_digits LIKE '%' || $3 || '%')
      FROM counted s
     WHERE s.n >= $4
     ORDER BY 2 DESC, lower(s.name) ASC NULLS LAST, s.customer_id
     LIMIT $4
  $q$ USING p_query, p_like, p_digits, p_limit;
  IF FOUND THEN
    RETURN;
  END IF;

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
             CASE WHEN lower(s.name) LIKE lower($2) || '%' OR s.email_lc LIKE lower($2) || '%' THEN 0.9 ELSE 0 END,
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

DROP FUNCTION search_phone_grams(text);
DROP FUNCTION search_email_stem(text);
