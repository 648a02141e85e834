-- The chat sync of a multi-row INSERT, set-based (issue 15: "chat ingest set-based for
-- multi-row inserts (statement-level triggers with transition tables, one lock round per
-- batch)").
--
-- Until now a chat row without a customer was matched in a BEFORE ROW trigger
-- (trg_vc_usage_customer_sync_insert → find_or_create_customer_from_chat →
-- chat_match_customer): per row a subtransaction, its bucket locks, three lookups and,
-- for a new contact, one customer INSERT and one key INSERT. A 500-row legacy INSERT
-- (half new contacts) at 1M spent ~210 of its ~380 ms there, while POST /v1/chat,
-- which asks chat_match_batch (0043/0048) for the whole batch before inserting, ran the
-- same rows in ~200 ms (docs/performance.md, "Eleventh session of 2026-12-08").
--
-- Now the rows are stored as they come (customer_id NULL) and the statement-level
-- trigger (trg_vc_usage_after_insert_statement, transition table new_chat_rows) links
-- them, per company, before it applies their metrics:
--   1. chat_match_batch(company, the rows in the order inserted): all their bucket locks in one
--      ascending pass, then one lookup answering the rows whose customer the rule
--      certainly knows, and one INSERT creating the customers the rule would certainly
--      create (0048's exactness argument: the answered rows share no session, email or
--      phone with the others);
--   2. one UPDATE giving those rows their customer;
--   3. the other rows row by row in the order inserted, exactly as the row trigger did
--      (chat_match_customer with deferred side effects, its failure recorded and the row
--      kept), each then given its customer.
-- This is POST /v1/chat's path (which keeps calling chat_match_batch before its INSERT:
-- those rows arrive linked and skip step 1–3), so a batch is linked the same way
-- whether it comes through the API or as SQL, and a 1-row INSERT is a batch of one.
--
-- Observable differences:
--   * `INSERT … RETURNING customer_id` returns NULL for a row the statement links: the
--     link is written at the end of the statement. The legacy "VC Usage" has no
--     customer_id (migration 0001), so no legacy writer reads it; ChatRepository reads
--     the links back after its INSERT. Every later statement sees them.
--   * A linked row is written twice (inserted, then updated): one more row version per
--     new chat row (autovacuum reclaims it; "VC Usage" is append-mostly).
--   * BEFORE ROW triggers of other tools see customer_id NULL.
--   * INSERT … ON CONFLICT: a row the statement updates instead is not in the transition
--     table, so it is not matched (before, the BEFORE trigger matched every proposed
--     row, and `DO UPDATE SET customer_id = EXCLUDED.customer_id` copied that link; now
--     it copies NULL). A skipped row (DO NOTHING) is no longer matched for nothing.
--   * Ids of events and audit rows within one statement are ordered differently.
-- The UPDATE of step 2/3 skips the row triggers that apply an orphan's link effects
-- (metrics, failure resolution): the statement trigger applies the metrics of all its
-- rows once (0034), and a row inserted by this statement has no failure to resolve.
-- Their WHEN clauses honour app.chat_defer_link_effects from inside a trigger as well
-- as for the owner logged in as itself (the backfill, 0035).

------------------------------------------------------------------------------
-- the matching, blind to the statement's rows a row-by-row trigger would not see yet
------------------------------------------------------------------------------
-- Row by row, row k of a statement saw the rows before it, not the ones after it. At the
-- end of the statement all of them are stored: p_hide lists the rows the lookup of a
-- session must not see (this statement's rows after k; for the batch lookup, all of
-- them), with the same window of the session's latest 200 rows otherwise. The bodies
-- are 0050's (chat_match_customer: 0035; chat_match_batch: 0048) with that one
-- condition; the former signatures call them with p_hide NULL (nothing hidden).
CREATE FUNCTION chat_match_customer(p_company uuid, p_vc_usage_id bigint, p_session_id text, p_name text, p_email text,
                                    p_phone text, p_defer boolean, p_locked boolean, p_hide bigint[])
 RETURNS uuid
 LANGUAGE plpgsql
 SET search_path TO 'public', 'pg_temp'
AS $$
DECLARE
  v_cc       text;
  v_email    text;
  v_phone    text;
  v_session  text := nullif(p_session_id, '');
  v_name     text;
  v_customer uuid;
  v_by_email uuid;
  v_by_phone uuid;
  v_active   boolean;
  v_stored_email text;
  v_stored_phone text;
  v_set      text;
