-- A batch's certainly new contacts created set-based (issue 15, "a write path that keeps up").
--
-- At 1M customers a `POST /v1/chat` batch of 100 records, half of them new contacts, took
-- ~75 ms in its statement (~1,330 rows/s) and a new contact ~2-3 times a known one: each
-- new contact went the insert trigger's row path (bucket locks and lookups again, after
-- chat_match_known_batch() had taken and made them, a customer INSERT with its triggers
-- and key INSERT per row, then its side effects in chat_flush_new_customers()). Dropping
-- every secondary index of customer_search bought less than a tenth (docs/performance.md,
-- "Tenth session of 2026-12-08"): the per-row path is the cost, not the indexes.
--
-- chat_match_batch(company, records) answers what chat_match_known_batch() (0043) answers
-- and, in the same lookup, finds the records whose customer the row-by-row rule would
-- certainly create: it creates those customers with one INSERT (customers_after_insert
-- then writes their keys, search rows, audit, events, metrics rows and queue entries
-- set-based, as for any multi-row customer INSERT) and answers their ids.
-- ChatRepository::insert_chats calls it instead of chat_match_known_batch(), which stays
-- (the backfill and tests call it).
--
-- Exactness (the same customers, keys and links as the row-by-row rule in id order):
--   1. Locks, snapshot, paused sync, the failure hook, the tenant check: as 0043 1. and 4.
--   2. A record is "unknown" when, against the state before the batch, its session has no
--      linked row as the rule reads them (the latest 200) and neither its normalized email
--      nor its normalized phone has any key row (of any customer, of any status). The rule
--      then creates a customer from the record (name as the rule cleans it, normalized
--      email and phone, source chat, stage lead) if it has a name, email or phone.
--   3. Records interact only through shared keys (0043 3.). A key is shared when two or
--      more records of the batch have it; its head is the first of them (lowest position).
--      A record joins the group of head H when every shared key it has has head H (so
--      all of them are H's keys, of the same kind; its other keys are its own in the
--      batch). A group is created set-based when every member is unknown, H has a name,
--      email or phone, every record holding one of H's keys is a member, and H's
--      normalized email and phone normalize to themselves (the keys written are the
--      normalization of the stored values; the members, and every other record of the
--      batch, look keys up by the normalization of theirs). Then, in id order: H goes first (it is the group's
--      lowest position) and creates C with H's keys; a member M after it has H's session
--      (the session's latest linked row is a row of the group: C, active), or else H's
--      email (C's only key row) or H's phone (likewise) — each branch of the rule answers
--      C, since M's own other keys are unknown and untouched (no other record holds them;
--      a customer writes keys only for the record creating it). No record outside the
--      group holds a key of it, and C writes no key another record reads: the records of
--      other components see what they saw before.
--   4. Any error in the creation (one exception block) answers NULL for the new records:
--      the row path creates them, or records the failure, as before.
-- The created customers' side effects are written by customers_after_insert at once
-- (not deferred: this runs in no trigger), where the row path defers them to the end of
-- the statement (chat_flush_new_customers): the same rows.
CREATE FUNCTION chat_match_batch(p_company uuid, p_records jsonb) RETURNS uuid[]
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
  SET plan_cache_mode = force_generic_plan
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
REVOKE EXECUTE ON FUNCTION chat_match_batch(uuid, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION chat_match_batch(uuid, jsonb) TO tradesphere_app;
