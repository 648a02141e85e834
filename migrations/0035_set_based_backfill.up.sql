-- Set-based backfill (issue 15: "backfill >= 3,000 rows/s per job"), and one
-- chat_match_customer.
--
-- Until now `tradesphere backfill` linked each legacy chat row with link_chat_row():
-- per row a subtransaction, the matching with a customer created the usual way (its
-- statement-level customer triggers fired once per new customer), an UPDATE whose
-- row triggers applied the metrics (metrics_add, its own subtransaction and advisory
-- lock call) and resolved the row's failures. Now backfill_link_chat_rows() takes a
-- batch the way 0034's multi-row INSERT does:
--   * the batch's rows are locked, then the bucket locks of all their sessions,
--     emails and phones in one statement (ascending, as each row takes its own), then
--     the rows are matched one by one in id order with the same rule
--     (chat_match_customer with p_defer = true: the customer row and its email and
--     phone keys at once, its other side effects deferred; p_locked = true), each
--     link a later row of the same session must see (its session lookup) written
--     before that row is matched, as before, and every other link with one UPDATE
--     after the loop;
--   * the links' row triggers (metrics, failure resolution) are skipped for these
--     rows (app.chat_defer_link_effects, honoured only for the owner logged in as
--     itself: an application session cannot switch the metrics off); instead, once
--     per batch: the deferred customer side effects (chat_flush_new_customers), the
--     metrics per company with the statement of 0034's insert trigger (now
--     chat_metrics_add_rows(), shared by both), the open 'error'/'paused' failures of
--     every examined row resolved (as link_chat_row did for each row it examined);
--   * the batch runs in one subtransaction without a per-row exception block. Any
--     error (a row whose sync fails, a deadlock, the metrics statement) rolls the
--     whole batch back and the batch is linked again row by row with link_chat_row(),
--     which records each failing row in chat_sync_failures with its SQLSTATE exactly
--     as before. So a batch gives the same customers, links, metrics, events and
--     failures as link_chat_row() in id order (tests/pg/chat_ingest_batch_pgtest.cpp,
--     "backfill").
-- Also: the 6-argument chat_match_customer (0034's wrapper) is gone; link_chat_row
-- calls the one function with p_defer = false.

------------------------------------------------------------------------------
-- one chat_match_customer
------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION link_chat_row(p_vc_usage_id bigint) RETURNS uuid
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
AS $$
DECLARE
  r          record;
  v_customer uuid;
  v_state    text;
  v_msg      text;
BEGIN
  SELECT id, company_id, customer_id, session_id, customer_name, customer_email, customer_phone
    INTO r
    FROM "VC Usage" WHERE id = p_vc_usage_id
     FOR UPDATE;
  IF NOT FOUND OR r.company_id IS NULL THEN
    RETURN NULL;
  END IF;
  v_customer := r.customer_id;
  IF v_customer IS NULL THEN
    BEGIN
      v_customer := chat_match_customer(r.company_id, r.id, r.session_id,
                                        r.customer_name, r.customer_email, r.customer_phone, false);
      IF v_customer IS NOT NULL THEN
        UPDATE "VC Usage" SET customer_id = v_customer WHERE id = r.id;
      END IF;
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT;
      PERFORM record_chat_sync_failure(r.company_id, r.id, 'error', v_state, v_msg);
      RETURN NULL;
    END;
  END IF;
  UPDATE chat_sync_failures
     SET resolved_at = now()
   WHERE company_id = r.company_id AND vc_usage_id = r.id
     AND reason IN ('error', 'paused') AND resolved_at IS NULL;
  RETURN v_customer;
END
$$;

DROP FUNCTION chat_match_customer(uuid, bigint, text, text, text, text);

-- 0034's matching, unchanged but for p_locked (one function for every caller: the
-- insert trigger defers, link_chat_row does not, the backfill defers and holds the
-- bucket locks)
DROP FUNCTION chat_match_customer(uuid, bigint, text, text, text, text, boolean);
CREATE FUNCTION chat_match_customer(p_company uuid, p_vc_usage_id bigint, p_session_id text,
                                    p_name text, p_email text, p_phone text, p_defer boolean,
                                    p_locked boolean DEFAULT false) RETURNS uuid
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
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
REVOKE EXECUTE ON FUNCTION chat_match_customer(uuid, bigint, text, text, text, text, boolean, boolean) FROM PUBLIC;