BEGIN
  -- test hook: lets a test prove that a failing sync never costs the chat row
  IF current_setting('app.test_fail_sync', true) = 'on' THEN
    RAISE EXCEPTION 'chat sync failure forced by app.test_fail_sync';
  END IF;

  SELECT default_country_code INTO v_cc FROM companies WHERE id = p_company;
  v_email := normalize_email(p_email);
  v_phone := normalize_phone(p_phone, v_cc);

  -- chat_sync_lock(), inlined; p_locked: the caller holds them (backfill_link_chat_rows
  -- takes the buckets of a whole batch at once, in the same ascending order)
  IF NOT p_locked THEN
    INSERT INTO chat_sync_locks AS l (company_id, lock_key)
    SELECT p_company, b.bucket
      FROM (SELECT DISTINCT k & 1048575 AS bucket
              FROM unnest(ARRAY[chat_lock_key(p_company, 'session', v_session),
                                chat_lock_key(p_company, 'email', v_email),
                                chat_lock_key(p_company, 'phone', v_phone)]) AS k
             WHERE k IS NOT NULL) b
     ORDER BY b.bucket
    ON CONFLICT (company_id, lock_key) DO UPDATE SET lock_key = EXCLUDED.lock_key WHERE false;
  END IF;

  IF v_session IS NOT NULL THEN
    -- the session's latest rows through vc_usage_session_idx (the LIMIT keeps the
    -- planner off the customer timeline index, whose scan grows with the tenant)
    SELECT s.customer_id INTO v_customer
      FROM (SELECT v.customer_id FROM "VC Usage" v
             WHERE v.company_id = p_company AND v.session_id = v_session
               AND v.id NOT IN (SELECT unnest(p_hide))   -- 0051: not yet inserted, row by row (hashed)
             ORDER BY v.id DESC LIMIT 200) s
     WHERE s.customer_id IS NOT NULL
     LIMIT 1;
    IF v_customer IS NOT NULL THEN
      v_customer := resolve_customer(p_company, v_customer);
      IF v_customer IS NOT NULL THEN
        IF v_email IS NOT NULL THEN
          v_by_email := match_customer_key(p_company, 'email', v_email);
        END IF;
        IF v_by_email IS NULL OR v_by_email = v_customer THEN
          RETURN v_customer;
        END IF;
        -- One email, one customer (0023): the row's email already belongs to
        -- another active customer than the session's. The email wins; the two
        -- customers become a duplicate candidate with the reason "same session"
        -- (kept beside any model score of the pair; a dismissal removes it).
        INSERT INTO customer_events (company_id, customer_id, event_type, payload)
        VALUES (p_company, v_by_email, 'match_conflict',
                jsonb_build_object('conflict', 'session', 'vc_usage_id', p_vc_usage_id, 'email', v_email, 'session_id', v_session,
                                   'session_customer_id', v_customer, 'linked_customer_id', v_by_email));
        IF NOT EXISTS (SELECT 1 FROM duplicate_dismissals d
                        WHERE d.company_id = p_company
                          AND d.customer_a = least(v_customer, v_by_email)
                          AND d.customer_b = greatest(v_customer, v_by_email)) THEN
          INSERT INTO duplicate_candidates AS dc (company_id, customer_a, customer_b, score, evidence)
          VALUES (p_company, least(v_customer, v_by_email), greatest(v_customer, v_by_email), 0.8,
                  jsonb_build_array(jsonb_build_object(
                    'comparison', 'same session', 'level', 'one conversation, two customers',
                    'weight', 2.0, 'detail', 'session ' || v_session)))
          ON CONFLICT (company_id, customer_a, customer_b) DO UPDATE
             SET score = greatest(dc.score, EXCLUDED.score),
                 evidence = CASE WHEN dc.evidence @> '[{"comparison": "same session"}]' THEN dc.evidence
                                 ELSE EXCLUDED.evidence || dc.evidence END,
                 scored_at = now();
        END IF;
        RETURN v_by_email;
      END IF;
    END IF;
  END IF;

  -- match_customer_key(), whose first candidate wins when it is active (an active
  -- customer resolves to itself)
  IF v_email IS NOT NULL THEN
    SELECT k.customer_id, c.status = 'active' INTO v_by_email, v_active
      FROM customer_matching_keys k
      JOIN customers c ON c.company_id = k.company_id AND c.id = k.customer_id
     WHERE k.company_id = p_company AND k.key_type = 'email' AND k.key_value = v_email
     ORDER BY (c.status = 'active') DESC, c.created_at, c.id
     LIMIT 1;
    IF v_by_email IS NOT NULL AND NOT v_active THEN
      v_by_email := match_customer_key(p_company, 'email', v_email);
    END IF;
  END IF;
  IF v_phone IS NOT NULL THEN
    SELECT k.customer_id, c.status = 'active' INTO v_by_phone, v_active
      FROM customer_matching_keys k
      JOIN customers c ON c.company_id = k.company_id AND c.id = k.customer_id
     WHERE k.company_id = p_company AND k.key_type = 'phone' AND k.key_value = v_phone
     ORDER BY (c.status = 'active') DESC, c.created_at, c.id
     LIMIT 1;
    IF v_by_phone IS NOT NULL AND NOT v_active THEN
      v_by_phone := match_customer_key(p_company, 'phone', v_phone);
    END IF;
  END IF;
  IF v_by_email IS NOT NULL THEN
    IF v_by_phone IS NOT NULL AND v_by_phone <> v_by_email THEN
      INSERT INTO customer_events (company_id, customer_id, event_type, payload)
      VALUES (p_company, v_by_email, 'match_conflict',
              jsonb_build_object('vc_usage_id', p_vc_usage_id, 'email', v_email, 'phone', v_phone,
                                 'email_customer_id', v_by_email, 'phone_customer_id', v_by_phone,
                                 'linked_customer_id', v_by_email));
    END IF;
    RETURN v_by_email;
  END IF;
  IF v_by_phone IS NOT NULL THEN
    RETURN v_by_phone;
  END IF;

  v_name := nullif(btrim(regexp_replace(p_name,
              '[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]+', ' ', 'g')), '');
  IF v_name IS NULL AND v_email IS NULL AND v_phone IS NULL THEN
    RETURN NULL;
  END IF;
  IF NOT p_defer THEN
    INSERT INTO customers (company_id, name, email, phone, source, lifecycle_stage)
    VALUES (p_company, v_name, v_email, v_phone, 'chat', 'lead')
    RETURNING id INTO v_customer;
    RETURN v_customer;
  END IF;

  -- Deferred (the chat insert trigger): the customer row now, its email and phone
  -- keys now (computed as customers_after_insert computes them, from the stored
  -- row), everything else at the end of the statement (chat_flush_new_customers).
  -- An error rolls the settings back with the subtransaction.
  v_set := set_config('app.chat_defer_customer_effects', 'on', true);
  INSERT INTO customers (company_id, name, email, phone, source, lifecycle_stage)
  VALUES (p_company, v_name, v_email, v_phone, 'chat', 'lead')
  RETURNING id, email, phone INTO v_customer, v_stored_email, v_stored_phone;
  v_set := set_config('app.chat_defer_customer_effects', 'off', true);
  INSERT INTO customer_matching_keys (company_id, key_type, key_value, customer_id)
  SELECT p_company, k.key_type, k.key_value, v_customer
    FROM (VALUES ('email', normalize_email(v_stored_email)),
                 ('phone', normalize_phone(v_stored_phone, v_cc))) AS k (key_type, key_value)
   WHERE k.key_value IS NOT NULL;
  v_set := set_config('app.chat_new_customers',
                      coalesce(nullif(current_setting('app.chat_new_customers', true), '') || ',', '')
                        || p_company::text || '/' || v_customer::text, true);
  RETURN v_customer;
