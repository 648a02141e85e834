-- A batch's known contacts matched with one lookup (issue 15, "a write path that keeps up").
--
-- The insert trigger (0034) matches every chat row in its BEFORE ROW trigger: per row
-- a bucket-lock statement, the normalizers, a session lookup, two key lookups and a
-- subtransaction. For a row whose contact already belongs to a customer that is ~0.2 ms
-- of the ~0.3 ms the row costs (100k customers: 500 known-contact rows 165 ms matched
-- row by row, 60 ms with their customer ids given). A BEFORE ROW trigger sees one row,
-- a BEFORE STATEMENT trigger none, so a set-based lookup has to run before the INSERT,
-- where the rows are known: chat_match_known_batch() takes the records of a batch
-- (the JSON array `POST /v1/chat` inserts, ChatRepository::insert_chats) and answers,
-- per record, the customer the row-by-row rule would link it to — or NULL where that is
-- not certain without the row-by-row path. The INSERT then gives the certain ones their
-- customer_id (the trigger leaves explicitly linked rows alone; the statement trigger
-- counts their metrics as before) and the others go through the trigger as before.
--
-- Exactness (the same customer as the row-by-row rule in id order, nothing else written):
--   1. The bucket locks of every record of the batch (session, normalized email, normalized
--      phone; the same buckets, ascending, as the row path and the backfill) are taken
--      first, in their own statement; the lookup is the next statement, so it sees every
--      chat sync that committed on those buckets, and none can commit on them until this
--      transaction ends — as for the row path, which holds its row's buckets from its
--      lookup to the end of the transaction.
--   2. A record is "known" when, against the state before the batch, the rule returns an
--      active customer without writing anything: the session's customer (latest linked
--      rows, as the rule reads them) is active and the email is unknown or its first
--      candidate is that customer; or there is no session customer, the email's first
--      candidate is active and the phone is unknown or its first candidate is the same
--      customer; or neither, and the phone's first candidate is active. Everything else —
--      a customer to create, a merged or deleted first candidate (resolve_customer),
--      the email over the session or an email/phone conflict (they write an event and a
--      duplicate candidate), no contact at all — is not known.
--   3. Records of one batch interact only through shared keys: a row reads the session's
--      linked rows and the email and phone keys, and writes linked rows in its session
--      and (creating a customer) keys for its email and phone. So records are grouped into
--      components connected by a shared session, normalized email or normalized phone. A
--      record keeps its answer only if every record of its component is known and all of
--      them have the same customer C. Then, in id order, every row of the component reads
--      what it read before the batch except linked rows to C in its session, and each branch
--      of the rule answers C again (a session now linked to C with an email unknown or C's;
--      an email or phone of C) — by induction over the component's rows, no row of it
--      writes anything but its link to C, and rows of other components touch none of its
--      keys. The propagation is a recursive query over the shared keys.
--   4. Paused sync, the test hook app.test_fail_sync, an unknown company or any error in
--      the lookup (it runs in one exception block): every record goes the row path.
-- The statement trigger then applies the metrics of all rows set-based, unchanged.

-- plan_cache_mode: the statements take the batch as arrays, for which the plan cache would
-- plan again on every call (0034, chat_flush_new_customers); the generic plan probes the
-- indexes per record, the right plan for any batch.
CREATE FUNCTION chat_match_known_batch(p_company uuid, p_records jsonb) RETURNS uuid[]
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
  v_result uuid[];
