-- Back to 0042: 0017's search_customer_hits (dynamic statements, three trigram scans).
CREATE OR REPLACE FUNCTION search_customer_hits(p_query text, p_like text, p_digits text, p_limit integer)
  RETURNS TABLE (customer_id uuid, score float8, by_name boolean, by_email boolean, by_phone boolean)
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  -- the ranking of 0011/0014, evaluated on the customer_search rows of $6 only
  k_rank constant text := $q$
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
             0.6 * coalesce(similarity(s.email_lc, lower($1)), 0))::float8 AS score,
           (s.name ILIKE '%' || $2 || '%' OR s.name % $1 OR $1 <% s.name) AS by_name,
           (s.email_lc LIKE '%' || lower($2) || '%' OR s.email_lc % lower($1)) AS by_email,
           ($3 IS NOT NULL AND s.phone_digits LIKE '%' || $3 || '%') AS by_phone
      FROM customer_search s
     WHERE s.company_id = $5 AND s.customer_id = ANY($6)
     ORDER BY 2 DESC, lower(s.name) ASC NULLS LAST, s.customer_id
     LIMIT $4 $q$;
  v_company   uuid := app_current_company();
  v_lq        text := lower(p_query);
  v_ids       uuid[];
  v_more      uuid[];
  v_high      uuid[];   -- step 1's exact and prefix matches
  v_k_score   float8;
  v_k_name    text;
  v_k_id      uuid;
  v_old       text;
  v_old_word  text;
  v_strict    float8;
  v_strict_word float8;
  v_pass      integer;
  v_bytewise  boolean := EXISTS (SELECT 1 FROM pg_database d
                                  WHERE d.datname = current_database() AND d.datlocprovider = 'c'
                                    AND d.datcollate IN ('C', 'POSIX', 'C.UTF-8', 'C.utf8'));