END
$$;
REVOKE EXECUTE ON FUNCTION chat_match_customer(uuid, bigint, text, text, text, text, boolean, boolean, bigint[]) FROM PUBLIC;

CREATE OR REPLACE FUNCTION chat_match_customer(p_company uuid, p_vc_usage_id bigint, p_session_id text, p_name text,
                                               p_email text, p_phone text, p_defer boolean, p_locked boolean DEFAULT false)
  RETURNS uuid
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
AS $$
BEGIN
  RETURN chat_match_customer(p_company, p_vc_usage_id, p_session_id, p_name, p_email, p_phone, p_defer, p_locked,
                             NULL::bigint[]);
END
$$;

CREATE FUNCTION chat_match_batch(p_company uuid, p_records jsonb, p_hide bigint[])
 RETURNS uuid[]
 LANGUAGE plpgsql
 SET search_path TO 'public', 'pg_temp'
 SET plan_cache_mode TO 'force_generic_plan'
AS $$
DECLARE
  v_prev   text := current_setting('app.company_id', true);
  v_set    text;
  v_cc     text;
  v_n      integer;
  v_sessions text[];
  v_emails   text[];
  v_phones   text[];
  v_names    text[];
  v_known  uuid[];
  v_unknown boolean[];
  v_heads  bigint[];
  v_ids    uuid[];
  v_member_head bigint[];
  v_group  uuid[];
  v_result uuid[];