------------------------------------------------------------------------------
-- who may defer
------------------------------------------------------------------------------
-- 0034's test, plus the owner logged in as itself (the backfill calls the matching
-- from a function, so the customer triggers run at depth 1). The owner can switch
-- any trigger off anyway; an application session still cannot defer at depth 1.
CREATE OR REPLACE FUNCTION chat_customer_effects_deferred() RETURNS boolean
  LANGUAGE sql STABLE
  SET search_path = public, pg_temp
AS $$
  SELECT current_setting('app.chat_defer_customer_effects', true) = 'on'
     AND (pg_trigger_depth() > 1 OR session_user = 'tradesphere_owner')
$$;

-- The links the backfill writes skip the row triggers that apply their metrics and
-- resolve their failures (backfill_link_chat_rows does both once per batch). Inline
-- in the WHEN clauses (no function to grant), only for an orphan becoming linked,
-- only for the owner logged in as itself.
DROP TRIGGER trg_vc_usage_metrics_refresh ON "VC Usage";
CREATE TRIGGER trg_vc_usage_metrics_refresh
  AFTER DELETE OR UPDATE OF customer_id, company_id, session_id, created_at, user_message
  ON "VC Usage"
  FOR EACH ROW
  WHEN (OLD.customer_id IS NOT NULL
        OR current_setting('app.chat_defer_link_effects', true) IS DISTINCT FROM 'on'
        OR session_user <> 'tradesphere_owner')
  EXECUTE FUNCTION vc_usage_metrics_refresh();

DROP TRIGGER trg_vc_usage_linked_resolve_failures ON "VC Usage";
CREATE TRIGGER trg_vc_usage_linked_resolve_failures
  AFTER UPDATE OF customer_id ON "VC Usage"
  FOR EACH ROW
  WHEN (OLD.customer_id IS NULL AND NEW.customer_id IS NOT NULL
        AND (current_setting('app.chat_defer_link_effects', true) IS DISTINCT FROM 'on'
             OR session_user <> 'tradesphere_owner'))
  EXECUTE FUNCTION vc_usage_linked_resolve_failures();

------------------------------------------------------------------------------
-- the metrics of a set of linked chat rows (0034's statement, shared)
------------------------------------------------------------------------------
-- Applies the metrics of the company's chat rows p_ids (stored, linked; rows of other
-- companies and unlinked rows are ignored) exactly as metrics_add would row by row in
-- id order with p_new_link = true: 0034's statement, written so that its plan cannot
-- go quadratic or scan a whole company whatever the estimates (its plan is generic:
-- plan_cache_mode, as chat_flush_new_customers, since the single-row insert path
-- calls it too). No join between the statement's own sets: one pass of window
-- functions, one aggregate per customer, and per-row index probes written as scalar
-- subqueries (never turned into hash joins over a whole table). The rows are read
-- through ("VC Usage" id) or (company_id, id), never through the timeline index,
-- whose statistics a running backfill leaves far too small (OFFSET 0 keeps
-- `customer_id IS NOT NULL` from selecting it).
-- Raises when a customer of these rows has no metrics row (drift: metrics_add's
-- insert branch counts differently), so the caller goes row by row.
CREATE FUNCTION chat_metrics_add_rows(p_company uuid, p_ids bigint[]) RETURNS void
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
  SET plan_cache_mode = force_generic_plan