BEGIN
  IF v_company IS NULL OR p_query IS NULL OR p_limit IS NULL OR p_limit < 1 THEN
    RETURN;
  END IF;

  -- 1. Exact and prefix matches (score >= 0.9). When there are at least p_limit of
  --    them they are the answer (every other candidate scores <= 0.8).
  --    Name: the matching names in (exact first, lower(name)) order, only as many
  --    names as hold the first p_limit customers, p_limit customers per name at most.
  EXECUTE format($q$
    WITH first_names AS (   -- each name has a customer: the first p_limit names hold p_limit
      %s
    ), top AS (
      SELECT h.customer_id, t.name_lc = lower($1) AS exact, t.name_lc AS lname
        FROM first_names f
        JOIN search_name_terms t ON t.company_id = $5 AND t.name_lc COLLATE "C" = f.name_lc
        CROSS JOIN LATERAL (SELECT c.customer_id FROM customer_search c
                             WHERE c.company_id = $5 AND c.name = t.name
                             ORDER BY c.customer_id LIMIT $4) h
       ORDER BY 2 DESC, 3, 1
       LIMIT $4
    )
    SELECT (SELECT array_agg(customer_id) FROM top),
           (SELECT CASE WHEN exact THEN 1.0 ELSE 0.9 END FROM top ORDER BY exact DESC, lname, customer_id
             OFFSET $4 - 1 LIMIT 1),
           (SELECT lname FROM top ORDER BY exact DESC, lname, customer_id OFFSET $4 - 1 LIMIT 1),
           (SELECT customer_id FROM top ORDER BY exact DESC, lname, customer_id OFFSET $4 - 1 LIMIT 1)
  $q$, CASE WHEN v_bytewise THEN
      -- the database sorts text byte-wise (C, POSIX, C.UTF-8): the first names come in
      -- index order, without sorting every name of the prefix ("mich": ~3 200 at 1M)
      $f$(SELECT t.name_lc FROM search_name_terms t
           WHERE t.company_id = $5 AND t.name_lc COLLATE "C" = lower($1) LIMIT 1)
         UNION ALL
         (SELECT d.v COLLATE "default" FROM (
            SELECT DISTINCT t.name_lc COLLATE "C" AS v FROM search_name_terms t
             WHERE t.company_id = $5 AND t.name_lc COLLATE "C" LIKE lower($2) || '%'
             ORDER BY 1 LIMIT $4) d)$f$
    ELSE
      $f$SELECT t.name_lc FROM search_name_terms t
          WHERE t.company_id = $5 AND t.name_lc COLLATE "C" LIKE lower($2) || '%'
          GROUP BY t.name_lc
          ORDER BY t.name_lc = lower($1) DESC, t.name_lc
          LIMIT $4$f$
    END) INTO v_ids, v_k_score, v_k_name, v_k_id
  USING p_query, p_like, p_digits, p_limit, v_company;

  --    Exact email and phone (1.0).
  EXECUTE $q$
    SELECT array_agg(x.customer_id) FROM (
      SELECT c.customer_id FROM customer_search c WHERE c.company_id = $5 AND c.email_lc = lower($1)
      UNION
      SELECT c.customer_id FROM customer_search c
       WHERE c.company_id = $5 AND $3 IS NOT NULL AND c.phone_digits = $3) x
  $q$ INTO v_more USING p_query, p_like, p_digits, p_limit, v_company;
  v_ids := coalesce(v_ids, '{}') || coalesce(v_more, '{}');

  --    Email prefix (0.9): needed unless the names already hold p_limit exact matches;
  --    with p_limit prefix names, only customers ranked before the last of them.
  IF v_k_score IS NULL OR v_k_score < 1.0 THEN
    IF search_email_stem(v_lq) = v_lq THEN
      -- no digit, no '@': the stems starting with the query, each read in name order
      EXECUTE $q$
        SELECT array_agg(h.customer_id)
          FROM search_email_stems st
          CROSS JOIN LATERAL (
            SELECT c.customer_id FROM customer_search c
             WHERE c.company_id = $5 AND c.email_lc IS NOT NULL AND search_email_stem(c.email_lc) = st.stem
               AND ($6::text IS NULL OR (lower(c.name), c.customer_id) < ($6::text, $7::uuid))
             ORDER BY lower(c.name), c.customer_id
             LIMIT $4) h
         WHERE st.company_id = $5 AND st.stem LIKE lower($2) || '%'
      $q$ INTO v_more USING p_query, p_like, p_digits, p_limit, v_company, v_k_name, v_k_id;
    ELSE
      EXECUTE $q$
        SELECT array_agg(c.customer_id) FROM customer_search c
         WHERE c.company_id = $5 AND c.email_lc LIKE lower($2) || '%'
      $q$ INTO v_more USING p_query, p_like, p_digits, p_limit, v_company;
    END IF;
    v_ids := v_ids || coalesce(v_more, '{}');
  END IF;

  v_high := v_ids;
  IF cardinality(ARRAY(SELECT DISTINCT unnest(v_ids))) >= p_limit THEN
    RETURN QUERY EXECUTE k_rank USING p_query, p_like, p_digits, p_limit, v_company, v_ids;
    RETURN;
  END IF;

  -- 2. Fewer than p_limit score >= 0.9: every kind of candidate.
  --    Names: candidate names scored once each (the name part of the score); the
  --    best p_limit (score, lower(name)) groups hold the best p_limit customers, read
  --    p_limit per name at most. First with stricter trigram thresholds (fewer names
  --    to fetch and score): a name they leave out matches no substring and scores
  --    below 0.8 * the larger threshold, so when the p_limit-th customer found scores
  --    at least that, nothing left out can enter. Otherwise again with the defaults.
  PERFORM show_limit();   -- loads pg_trgm, so its settings exist
  v_old := current_setting('pg_trgm.similarity_threshold');
  v_old_word := current_setting('pg_trgm.word_similarity_threshold');
  v_strict := greatest(v_old::float8, 0.6);
  v_strict_word := greatest(v_old_word::float8, 0.6);
  FOR v_pass IN 1..2 LOOP
    IF v_pass = 1 THEN
      PERFORM set_config('pg_trgm.similarity_threshold', v_strict::text, true);
      PERFORM set_config('pg_trgm.word_similarity_threshold', v_strict_word::text, true);
    END IF;
    -- static SQL: planned once per session (the trigram conditions need no literal)
    WITH matched AS (
      SELECT t.name, t.name_lc FROM search_name_terms t WHERE t.company_id = v_company AND t.name % p_query
      UNION
      SELECT t.name, t.name_lc FROM search_name_terms t WHERE t.company_id = v_company AND p_query <% t.name
      UNION
      SELECT t.name, t.name_lc FROM search_name_terms t WHERE t.company_id = v_company AND t.name ILIKE '%' || p_like || '%'
    ), scored AS (
      SELECT m.name, m.name_lc,
             greatest(
               CASE WHEN m.name_lc = lower(p_query) THEN 1.0 ELSE 0 END,
               CASE WHEN m.name_lc LIKE lower(p_like) || '%' THEN 0.9 ELSE 0 END,
               CASE WHEN m.name ILIKE '%' || p_like || '%' THEN 0.7 ELSE 0 END,
               0.8 * coalesce(similarity(m.name, p_query), 0),
               0.8 * coalesce(word_similarity(p_query, m.name), 0))::float8 AS score
        FROM matched m
    ), best AS (   -- every name has a customer: p_limit groups hold p_limit customers
      SELECT s.score, s.name_lc FROM scored s GROUP BY 1, 2 ORDER BY 1 DESC, 2 LIMIT p_limit
    ), top AS (
      SELECT h.customer_id, s.score
        FROM scored s
        JOIN best b ON b.score = s.score AND b.name_lc = s.name_lc
        CROSS JOIN LATERAL (SELECT c.customer_id FROM customer_search c
                             WHERE c.company_id = v_company AND c.name = s.name
                             ORDER BY c.customer_id LIMIT p_limit) h
       ORDER BY s.score DESC, s.name_lc, h.customer_id
       LIMIT p_limit
    )
    SELECT array_agg(top.customer_id), CASE WHEN count(*) >= p_limit THEN min(top.score) END
      INTO v_ids, v_k_score FROM top;
    IF v_pass = 1 THEN
      PERFORM set_config('pg_trgm.similarity_threshold', v_old, true);
      PERFORM set_config('pg_trgm.word_similarity_threshold', v_old_word, true);
      EXIT WHEN v_k_score >= 0.8 * greatest(v_strict, v_strict_word);
    END IF;
  END LOOP;

  --    Email substrings and phone fragments. Their exact and prefix matches (at most
  --    p_limit - 1 of them, or step 1 would have answered) are in v_high; every other
  --    match scores 0.7 in its part, so the part's best are the first p_limit matches
  --    in name order (read in that order from customer_search_name_order_idx when the
  --    fragment is common, "gmail"; sorted when it is rare).
  EXECUTE $q$
    SELECT array_agg(x.customer_id) FROM (
      (SELECT c.customer_id FROM customer_search c
        WHERE c.company_id = $5 AND c.email_lc LIKE '%' || lower($2) || '%'
        ORDER BY lower(c.name), c.customer_id LIMIT $4)
      UNION ALL
      (SELECT c.customer_id FROM customer_search c
        WHERE c.company_id = $5 AND $3 ~ '^[0-9]{5,}$'
          AND search_phone_grams(c.phone_digits) @> search_phone_grams($3)
          AND c.phone_digits LIKE '%' || $3 || '%'
        ORDER BY lower(c.name), c.customer_id LIMIT $4)
      UNION ALL
      (SELECT c.customer_id FROM customer_search c
        WHERE c.company_id = $5 AND $3 IS NOT NULL AND NOT $3 ~ '^[0-9]{5,}$'
          AND c.phone_digits LIKE '%' || $3 || '%'
        ORDER BY lower(c.name), c.customer_id LIMIT $4)) x
  $q$ INTO v_more USING p_query, p_like, p_digits, p_limit, v_company;
  v_ids := coalesce(v_ids, '{}') || v_high || coalesce(v_more, '{}');

  --    Email similarity (at most 0.6 * similarity): only emails that can reach the
  --    p_limit-th score so far, by raising the trigram threshold for this statement.
  EXECUTE 'SELECT CASE WHEN count(*) >= $4 THEN min(x.score) END FROM (' || k_rank || ') x'
     INTO v_k_score USING p_query, p_like, p_digits, p_limit, v_company, v_ids;
  IF v_k_score IS NULL OR v_k_score <= 0.6 THEN
    IF v_k_score IS NOT NULL THEN
      PERFORM set_config('pg_trgm.similarity_threshold',
                         greatest(v_old::float8, v_k_score / 0.6 - 1e-6)::text, true);
    END IF;
    EXECUTE $q$
      SELECT array_agg(c.customer_id) FROM customer_search c
       WHERE c.company_id = $5 AND c.email_lc % lower($1)
    $q$ INTO v_more USING p_query, p_like, p_digits, p_limit, v_company;
    PERFORM set_config('pg_trgm.similarity_threshold', v_old, true);
    v_ids := v_ids || coalesce(v_more, '{}');
  END IF;

  RETURN QUERY EXECUTE k_rank USING p_query, p_like, p_digits, p_limit, v_company, v_ids;
END
$$;