BEGIN
  v_n := CASE WHEN jsonb_typeof(p_records) = 'array' THEN jsonb_array_length(p_records) ELSE 0 END;
  IF p_company IS NULL OR v_n = 0 THEN
    RETURN array_fill(NULL::uuid, ARRAY[v_n]);
  END IF;
  IF session_user <> 'tradesphere_owner' AND p_company IS DISTINCT FROM app_current_company() THEN
    RAISE EXCEPTION 'chat_match_batch: company % is not the current tenant', p_company
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF current_setting('app.test_fail_sync', true) = 'on'
     OR EXISTS (SELECT 1 FROM sync_settings WHERE paused AND (company_id = p_company OR company_id IS NULL)) THEN
    RETURN array_fill(NULL::uuid, ARRAY[v_n]);
  END IF;
  v_set := set_config('app.company_id', p_company::text, true);
  BEGIN
    SELECT co.default_country_code INTO STRICT v_cc FROM companies co WHERE co.id = p_company;
    -- the keys and the name as the rule normalizes them (chat_match_customer), once
    SELECT array_agg(nullif(x.r->>'session_id', '') ORDER BY x.ord),
           array_agg(normalize_email(x.r->>'customer_email') ORDER BY x.ord),
           array_agg(normalize_phone(x.r->>'customer_phone', v_cc) ORDER BY x.ord),
           array_agg(nullif(btrim(regexp_replace(x.r->>'customer_name',
                       '[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]+', ' ', 'g')), '')
                     ORDER BY x.ord)
      INTO v_sessions, v_emails, v_phones, v_names
      FROM jsonb_array_elements(p_records) WITH ORDINALITY AS x (r, ord);

    -- 1. every bucket of the batch, ascending (as chat_match_customer and the backfill)
    INSERT INTO chat_sync_locks AS l (company_id, lock_key)
    SELECT p_company, b.bucket
      FROM (SELECT DISTINCT k & 1048575 AS bucket
              FROM unnest(v_sessions, v_emails, v_phones) AS u (session, email, phone)
             CROSS JOIN LATERAL unnest(ARRAY[chat_lock_key(p_company, 'session', u.session),
                                             chat_lock_key(p_company, 'email', u.email),
                                             chat_lock_key(p_company, 'phone', u.phone)]) AS k
             WHERE k IS NOT NULL) b
     ORDER BY b.bucket
    ON CONFLICT (company_id, lock_key) DO UPDATE SET lock_key = EXCLUDED.lock_key WHERE false;

    -- 2. the known answers (0043's statement) and which records are unknown
    WITH RECURSIVE e AS MATERIALIZED (
      SELECT u.ord, u.session, u.email, u.phone
        FROM unnest(v_sessions, v_emails, v_phones) WITH ORDINALITY AS u (session, email, phone, ord)
    ), m AS MATERIALIZED (
      SELECT e.ord, e.session, e.email, e.phone,
             s.customer_id AS by_session, sc.status = 'active' AS session_active,
             em.customer_id AS by_email, em.active AS email_active,
             ph.customer_id AS by_phone, ph.active AS phone_active
        FROM e
        LEFT JOIN LATERAL (SELECT s.customer_id
                             FROM (SELECT v.customer_id FROM "VC Usage" v
                                    WHERE v.company_id = p_company AND v.session_id = e.session
                                      AND v.id NOT IN (SELECT unnest(p_hide))  -- 0051 (hashed)
                                    ORDER BY v.id DESC LIMIT 200) s
                            WHERE s.customer_id IS NOT NULL
                            LIMIT 1) s ON e.session IS NOT NULL
        LEFT JOIN customers sc ON sc.company_id = p_company AND sc.id = s.customer_id
        LEFT JOIN LATERAL (SELECT k.customer_id, c.status = 'active' AS active
                             FROM customer_matching_keys k
                             JOIN customers c ON c.company_id = k.company_id AND c.id = k.customer_id
                            WHERE k.company_id = p_company AND k.key_type = 'email' AND k.key_value = e.email
                            ORDER BY (c.status = 'active') DESC, c.created_at, c.id
                            LIMIT 1) em ON e.email IS NOT NULL
        LEFT JOIN LATERAL (SELECT k.customer_id, c.status = 'active' AS active
                             FROM customer_matching_keys k
                             JOIN customers c ON c.company_id = k.company_id AND c.id = k.customer_id
                            WHERE k.company_id = p_company AND k.key_type = 'phone' AND k.key_value = e.phone
                            ORDER BY (c.status = 'active') DESC, c.created_at, c.id
                            LIMIT 1) ph ON e.phone IS NOT NULL
    ), f AS MATERIALIZED (
      SELECT m.ord,
             CASE WHEN m.by_session IS NOT NULL THEN
                    CASE WHEN m.session_active AND (m.by_email IS NULL OR (m.email_active AND m.by_email = m.by_session))
                         THEN m.by_session END
                  WHEN m.by_email IS NOT NULL THEN
                    CASE WHEN m.email_active AND (m.by_phone IS NULL OR (m.phone_active AND m.by_phone = m.by_email))
                         THEN m.by_email END
                  WHEN m.by_phone IS NOT NULL AND m.phone_active THEN m.by_phone
             END AS customer_id,
             m.by_session IS NULL AND m.by_email IS NULL AND m.by_phone IS NULL AS unknown
        FROM m
    ), keys AS MATERIALIZED (
      SELECT m.ord, k.kind, k.value
        FROM m CROSS JOIN LATERAL (VALUES ('session', m.session), ('email', m.email), ('phone', m.phone)) AS k (kind, value)
       WHERE k.value IS NOT NULL
    ), bad (kind, value) AS (
      SELECT k.kind, k.value
        FROM keys k JOIN f ON f.ord = k.ord
       GROUP BY k.kind, k.value
      HAVING bool_or(f.customer_id IS NULL) OR count(DISTINCT f.customer_id) > 1
      UNION
      SELECT k2.kind, k2.value
        FROM bad b
        JOIN keys k1 ON k1.kind = b.kind AND k1.value = b.value
        JOIN keys k2 ON k2.ord = k1.ord
    ), tainted AS (
      SELECT DISTINCT k.ord FROM keys k JOIN bad b ON b.kind = k.kind AND b.value = k.value
    )
    SELECT array_agg(CASE WHEN t.ord IS NULL THEN f.customer_id END ORDER BY f.ord),
           array_agg(f.unknown ORDER BY f.ord)
      INTO v_known, v_unknown
      FROM f LEFT JOIN tainted t ON t.ord = f.ord;
  EXCEPTION WHEN OTHERS THEN
    v_set := set_config('app.company_id', coalesce(v_prev, ''), true);
    RETURN array_fill(NULL::uuid, ARRAY[v_n]);  -- the row path decides (and records any failure)
  END;

  -- 3. the groups of certainly new contacts, created with one INSERT. Every step is a scan,
  --    a hash aggregate or an array subscript: the arrays' row estimates are blind (10), and a
  --    join of two of these sets was planned as a nested loop, quadratic (500 records: 25 ms).
  v_result := v_known;
  IF true = ANY (v_unknown) THEN
    BEGIN
      WITH r AS MATERIALIZED (
        SELECT u.ord, u.session, u.email, u.phone, u.name, u.unknown
          FROM unnest(v_sessions, v_emails, v_phones, v_names, v_unknown)
               WITH ORDINALITY AS u (session, email, phone, name, unknown, ord)
      ), keys AS MATERIALIZED (
        SELECT r.ord, k.kind, k.value
          FROM r CROSS JOIN LATERAL (VALUES ('session', r.session), ('email', r.email), ('phone', r.phone)) AS k (kind, value)
         WHERE k.value IS NOT NULL
      ), shared AS MATERIALIZED (   -- keys of two or more records, with their head
        SELECT k.kind, k.value, min(k.ord) AS head
          FROM keys k GROUP BY k.kind, k.value HAVING count(*) > 1
      ), member AS MATERIALIZED (   -- each record's group: the one head of its shared keys (itself if
                                    -- none; NULL if two), and the heads of its shared keys
        SELECT r.ord, r.unknown, r.name, r.email, r.phone,
               CASE WHEN count(s.head) = 0 THEN r.ord
                    WHEN min(s.head) = max(s.head) THEN min(s.head) END AS head,
               array_agg(s.head) FILTER (WHERE s.head IS NOT NULL) AS heads
          FROM r
          LEFT JOIN keys k ON k.ord = r.ord
          LEFT JOIN shared s ON s.kind = k.kind AND s.value = k.value
         GROUP BY r.ord, r.unknown, r.name, r.email, r.phone
      ), grp AS MATERIALIZED (      -- the groups created
        SELECT g.head, gen_random_uuid() AS id, g.name, g.email, g.phone
          FROM (SELECT a.head,
                       bool_or(a.ord = a.head) AS has_head,     -- the head is in its own group (implied by
                                                                -- NOT split; kept as the rule's statement)
                       bool_or(a.split) AS split,               -- a holder of one of its keys is in two groups
                       bool_and(a.unknown) AS all_unknown,
                       count(*) AS size,
                       (array_agg(a.name) FILTER (WHERE a.ord = a.head))[1] AS name,
                       (array_agg(a.email) FILTER (WHERE a.ord = a.head))[1] AS email,
                       (array_agg(a.phone) FILTER (WHERE a.ord = a.head))[1] AS phone
                  FROM (SELECT m.head, m.ord, m.unknown, m.name, m.email, m.phone, false AS split
                          FROM member m WHERE m.head IS NOT NULL
                        UNION ALL
                        SELECT h.head, m.ord, m.unknown, NULL, NULL, NULL, true
                          FROM member m CROSS JOIN LATERAL unnest(m.heads) AS h (head)
                         WHERE m.head IS NULL) a
                 GROUP BY a.head) g
         -- every holder of one of the head's keys is an unknown member of its group (a holder
         -- of a key with head H is in H's group or in none), the head has a contact, and the
         -- keys written (the normalization of the stored, normalized values) are the keys
         -- looked up: otherwise a later record of the batch holding the twice-normalized key
         -- would find the new customer row by row, and be created apart here
         WHERE g.has_head AND NOT g.split AND g.all_unknown
           AND (g.name IS NOT NULL OR g.email IS NOT NULL OR g.phone IS NOT NULL)
           AND normalize_email(g.email) IS NOT DISTINCT FROM g.email
           AND normalize_phone(g.phone, v_cc) IS NOT DISTINCT FROM g.phone
      ), created AS (  -- run to completion whether read or not (an error fails the statement)
        INSERT INTO customers (id, company_id, name, email, phone, source, lifecycle_stage)
        SELECT g.id, p_company, g.name, g.email, g.phone, 'chat', 'lead'
          FROM grp g
         ORDER BY g.head
      )
      SELECT (SELECT array_agg(g.head ORDER BY g.head) FROM grp g),
             (SELECT array_agg(g.id ORDER BY g.head) FROM grp g),
             (SELECT array_agg(m.head ORDER BY m.ord) FROM member m)
        INTO v_heads, v_ids, v_member_head;
      -- each group's customer at its head's position, then each record's group's
      v_group := array_fill(NULL::uuid, ARRAY[v_n]);
      FOR i IN 1 .. coalesce(cardinality(v_heads), 0) LOOP
        v_group[v_heads[i]] := v_ids[i];
      END LOOP;
      SELECT array_agg(coalesce(v_group[u.head], v_known[u.ord]) ORDER BY u.ord)
        INTO v_result
        FROM unnest(v_member_head) WITH ORDINALITY AS u (head, ord);
    EXCEPTION WHEN OTHERS THEN
      v_result := v_known;  -- the row path creates them (or records the failure)
    END;
  END IF;
  v_set := set_config('app.company_id', coalesce(v_prev, ''), true);
  RETURN v_result;
END
$$;
REVOKE EXECUTE ON FUNCTION chat_match_batch(uuid, jsonb, bigint[]) FROM PUBLIC;

CREATE OR REPLACE FUNCTION chat_match_batch(p_company uuid, p_records jsonb) RETURNS uuid[]
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
BEGIN
  RETURN chat_match_batch(p_company, p_records, NULL::bigint[]);
END
$$;

------------------------------------------------------------------------------
-- link a statement's new chat rows of one company
------------------------------------------------------------------------------
-- p_all: the statement's rows of the company in the order the statement inserted them; p_ids: those to link (no
-- customer_id from their writer) in that order; p_records: their contacts in the same
-- order, as chat_match_batch reads them (session_id, customer_name, customer_email,
-- customer_phone). The caller is the statement trigger, with app.company_id set to
-- p_company (row-level security of the UPDATE, chat_match_batch's tenant check).
CREATE FUNCTION chat_link_statement_rows(p_company uuid, p_all bigint[], p_ids bigint[], p_records jsonb) RETURNS void
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_found uuid[];
  v_link  uuid;
  v_state text;
  v_msg   text;
  v_row   record;
BEGIN
  IF EXISTS (SELECT 1 FROM sync_settings                   -- chat_sync_paused()
              WHERE paused AND (company_id = p_company OR company_id IS NULL)) THEN
    PERFORM record_chat_sync_failure(p_company, u.id, 'paused', NULL, 'chat sync paused')
       FROM unnest(p_ids) WITH ORDINALITY AS u (id, ord)
      ORDER BY u.ord;
    RETURN;
  END IF;

  -- 1–2. what the batch lookup answers (NULLs when it cannot: a failure, the test hook
  -- app.test_fail_sync), linked with one UPDATE. Not when the writer linked rows of this
  -- statement itself (POST /v1/chat after its own batch lookup, or explicit ids): the
  -- lookup's argument assumes that no row of the statement is linked yet, and a row
  -- matched row by row saw the linked rows before it and not the ones after it.
  -- A single row goes the row path: the same answer (0043/0048), without the batch's
  -- set-up (single-row INSERT p50 at 1M: 2.12 ms before 0051, 2.39 through the lookup).
  -- (Test hook app.test_row_by_row: every row goes the row path, the reference the tests
  -- compare the batch lookup against.)
  IF cardinality(p_all) = cardinality(p_ids) AND cardinality(p_ids) > 1
     AND current_setting('app.test_row_by_row', true) IS DISTINCT FROM 'on' THEN
    v_found := chat_match_batch(p_company, p_records, p_all);
  END IF;
  IF EXISTS (SELECT 1 FROM unnest(v_found) AS f (id) WHERE f.id IS NOT NULL) THEN
    BEGIN
      UPDATE "VC Usage" v
         SET customer_id = u.customer_id
        FROM unnest(p_ids, v_found) AS u (id, customer_id)
       WHERE v.company_id = p_company AND v.id = u.id AND u.customer_id IS NOT NULL
         AND v.customer_id IS NULL;
    EXCEPTION WHEN OTHERS THEN
      -- nothing linked: the row path decides every row (it finds the customers the
      -- lookup created by their email or phone keys; one created for a name alone would
      -- be created again and keep no chat row — an UPDATE of rows this statement just
      -- inserted has no known way to fail) and records any failure
      v_found := NULL;
    END;
  END IF;

  -- 3. the others row by row, in the order inserted (find_or_create_customer_from_chat's body),
  -- each blind to the statement's rows after it. The rows the batch linked share no
  -- session, email or phone with these (0043/0048), so linking them first changes
  -- nothing these see.
  FOR v_row IN
    SELECT u.id, a.pos, r.rec
      FROM unnest(p_ids) WITH ORDINALITY AS u (id, ord)
      JOIN jsonb_array_elements(p_records) WITH ORDINALITY AS r (rec, ord) ON r.ord = u.ord
      JOIN unnest(p_all) WITH ORDINALITY AS a (id, pos) ON a.id = u.id
     WHERE v_found[u.ord] IS NULL
     ORDER BY u.ord
  LOOP
    -- a long statement (~540 new customers so far): their side effects now, so that the
    -- list stays short (each append copies it). Nothing the matching reads is written.
    IF length(current_setting('app.chat_new_customers', true)) > 40000 THEN
      PERFORM chat_flush_new_customers_retrying();
    END IF;
    BEGIN
      v_link := chat_match_customer(p_company, v_row.id, v_row.rec->>'session_id', v_row.rec->>'customer_name',
                                    v_row.rec->>'customer_email', v_row.rec->>'customer_phone', true, false,
                                    p_all[v_row.pos + 1:]);
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT;
      v_link := NULL;
      PERFORM record_chat_sync_failure(p_company, v_row.id, 'error', v_state, v_msg);
    END;
    IF v_link IS NOT NULL THEN
      UPDATE "VC Usage" v SET customer_id = v_link
       WHERE v.company_id = p_company AND v.id = v_row.id AND v.customer_id IS NULL;
    END IF;
  END LOOP;
END
$$;
REVOKE EXECUTE ON FUNCTION chat_link_statement_rows(uuid, bigint[], bigint[], jsonb) FROM PUBLIC;

------------------------------------------------------------------------------
-- the statement trigger: link, then the deferred customer effects, then the metrics
------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION vc_usage_after_insert_statement() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_prev    text := current_setting('app.company_id', true);
  v_defer   text := current_setting('app.chat_defer_link_effects', true);
  v_set     text;
  v_company uuid;
  v_all     bigint[];
  v_ids     bigint[];
  v_records jsonb;
  v_state   text;
  v_msg     text;
  v_row     record;
BEGIN
  -- the rows to link (neither linked by their writer nor quarantined), per company in
  -- ascending order; the link effects of these UPDATEs are applied below
  v_set := set_config('app.chat_defer_link_effects', 'on', true);
  -- In the order the statement inserted them, which the BEFORE trigger followed: the
  -- transition table is read in insertion order (a writer may give ids out of order,
  -- e.g. replaying a dump).
  FOR v_company, v_all, v_ids, v_records IN
    SELECT n.company_id, array_agg(n.id ORDER BY n.pos),
           array_agg(n.id ORDER BY n.pos) FILTER (WHERE n.customer_id IS NULL),
           jsonb_agg(jsonb_build_object('session_id', n.session_id, 'customer_name', n.customer_name,
                                        'customer_email', n.customer_email, 'customer_phone', n.customer_phone)
                     ORDER BY n.pos) FILTER (WHERE n.customer_id IS NULL)
      FROM (SELECT t.company_id, t.id, t.customer_id, t.session_id, t.customer_name, t.customer_email,
                   t.customer_phone, row_number() OVER () AS pos
              FROM new_chat_rows t) n
     WHERE n.company_id IS NOT NULL
     GROUP BY n.company_id
    HAVING bool_or(n.customer_id IS NULL)
     ORDER BY n.company_id
  LOOP
    v_set := set_config('app.company_id', v_company::text, true);
    PERFORM chat_link_statement_rows(v_company, v_all, v_ids, v_records);
  END LOOP;
  v_set := set_config('app.chat_defer_link_effects', coalesce(v_defer, ''), true);
  v_set := set_config('app.company_id', coalesce(v_prev, ''), true);

  PERFORM chat_flush_new_customers_retrying();

  -- the metrics of every row linked now (by its writer or above): chat_metrics_add_rows
  -- reads the stored rows and skips the unlinked ones
  FOR v_company, v_ids IN
    SELECT n.company_id, array_agg(n.id ORDER BY n.id)
      FROM new_chat_rows n
     WHERE n.company_id IS NOT NULL
     GROUP BY n.company_id
  LOOP
    BEGIN
      v_set := set_config('app.company_id', v_company::text, true);
      PERFORM chat_metrics_add_rows(v_company, v_ids);
    EXCEPTION WHEN OTHERS THEN
      -- row by row, as the row trigger did (0012): each row's failure recorded, the row kept.
      -- The stored rows (their links) as the company sees them: the rollback to this block
      -- reset app.company_id, set it again before reading (row-level security)
      v_set := set_config('app.company_id', v_company::text, true);
      FOR v_row IN
        SELECT v.company_id, v.customer_id, v.session_id, v.id, v.created_at, v.user_message
          FROM "VC Usage" v
         WHERE v.company_id = v_company AND v.id = ANY (v_ids) AND v.customer_id IS NOT NULL
         ORDER BY v.id
      LOOP
        BEGIN
          v_set := set_config('app.company_id', v_row.company_id::text, true);
          PERFORM pg_advisory_xact_lock_shared(chat_lock_key(v_row.company_id, 'metrics', ''));
          PERFORM metrics_add(v_row.company_id, v_row.customer_id, conversation_key(v_row.session_id, v_row.id),
                              v_row.id, v_row.created_at, v_row.user_message, true);
        EXCEPTION WHEN OTHERS THEN
          GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT;
          v_set := set_config('app.company_id', v_row.company_id::text, true);
          PERFORM record_chat_sync_failure(v_row.company_id, v_row.id, 'metrics', v_state, v_msg);
        END;
      END LOOP;
    END;
  END LOOP;
  v_set := set_config('app.company_id', coalesce(v_prev, ''), true);
  RETURN NULL;
END
$$;

DROP TRIGGER trg_vc_usage_customer_sync_insert ON "VC Usage";

-- The links written above skip the row triggers of an orphan becoming linked: inside a
-- trigger (this statement trigger; pg_trigger_depth() is 0 for a client's own UPDATE) as
-- well as for the owner logged in as itself (the backfill, 0035).
DROP TRIGGER trg_vc_usage_metrics_refresh ON "VC Usage";
CREATE TRIGGER trg_vc_usage_metrics_refresh
  AFTER DELETE OR UPDATE OF customer_id, company_id, session_id, created_at, user_message
  ON "VC Usage"
  FOR EACH ROW
  WHEN (OLD.customer_id IS NOT NULL
        OR current_setting('app.chat_defer_link_effects', true) IS DISTINCT FROM 'on'
        OR (session_user <> 'tradesphere_owner' AND pg_trigger_depth() = 0))
  EXECUTE FUNCTION vc_usage_metrics_refresh();

DROP TRIGGER trg_vc_usage_linked_resolve_failures ON "VC Usage";
CREATE TRIGGER trg_vc_usage_linked_resolve_failures
  AFTER UPDATE OF customer_id ON "VC Usage"
  FOR EACH ROW
  WHEN (OLD.customer_id IS NULL AND NEW.customer_id IS NOT NULL
        AND (current_setting('app.chat_defer_link_effects', true) IS DISTINCT FROM 'on'
             OR (session_user <> 'tradesphere_owner' AND pg_trigger_depth() = 0)))
  EXECUTE FUNCTION vc_usage_linked_resolve_failures();