AS $$
BEGIN
  PERFORM pg_advisory_xact_lock_shared(chat_lock_key(p_company, 'metrics', ''));
  -- test hook: lets a test prove that the row-by-row fallbacks give the same metrics
  IF current_setting('app.test_fail_metrics_batch', true) = 'on' THEN
    RAISE EXCEPTION 'set-based chat metrics failure forced by app.test_fail_metrics_batch';
  END IF;

  IF EXISTS (SELECT 1
               FROM (SELECT DISTINCT n.customer_id
                       FROM (SELECT v.customer_id FROM "VC Usage" v
                              WHERE v.company_id = p_company AND v.id = ANY (p_ids) OFFSET 0) n
                      WHERE n.customer_id IS NOT NULL) c
              WHERE (SELECT m.customer_id FROM customer_metrics m
                      WHERE m.company_id = p_company AND m.customer_id = c.customer_id) IS NULL) THEN
    RAISE EXCEPTION 'a customer without a metrics row: row by row';
  END IF;

  WITH r AS (
    SELECT n.customer_id, conversation_key(n.session_id, n.id) AS k, n.id, n.created_at,
           left(n.user_message, 200) AS preview
      FROM (SELECT v.customer_id, v.session_id, v.id, v.created_at, v.user_message FROM "VC Usage" v
             WHERE v.company_id = p_company AND v.id = ANY (p_ids) OFFSET 0) n
     WHERE n.customer_id IS NOT NULL
  ), w AS (
    SELECT r.*,
           row_number() OVER (PARTITION BY r.customer_id, r.k ORDER BY r.id) AS pair_rn,
           count(*) OVER (PARTITION BY r.customer_id, r.k)::integer AS pair_n,
           row_number() OVER (PARTITION BY r.customer_id ORDER BY r.created_at DESC NULLS LAST, r.id DESC) AS last_rn
      FROM r
  ), x AS (
    -- a conversation new to its customer (row by row, the count of its first row
    -- here would be 1): no count before this statement (every sub-statement reads
    -- the same snapshot, so the upsert below does not change what this sees)
    SELECT w.*,
           w.pair_rn = 1 AND coalesce((SELECT c.message_count FROM customer_session_counts c
                                        WHERE c.company_id = p_company AND c.customer_id = w.customer_id
                                          AND c.session_key = w.k), 0) = 0 AS fresh
      FROM w
  ), s AS (
    INSERT INTO customer_session_counts AS s (company_id, customer_id, session_key, message_count)
    SELECT p_company, x.customer_id, x.k, x.pair_n FROM x WHERE x.pair_rn = 1 ORDER BY x.customer_id, x.k
    ON CONFLICT (company_id, customer_id, session_key)
    DO UPDATE SET message_count = s.message_count + EXCLUDED.message_count
  ), per AS (
    SELECT x.customer_id, count(*)::integer AS msgs, min(x.created_at) AS first_at,
           count(*) FILTER (WHERE x.fresh)::integer AS conversations,
           (array_agg(x.created_at) FILTER (WHERE x.last_rn = 1))[1] AS last_at,
           (array_agg(x.id) FILTER (WHERE x.last_rn = 1))[1] AS last_id,
           (array_agg(x.preview) FILTER (WHERE x.last_rn = 1))[1] AS preview
      FROM x GROUP BY x.customer_id
  ), m AS (
    -- conversation_count carries the customer's new conversations of this statement
    INSERT INTO customer_metrics AS m (company_id, customer_id, conversation_count, message_count,
                                       first_contact_at, last_contact_at, last_message_id, last_message_preview)
    SELECT p_company, per.customer_id, per.conversations, per.msgs, per.first_at,
           per.last_at, per.last_id, per.preview
      FROM per
     ORDER BY per.customer_id
    ON CONFLICT (company_id, customer_id) DO UPDATE SET
      conversation_count = m.conversation_count + EXCLUDED.conversation_count,
      message_count = m.message_count + EXCLUDED.message_count,
      first_contact_at = least(m.first_contact_at, EXCLUDED.first_contact_at),
      last_contact_at = CASE WHEN metrics_is_later(EXCLUDED.last_contact_at, EXCLUDED.last_message_id, m.last_contact_at, m.last_message_id)
                             THEN EXCLUDED.last_contact_at ELSE m.last_contact_at END,
      last_message_preview = CASE WHEN metrics_is_later(EXCLUDED.last_contact_at, EXCLUDED.last_message_id, m.last_contact_at, m.last_message_id)
                             THEN EXCLUDED.last_message_preview ELSE m.last_message_preview END,
      last_message_id = CASE WHEN metrics_is_later(EXCLUDED.last_contact_at, EXCLUDED.last_message_id, m.last_contact_at, m.last_message_id)
                             THEN EXCLUDED.last_message_id ELSE m.last_message_id END
  )
  -- a conversation newly attached to its customer, on its first row (as metrics_add)
  INSERT INTO customer_events (company_id, customer_id, event_type, payload)
  SELECT p_company, x.customer_id, 'conversation_linked',
         jsonb_build_object('session_key', x.k, 'vc_usage_id', x.id)
    FROM x
   WHERE x.fresh
   ORDER BY x.id;
END
$$;
REVOKE EXECUTE ON FUNCTION chat_metrics_add_rows(uuid, bigint[]) FROM PUBLIC;

-- 0034's insert trigger, its set-based statement now chat_metrics_add_rows()
CREATE OR REPLACE FUNCTION vc_usage_after_insert_statement() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_prev    text := current_setting('app.company_id', true);
  v_set     text;
  v_company uuid;
  v_state   text;
  v_msg     text;
  v_row     record;
