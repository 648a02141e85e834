-- 0047 Typos whose 20th customer scores below 0.48 (issue 14): intermediate trigram passes.
--
-- Same signature, same ranking, same candidate sets as 0045 (and 0017). 0045 matched the
-- names of a typo in two passes: a scan `name %> query` at 0.6 (the stricter thresholds)
-- and, when the p_limit-th customer found there scored below 0.8 * 0.6 = 0.48, a scan at
-- 0.3, the lower default threshold. At 1M customers (132,757 names) that scan returns
-- 1,800-4,400 names for a two-word typo ("Wiliam Brwon", "Mihcael Jonson"), each rechecked
-- on the heap with word_similarity() and then tested with similarity() and
-- word_similarity() (~4-6 us a name): 13-35 ms, while the candidates are 29-312 names and
-- the answer's 20th score is 0.33-0.46 (auto_explain, pg_stat_statements with track = all:
-- the default pass was 60-90 % of the function's time).
--
-- Now up to three passes in between, each stopping the search as soon as its p_limit-th
-- customer scores at least 0.8 * its scan threshold w. Exact for the same reason as 0045's
-- first pass: a name a scan at w leaves out matches no substring and has
-- word_similarity(query, name) < w, hence similarity(name, query) < w (word_similarity is
-- never below similarity, 0045 3.), so it scores below 0.8 * w. These passes apply the
-- default candidate test; the last pass is 0045's default pass and always answers.
-- Their thresholds follow pg_trgm's GIN test: the scan at w reads the names sharing at
-- least r of the query's n distinct trigrams, r the least with r / n >= w (float4). The
-- steps are the r of 0.5, 0.45 and 0.4, each scanned at the lowest threshold with that r,
-- (r - 1) / n + 1e-6: the same index work as at 0.5 / 0.45 / 0.4 and a lower score to stop
-- at; equal r are one step, and a step runs only strictly between the first and the last
-- pass's thresholds (n = 15 trigrams, "Mihcael Jonson": 0.4667, 0.4000, 0.3333; n = 7,
-- "Jnoson": 0.4286 only, 0.4 needing the same 3 trigrams as the default 0.3; n = 20: 0.45
-- and 0.35, since 9 / 20 in float4 is below 0.45). Nothing else changes.
CREATE OR REPLACE FUNCTION search_customer_hits(p_query text, p_like text, p_digits text, p_limit integer)
  RETURNS TABLE (customer_id uuid, score float8, by_name boolean, by_email boolean, by_phone boolean)
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = public, pg_temp
  SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
DECLARE
  v_company   uuid := app_current_company();
  v_lq        text := lower(p_query);
  v_hi        text;     -- [v_lq, v_hi) in byte order: the strings starting with v_lq
  v_cp        integer;
  v_ids       uuid[];
  v_more      uuid[];
  v_high      uuid[];   -- step 1's exact and prefix matches
  v_top       uuid[];   -- step 2: the best p_limit of every part but the email similarity
  v_k_score   float8;
  v_k_name    text;
  v_k_id      uuid;
  v_old       text;
  v_old_word  text;
  v_strict    float8;
  v_strict_word float8;
  v_sim       float8;
  v_word      float8;
  v_pass      integer;
  v_floors    float8[];   -- step 2's scan thresholds, one per pass
  v_floor_last float8;
  v_nq        integer;    -- the query's distinct trigrams
  v_bytewise  boolean := EXISTS (SELECT 1 FROM pg_database d
                                  WHERE d.datname = current_database() AND d.datlocprovider = 'c'
                                    AND d.datcollate IN ('C', 'POSIX', 'C.UTF-8', 'C.utf8'));