BEGIN
  v_n := CASE WHEN jsonb_typeof(p_records) = 'array' THEN jsonb_array_length(p_records) ELSE 0 END;
  IF p_company IS NULL OR v_n = 0 THEN
    RETURN array_fill(NULL::uuid, ARRAY[v_n]);
  END IF;
  -- the application's own tenant only (it is SECURITY DEFINER and callable by the
  -- application): another company's customers are never looked up for it
  IF session_user <> 'tradesphere_owner' AND p_company IS DISTINCT FROM app_current_company() THEN
    RAISE EXCEPTION 'chat_match_known_batch: company % is not the current tenant', p_company
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF current_setting('app.test_fail_sync', true) = 'on'
     OR EXISTS (SELECT 1 FROM sync_settings WHERE paused AND (company_id = p_company OR company_id IS NULL)) THEN
    RETURN array_fill(NULL::uuid, ARRAY[v_n]);
  END IF;
  v_set := set_config('app.company_id', p_company::text, true);
  BEGIN
    SELECT co.default_country_code INTO STRICT v_cc FROM companies co WHERE co.id = p_company;
    -- the keys as the rule normalizes them (chat_match_customer), once
    SELECT array_agg(nullif(x.r->>'session_id', '') ORDER BY x.ord),
           array_agg(normalize_email(x.r->>'customer_email') ORDER BY x.ord),
           array_agg(normalize_phone(x.r->>'customer_phone', v_cc) ORDER BY x.ord)
      INTO v_sessions, v_emails, v_phones
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

    -- 2. and 3. (a new statement: a new snapshot, taken after the locks)
    WITH RECURSIVE e AS MATERIALIZED (
      SELECT u.ord, u.session, u.email, u.phone
        FROM unnest(v_sessions, v_emails, v_phones) WITH ORDINALITY AS u (session, email, phone, ord)
    ), m AS MATERIALIZED (
      SELECT e.ord, e.session, e.email, e.phone,
             s.customer_id AS by_session, sc.status = 'active' AS session_active,
             em.customer_id AS by_email, em.active AS email_active,
             ph.customer_id AS by_phone, ph.active AS phone_active
        FROM e
        -- the rule's session lookup: the session's latest rows through vc_usage_session_idx
        LEFT JOIN LATERAL (SELECT s.customer_id
                             FROM (SELECT v.customer_id FROM "VC Usage" v
                                    WHERE v.company_id = p_company AND v.session_id = e.session
                                    ORDER BY v.id DESC LIMIT 200) s
                            WHERE s.customer_id IS NOT NULL
                            LIMIT 1) s ON e.session IS NOT NULL
        LEFT JOIN customers sc ON sc.company_id = p_company AND sc.id = s.customer_id
        -- the rule's first candidate of a key (match_customer_key's order)
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
             END AS customer_id
        FROM m
    ), keys AS MATERIALIZED (
      SELECT m.ord, k.kind, k.value
        FROM m CROSS JOIN LATERAL (VALUES ('session', m.session), ('email', m.email), ('phone', m.phone)) AS k (kind, value)
       WHERE k.value IS NOT NULL
    ), bad (kind, value) AS (
      -- keys whose records are not all known with one customer ...
      SELECT k.kind, k.value
        FROM keys k JOIN f ON f.ord = k.ord
       GROUP BY k.kind, k.value
      HAVING bool_or(f.customer_id IS NULL) OR count(DISTINCT f.customer_id) > 1
      UNION
      -- ... and, transitively, every other key of their records
      SELECT k2.kind, k2.value
        FROM bad b
        JOIN keys k1 ON k1.kind = b.kind AND k1.value = b.value
        JOIN keys k2 ON k2.ord = k1.ord
    ), tainted AS (
      SELECT DISTINCT k.ord FROM keys k JOIN bad b ON b.kind = k.kind AND b.value = k.value
    )
    SELECT array_agg(CASE WHEN t.ord IS NULL THEN f.customer_id END ORDER BY f.ord)
      INTO v_result
      FROM f LEFT JOIN tainted t ON t.ord = f.ord;
  EXCEPTION WHEN OTHERS THEN
    v_result := array_fill(NULL::uuid, ARRAY[v_n]);  -- the row path decides (and records any failure)
  END;
  v_set := set_config('app.company_id', coalesce(v_prev, ''), true);
  RETURN v_result;
END
$$;
REVOKE EXECUTE ON FUNCTION chat_match_known_batch(uuid, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION chat_match_known_batch(uuid, jsonb) TO tradesphere_app;