BEGIN
  PERFORM chat_flush_new_customers_retrying();

  FOR v_company IN
    SELECT DISTINCT n.company_id FROM new_chat_rows n WHERE n.customer_id IS NOT NULL
  LOOP
    BEGIN
      IF v_company IS NULL THEN
        RAISE EXCEPTION 'linked chat rows without a company: row by row';
      END IF;
      v_set := set_config('app.company_id', v_company::text, true);
      PERFORM chat_metrics_add_rows(v_company, ARRAY(SELECT n.id FROM new_chat_rows n
                                                      WHERE n.company_id = v_company AND n.customer_id IS NOT NULL));
    EXCEPTION WHEN OTHERS THEN
      -- row by row, as the row trigger did (0012): each row's failure recorded, the row kept
      FOR v_row IN
        SELECT n.company_id, n.customer_id, n.session_id, n.id, n.created_at, n.user_message
          FROM new_chat_rows n
         WHERE n.company_id IS NOT DISTINCT FROM v_company AND n.customer_id IS NOT NULL
         ORDER BY n.id
      LOOP
        BEGIN
          v_set := set_config('app.company_id', coalesce(v_row.company_id::text, ''), true);
          PERFORM pg_advisory_xact_lock_shared(chat_lock_key(v_row.company_id, 'metrics', ''));
          PERFORM metrics_add(v_row.company_id, v_row.customer_id, conversation_key(v_row.session_id, v_row.id),
                              v_row.id, v_row.created_at, v_row.user_message, true);
        EXCEPTION WHEN OTHERS THEN
          GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT;
          v_set := set_config('app.company_id', coalesce(v_row.company_id::text, ''), true);
          PERFORM record_chat_sync_failure(v_row.company_id, v_row.id, 'metrics', v_state, v_msg);
        END;
      END LOOP;
    END;
  END LOOP;
  v_set := set_config('app.company_id', coalesce(v_prev, ''), true);
  RETURN NULL;
END
$$;

------------------------------------------------------------------------------
-- the backfill's batch
------------------------------------------------------------------------------
-- Links up to p_limit orphaned chat rows after id p_after (of company p_company, or
-- of any company when NULL), in id order, as link_chat_row() would one by one; see
-- the header. p_set_based = false: row by row with link_chat_row() (the pre-0035
-- path, kept for comparisons). Returns the rows examined, linked, left unlinked with
-- an open sync failure, the last id examined (p_after when none), and whether the
-- batch went row by row.
CREATE FUNCTION backfill_link_chat_rows(p_company uuid, p_after bigint, p_limit integer,
                                        p_set_based boolean DEFAULT true,
                                        OUT examined integer, OUT linked integer, OUT failed integer,
                                        OUT last_id bigint, OUT row_by_row boolean)
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_ids      bigint[];
  v_id       bigint;
  v_row      record;
  v_customer uuid;
  v_company  uuid;
  v_company_ids bigint[];
  v_later_ids       bigint[] := '{}';
  v_later_customers uuid[] := '{}';
  v_prev     text;
  v_set      text;