BEGIN
  IF v_company IS NULL OR p_query IS NULL OR p_limit IS NULL OR p_limit < 1 THEN
    RETURN;
  END IF;

  -- the successor of the prefix in byte order (NULL: none, or not UTF-8)
  IF getdatabaseencoding() = 'UTF8' THEN
    v_hi := v_lq;
    LOOP
      EXIT WHEN v_hi = '';
      v_cp := ascii(right(v_hi, 1));
      IF v_cp < 1114111 THEN   -- U+10FFFF has no successor: drop it, increment the one before
        v_hi := left(v_hi, -1) || chr(CASE WHEN v_cp = 55295 THEN 57344 ELSE v_cp + 1 END);   -- skip surrogates
        EXIT;
      END IF;
      v_hi := left(v_hi, -1);
    END LOOP;
    IF v_hi = '' THEN
      v_hi := NULL;
    END IF;
  END IF;

  -- 1. Exact and prefix matches (score >= 0.9). When there are at least p_limit of
  --    them they are the answer (every other candidate scores <= 0.8).
  --    Name: the matching names in (exact first, lower(name)) order, only as many
  --    names as hold the first p_limit customers, p_limit customers per name at most.
  IF v_bytewise AND v_hi IS NOT NULL THEN
    -- the first names come in index order (byte-wise), the prefix as a range
    WITH first_names AS (   -- each name has a customer: the first p_limit names hold p_limit
      (SELECT t.name_lc FROM search_name_terms t
        WHERE t.company_id = v_company AND t.name_lc COLLATE "C" = v_lq LIMIT 1)
      UNION ALL
      (SELECT d.v COLLATE "default" FROM (
         SELECT DISTINCT t.name_lc COLLATE "C" AS v FROM search_name_terms t
          WHERE t.company_id = v_company
            AND t.name_lc COLLATE "C" >= v_lq AND t.name_lc COLLATE "C" < v_hi
            AND t.name_lc COLLATE "C" LIKE lower(p_like) || '%'
          ORDER BY 1 LIMIT p_limit) d)
    ), top AS (
      SELECT h.customer_id, t.name_lc = v_lq AS exact, t.name_lc AS lname
        FROM first_names f
        JOIN search_name_terms t ON t.company_id = v_company AND t.name_lc COLLATE "C" = f.name_lc
        CROSS JOIN LATERAL (SELECT c.customer_id FROM customer_search c
                             WHERE c.company_id = v_company AND c.name = t.name
                             ORDER BY c.customer_id LIMIT p_limit) h
       ORDER BY 2 DESC, 3, 1
       LIMIT p_limit
    )
    SELECT (SELECT array_agg(top.customer_id) FROM top),
           (SELECT CASE WHEN top.exact THEN 1.0 ELSE 0.9 END FROM top
             ORDER BY top.exact DESC, top.lname, top.customer_id OFFSET p_limit - 1 LIMIT 1),
           (SELECT top.lname FROM top ORDER BY top.exact DESC, top.lname, top.customer_id OFFSET p_limit - 1 LIMIT 1),
           (SELECT top.customer_id FROM top ORDER BY top.exact DESC, top.lname, top.customer_id OFFSET p_limit - 1 LIMIT 1)
      INTO v_ids, v_k_score, v_k_name, v_k_id;
  ELSE
    -- 0017's statement, built as text (a literal prefix, the database's sort)
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
  END IF;

  --    Exact email and phone (1.0).
  SELECT array_agg(x.customer_id) INTO v_more FROM (
    SELECT c.customer_id FROM customer_search c WHERE c.company_id = v_company AND c.email_lc = v_lq
    UNION
    SELECT c.customer_id FROM customer_search c
     WHERE c.company_id = v_company AND p_digits IS NOT NULL AND c.phone_digits = p_digits) x;
  v_ids := coalesce(v_ids, '{}') || coalesce(v_more, '{}');

  --    Email prefix (0.9): needed unless the names already hold p_limit exact matches;
  --    with p_limit prefix names, only customers ranked before the last of them.
  IF v_k_score IS NULL OR v_k_score < 1.0 THEN
    IF search_email_stem(v_lq) = v_lq AND v_hi IS NOT NULL THEN
      -- no digit, no '@': the stems starting with the query, each read in name order
      IF v_k_name IS NULL THEN
        SELECT array_agg(h.customer_id) INTO v_more
          FROM search_email_stems st
          CROSS JOIN LATERAL (
            SELECT c.customer_id FROM customer_search c
             WHERE c.company_id = v_company AND c.email_lc IS NOT NULL AND search_email_stem(c.email_lc) = st.stem
             ORDER BY lower(c.name), c.customer_id
             LIMIT p_limit) h
         WHERE st.company_id = v_company AND st.stem ~>=~ v_lq AND st.stem ~<~ v_hi
           AND st.stem LIKE lower(p_like) || '%';
      ELSE
        SELECT array_agg(h.customer_id) INTO v_more
          FROM search_email_stems st
          CROSS JOIN LATERAL (
            SELECT c.customer_id FROM customer_search c
             WHERE c.company_id = v_company AND c.email_lc IS NOT NULL AND search_email_stem(c.email_lc) = st.stem
               AND (lower(c.name), c.customer_id) < (v_k_name, v_k_id)
             ORDER BY lower(c.name), c.customer_id
             LIMIT p_limit) h
         WHERE st.company_id = v_company AND st.stem ~>=~ v_lq AND st.stem ~<~ v_hi
           AND st.stem LIKE lower(p_like) || '%';
      END IF;
    ELSIF v_hi IS NOT NULL THEN
      -- the prefix test as left() = : a LIKE with a parameter would let the generic plan
      -- AND the range with a trigram scan of every email holding the query's trigrams
      SELECT array_agg(c.customer_id) INTO v_more FROM customer_search c
       WHERE c.company_id = v_company AND c.email_lc ~>=~ v_lq AND c.email_lc ~<~ v_hi
         AND left(c.email_lc, length(v_lq)) = v_lq;
    ELSIF search_email_stem(v_lq) = v_lq THEN
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
    -- every candidate here is an exact or prefix match (1.0 or 0.9): the ranking's other
    -- parts (0.7, at most 0.8 * similarity) cannot be its greatest, so they are not computed
    RETURN QUERY
      SELECT s.customer_id,
             greatest(
               CASE WHEN lower(s.name) = v_lq OR s.email_lc = v_lq
                         OR (p_digits IS NOT NULL AND s.phone_digits = p_digits) THEN 1.0 ELSE 0 END,
               CASE WHEN lower(s.name) LIKE lower(p_like) || '%' OR s.email_lc LIKE lower(p_like) || '%' THEN 0.9 ELSE 0 END
             )::float8,
             (s.name ILIKE '%' || p_like || '%' OR s.name % p_query OR p_query <% s.name),
             (s.email_lc LIKE '%' || lower(p_like) || '%' OR s.email_lc % v_lq),
             (p_digits IS NOT NULL AND s.phone_digits LIKE '%' || p_digits || '%')
        FROM customer_search s
       WHERE s.company_id = v_company AND s.customer_id = ANY(v_ids)
       ORDER BY 2 DESC, lower(s.name) ASC NULLS LAST, s.customer_id
       LIMIT p_limit;
    RETURN;
  END IF;

  -- 2. Fewer than p_limit score >= 0.9: every kind of candidate.
  --    Names: candidate names scored once each (the name part of the score); the
  --    best p_limit (score, lower(name)) groups hold the best p_limit customers, read
  --    p_limit per name at most. The names come from one trigram scan `name %> query`
  --    (word threshold w) with the ILIKE scan; on the rows found the candidate test
  --    (similarity >= v_sim OR word_similarity >= v_word OR the substring). A name the
  --    scan leaves out matches no substring and has word_similarity(query, name) < w,
  --    so also similarity < w (see 3. above): it scores below 0.8 * w. When the
  --    p_limit-th customer found scores at least that, nothing left out can enter.
  --    Pass 1: the stricter thresholds (0.6: fewer names to fetch and score). Then up
  --    to three scans between 0.6 and 0.3 with the default candidate test (0047: most
  --    typos' p_limit-th customer scores 0.32..0.48, and a scan at 0.3 rechecks
  --    thousands of names), the last pass with the defaults, which always answers.
  PERFORM show_limit();   -- loads pg_trgm, so its settings exist
  v_old := current_setting('pg_trgm.similarity_threshold');
  v_old_word := current_setting('pg_trgm.word_similarity_threshold');
  v_strict := greatest(v_old::float8, 0.6);
  v_strict_word := greatest(v_old_word::float8, 0.6);
  v_floor_last := least(v_old::float8, v_old_word::float8);
  -- The passes' scan thresholds: strict, the steps strictly between, the defaults. The
  -- GIN scan at w returns the names sharing at least r of the query's n trigrams, r the
  -- least with r / n >= w (float4, as pg_trgm computes it); each step scans for the r of
  -- 0.5, 0.45 and 0.4 at the lowest threshold with that r, (r - 1) / n + 1e-6: the same
  -- index work, the weakest bound 0.8 * w to stop at. Steps with equal r are one step.
  v_nq := cardinality(show_trgm(p_query));
  v_floors := ARRAY[least(v_strict, v_strict_word)]
              || ARRAY(SELECT DISTINCT s.w FROM (
                         SELECT ((min(k.k) - 1)::float4 / v_nq::float4)::float8 + 1e-6 AS w
                           FROM unnest(ARRAY[0.5, 0.45, 0.4]::float8[]) f(f)
                           CROSS JOIN generate_series(1, v_nq) k(k)
                          WHERE (k.k::float4 / v_nq::float4) >= f.f
                          GROUP BY f.f) s
                        WHERE s.w < least(v_strict, v_strict_word) AND s.w > v_floor_last
                        ORDER BY s.w DESC)
              || ARRAY[v_floor_last];
  FOR v_pass IN 1..cardinality(v_floors) LOOP
    v_sim := CASE WHEN v_pass = 1 THEN v_strict ELSE v_old::float8 END;
    v_word := CASE WHEN v_pass = 1 THEN v_strict_word ELSE v_old_word::float8 END;
    -- one index scan finds the names of both operators (see 3. above)
    PERFORM set_config('pg_trgm.word_similarity_threshold', v_floors[v_pass]::text, true);
    WITH matched AS (
      SELECT t.name, t.name_lc FROM search_name_terms t
       WHERE t.company_id = v_company
         AND (t.name %> p_query OR t.name ILIKE '%' || p_like || '%')
         AND (similarity(t.name, p_query) >= v_sim OR word_similarity(p_query, t.name) >= v_word
              OR t.name ILIKE '%' || p_like || '%')
    ), scored AS (
      SELECT m.name, m.name_lc,
             greatest(
               CASE WHEN m.name_lc = v_lq THEN 1.0 ELSE 0 END,
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
    PERFORM set_config('pg_trgm.word_similarity_threshold', v_old_word, true);
    EXIT WHEN v_pass = 1 AND v_k_score >= 0.8 * greatest(v_strict, v_strict_word);
    EXIT WHEN v_pass > 1 AND v_k_score >= 0.8 * v_floors[v_pass];
  END LOOP;

  --    Email substrings and phone fragments. Their exact and prefix matches (at most
  --    p_limit - 1 of them, or step 1 would have answered) are in v_high; every other
  --    match scores 0.7 in its part, so the part's best are the first p_limit matches
  --    in name order (read in that order from customer_search_name_order_idx when the
  --    fragment is common, "gmail"; sorted when it is rare: planned for the values).
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
  --    The best p_limit so far (v_top) and the p_limit-th score: the answer is among v_top
  --    and the emails found below, so only those are ranked again at the end.
  SELECT CASE WHEN count(*) >= p_limit THEN min(x.score) END, array_agg(x.customer_id)
    INTO v_k_score, v_top FROM (
    SELECT greatest(
             CASE WHEN lower(s.name) = v_lq OR s.email_lc = v_lq
                       OR (p_digits IS NOT NULL AND s.phone_digits = p_digits) THEN 1.0 ELSE 0 END,
             CASE WHEN lower(s.name) LIKE lower(p_like) || '%' OR s.email_lc LIKE lower(p_like) || '%' THEN 0.9 ELSE 0 END,
             CASE WHEN s.name ILIKE '%' || p_like || '%' OR s.email_lc LIKE '%' || lower(p_like) || '%'
                       OR (p_digits IS NOT NULL AND s.phone_digits LIKE '%' || p_digits || '%')
                  THEN 0.7 ELSE 0 END,
             0.8 * coalesce(similarity(s.name, p_query), 0),
             0.8 * coalesce(word_similarity(p_query, s.name), 0),
             0.6 * coalesce(similarity(s.email_lc, v_lq), 0))::float8 AS score,
           lower(s.name) AS lname, s.customer_id
      FROM customer_search s
     WHERE s.company_id = v_company AND s.customer_id = ANY(v_ids)
     ORDER BY 1 DESC, 2 ASC NULLS LAST, 3
     LIMIT p_limit) x;
  IF v_k_score IS NULL OR v_k_score <= 0.6 THEN
    IF v_k_score IS NOT NULL THEN
      PERFORM set_config('pg_trgm.similarity_threshold',
                         greatest(v_old::float8, v_k_score / 0.6 - 1e-6)::text, true);
    END IF;
    SELECT array_agg(c.customer_id) INTO v_more FROM customer_search c
     WHERE c.company_id = v_company AND c.email_lc % v_lq;
    PERFORM set_config('pg_trgm.similarity_threshold', v_old, true);
    v_top := coalesce(v_top, '{}') || coalesce(v_more, '{}');
  END IF;

  RETURN QUERY
    SELECT s.customer_id,
           greatest(
             CASE WHEN lower(s.name) = v_lq OR s.email_lc = v_lq
                       OR (p_digits IS NOT NULL AND s.phone_digits = p_digits) THEN 1.0 ELSE 0 END,
             CASE WHEN lower(s.name) LIKE lower(p_like) || '%' OR s.email_lc LIKE lower(p_like) || '%' THEN 0.9 ELSE 0 END,
             CASE WHEN s.name ILIKE '%' || p_like || '%' OR s.email_lc LIKE '%' || lower(p_like) || '%'
                       OR (p_digits IS NOT NULL AND s.phone_digits LIKE '%' || p_digits || '%')
                  THEN 0.7 ELSE 0 END,
             0.8 * coalesce(similarity(s.name, p_query), 0),
             0.8 * coalesce(word_similarity(p_query, s.name), 0),
             0.6 * coalesce(similarity(s.email_lc, v_lq), 0))::float8,
           (s.name ILIKE '%' || p_like || '%' OR s.name % p_query OR p_query <% s.name),
           (s.email_lc LIKE '%' || lower(p_like) || '%' OR s.email_lc % v_lq),
           (p_digits IS NOT NULL AND s.phone_digits LIKE '%' || p_digits || '%')
      FROM customer_search s
     WHERE s.company_id = v_company AND s.customer_id = ANY(v_top)
     ORDER BY 2 DESC, lower(s.name) ASC NULLS LAST, s.customer_id
     LIMIT p_limit;
END
$$;