BEGIN
  -- the batch, locked (a row linked meanwhile by someone else drops out)
  IF p_company IS NULL THEN
    v_ids := ARRAY(SELECT v.id FROM "VC Usage" v
                    WHERE v.id > p_after AND v.customer_id IS NULL AND v.company_id IS NOT NULL
                    ORDER BY v.id LIMIT p_limit
                      FOR UPDATE);
  ELSE
    v_ids := ARRAY(SELECT v.id FROM "VC Usage" v
                    WHERE v.company_id = p_company AND v.id > p_after AND v.customer_id IS NULL
                    ORDER BY v.id LIMIT p_limit
                      FOR UPDATE);
  END IF;
  examined := cardinality(v_ids);
  last_id := coalesce(v_ids[examined], p_after);
  linked := 0;
  failed := 0;
  row_by_row := NOT p_set_based;
  IF examined = 0 THEN
    RETURN;
  END IF;

  IF p_set_based THEN
    BEGIN
      -- the bucket locks of every row's session, email and phone, at once in ascending
      -- order (chat_match_customer takes the same per row)
      INSERT INTO chat_sync_locks AS l (company_id, lock_key)
      SELECT DISTINCT b.company_id, b.bucket
        FROM (SELECT v.company_id, k & 1048575 AS bucket
                FROM "VC Usage" v
                JOIN companies co ON co.id = v.company_id
               CROSS JOIN LATERAL unnest(ARRAY[
                       chat_lock_key(v.company_id, 'session', nullif(v.session_id, '')),
                       chat_lock_key(v.company_id, 'email', normalize_email(v.customer_email)),
                       chat_lock_key(v.company_id, 'phone', normalize_phone(v.customer_phone, co.default_country_code))]) AS k
               WHERE v.id = ANY (v_ids) AND k IS NOT NULL) b
       ORDER BY b.company_id, b.bucket
      ON CONFLICT (company_id, lock_key) DO UPDATE SET lock_key = EXCLUDED.lock_key WHERE false;

      v_set := set_config('app.chat_defer_link_effects', 'on', true);
      -- seen_again: a later row of the batch has the same session, whose lookup must
      -- see this row's link (the matching reads no other link): written at once.
      -- Every other link is written by one UPDATE after the loop.
      FOR v_row IN
        SELECT v.id, v.company_id, v.session_id, v.customer_name, v.customer_email, v.customer_phone,
               nullif(v.session_id, '') IS NOT NULL
                 AND lead(v.id) OVER (PARTITION BY v.company_id, nullif(v.session_id, '') ORDER BY v.id) IS NOT NULL
                 AS seen_again
          FROM "VC Usage" v
         WHERE v.id = ANY (v_ids)
         ORDER BY v.id
      LOOP
        -- as the insert trigger: a long batch writes the side effects of the customers
        -- created so far, so that the list stays short
        IF length(current_setting('app.chat_new_customers', true)) > 40000 THEN
          PERFORM chat_flush_new_customers_retrying();
        END IF;
        v_customer := chat_match_customer(v_row.company_id, v_row.id, v_row.session_id, v_row.customer_name,
                                          v_row.customer_email, v_row.customer_phone, true, true);
        IF v_customer IS NOT NULL THEN
          IF v_row.seen_again THEN
            UPDATE "VC Usage" SET customer_id = v_customer WHERE id = v_row.id;
          ELSE
            v_later_ids := v_later_ids || v_row.id;
            v_later_customers := v_later_customers || v_customer;
          END IF;
          linked := linked + 1;
        END IF;
      END LOOP;
      UPDATE "VC Usage" v
         SET customer_id = l.customer_id
        FROM unnest(v_later_ids, v_later_customers) AS l (id, customer_id)
       WHERE v.id = l.id;
      v_set := set_config('app.chat_defer_link_effects', 'off', true);

      PERFORM chat_flush_new_customers_retrying();
      v_prev := current_setting('app.company_id', true);
      -- OFFSET 0: through the primary key, never the timeline index (a scan of every
      -- row linked so far: its statistics are those of before the backfill)
      FOR v_company, v_company_ids IN
        SELECT v.company_id, array_agg(v.id)
          FROM (SELECT v.company_id, v.id, v.customer_id FROM "VC Usage" v WHERE v.id = ANY (v_ids) OFFSET 0) v
         WHERE v.customer_id IS NOT NULL
         GROUP BY v.company_id
      LOOP
        v_set := set_config('app.company_id', v_company::text, true);
        PERFORM chat_metrics_add_rows(v_company, v_company_ids);
      END LOOP;
      v_set := set_config('app.company_id', coalesce(v_prev, ''), true);

      UPDATE chat_sync_failures f
         SET resolved_at = now()
        FROM "VC Usage" v
       WHERE v.id = ANY (v_ids) AND f.company_id = v.company_id AND f.vc_usage_id = v.id
         AND f.reason IN ('error', 'paused') AND f.resolved_at IS NULL;
    EXCEPTION WHEN OTHERS THEN
      row_by_row := true;                -- everything above is rolled back
    END;
  END IF;

  IF row_by_row THEN
    linked := 0;
    FOREACH v_id IN ARRAY v_ids LOOP
      IF link_chat_row(v_id) IS NOT NULL THEN
        linked := linked + 1;
      END IF;
    END LOOP;
  END IF;

  SELECT count(DISTINCT v.id)::integer INTO failed
    FROM "VC Usage" v
    JOIN chat_sync_failures f ON f.company_id = v.company_id AND f.vc_usage_id = v.id AND f.resolved_at IS NULL
   WHERE v.id = ANY (v_ids) AND v.customer_id IS NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION backfill_link_chat_rows(uuid, bigint, integer, boolean) FROM PUBLIC;
