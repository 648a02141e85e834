-- Set-based chat ingest (issue 15, "a write path that keeps up").
--
-- Until now every chat row of a multi-row INSERT into "VC Usage" ran the matching
-- (BEFORE ROW), and every new contact created its customer with a single-row
-- INSERT, so the statement-level customer triggers (0011 side effects: audit row,
-- matching keys, `created` event, metrics row, search row with its trigram GIN
-- entries and term dictionaries; 0016 duplicate queue) ran once per new customer:
-- ~9 ms each, 60 % of a 500-row batch (pg_stat_statements, track = all, 100k
-- customers). The AFTER ROW metrics trigger then ran one upsert statement, a
-- subtransaction and an advisory lock call per row (~15 %).
--
-- Now:
--   * The matching itself stays row by row in the BEFORE ROW trigger, in id order,
--     with the same function body as 0023 (session first, the email over the
--     session, email before phone, phone, else create), the same bucket locks in
--     ascending order per row, the same exception block and failure records, and
--     it still sets NEW.customer_id (so `INSERT … RETURNING customer_id` answers as
--     before). Only the creation step changed: the customer row and its email and
--     phone keys (what a later row of the same statement matches on) are written
--     at once, while the rest of what customers_after_insert/
--     customers_duplicate_enqueue_new write for a new customer — audit row, name
--     key, `created` event, metrics row, search row, duplicate queue entry — is
--     deferred: the customer is listed in the transaction-local setting
--     app.chat_new_customers and both customer triggers skip the rows created
--     that way (app.chat_defer_customer_effects = 'on' and a trigger depth > 1:
--     only a statement inside another trigger, the chat sync, can ask for it).
--   * One statement-level AFTER INSERT trigger on "VC Usage"
--     (trg_vc_usage_after_insert_statement, transition table new_chat_rows) then
--     (1) writes the deferred side effects of every customer the statement
--     created, one INSERT per table and company (chat_flush_new_customers), and
--     (2) applies the metrics of the inserted rows set-based, per company: one
--     upsert of the session counts, one of customer_metrics, one INSERT of the
--     conversation_linked events. Same values as metrics_add row by row in id
--     order (0012/0020): conversations new to a customer are those whose count
--     was absent before the statement (the event carries the conversation's first
--     row), the last message is the greatest (created_at NULLS FIRST, id).
--     If that statement fails, the company's rows go through metrics_add one by
--     one, each in its own exception block, exactly as the row trigger did (a
--     failing row is recorded as a 'metrics' failure, the chat row is kept).
--     The row-level trigger keeps UPDATE and DELETE.
--
-- Observable differences: none in the rows written. Within one statement the
-- ids of customer_events/customer_audit_log rows are ordered differently (a
-- statement's `created` events and audit rows follow its match_conflict events),
-- and a new customer's audit row and search row appear at the end of the
-- statement instead of in its middle. An error while writing the deferred side
-- effects (a deadlock is retried twice) fails the statement; before, the same
-- error inside the row's sync left that row orphaned with a recorded failure.

------------------------------------------------------------------------------
-- the matching, with deferred side effects of a created customer
------------------------------------------------------------------------------
CREATE FUNCTION chat_match_customer(p_company uuid, p_vc_usage_id bigint, p_session_id text,
                                    p_name text, p_email text, p_phone text, p_defer boolean) RETURNS uuid
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

  -- chat_sync_lock(), inlined
  INSERT INTO chat_sync_locks AS l (company_id, lock_key)
  SELECT p_company, b.bucket
    FROM (SELECT DISTINCT k & 1048575 AS bucket
            FROM unnest(ARRAY[chat_lock_key(p_company, 'session', v_session),
                              chat_lock_key(p_company, 'email', v_email),
                              chat_lock_key(p_company, 'phone', v_phone)]) AS k
           WHERE k IS NOT NULL) b
   ORDER BY b.bucket
  ON CONFLICT (company_id, lock_key) DO UPDATE SET lock_key = EXCLUDED.lock_key WHERE false;

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
REVOKE EXECUTE ON FUNCTION chat_match_customer(uuid, bigint, text, text, text, text, boolean) FROM PUBLIC;

-- The 6-argument rule (link_chat_row, retry, backfill): creates customers the
-- usual way (all side effects by the customer triggers at once).
CREATE OR REPLACE FUNCTION chat_match_customer(p_company uuid, p_vc_usage_id bigint, p_session_id text,
                                               p_name text, p_email text, p_phone text) RETURNS uuid
  LANGUAGE sql
  SET search_path = public, pg_temp
AS $$
  SELECT chat_match_customer(p_company, p_vc_usage_id, p_session_id, p_name, p_email, p_phone, false)
$$;

CREATE OR REPLACE FUNCTION find_or_create_customer_from_chat() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_prev  text;
  v_set   text;
  v_state text;
  v_msg   text;
BEGIN
  IF NEW.customer_id IS NOT NULL OR NEW.company_id IS NULL THEN
    RETURN NEW;                          -- explicitly linked, or quarantined
  END IF;
  -- A long statement (~540 new customers so far): their side effects now, so that the
  -- list stays short (each append copies it). Nothing the matching reads is written.
  IF length(current_setting('app.chat_new_customers', true)) > 40000 THEN
    PERFORM chat_flush_new_customers_retrying();
  END IF;
  -- app_enter_company(NEW.company_id), inlined
  v_prev := current_setting('app.company_id', true);
  v_set := set_config('app.company_id', NEW.company_id::text, true);
  IF EXISTS (SELECT 1 FROM sync_settings               -- chat_sync_paused(), inlined
              WHERE paused AND (company_id = NEW.company_id OR company_id IS NULL)) THEN
    PERFORM record_chat_sync_failure(NEW.company_id, NEW.id, 'paused', NULL, 'chat sync paused');
  ELSE
    BEGIN
      NEW.customer_id := chat_match_customer(NEW.company_id, NEW.id, NEW.session_id,
                                             NEW.customer_name, NEW.customer_email, NEW.customer_phone, true);
    EXCEPTION WHEN OTHERS THEN
      GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT;
      NEW.customer_id := NULL;
      PERFORM record_chat_sync_failure(NEW.company_id, NEW.id, 'error', v_state, v_msg);
    END;
  END IF;
  v_set := set_config('app.company_id', coalesce(v_prev, ''), true);  -- app_leave_company(v_prev)
  RETURN NEW;
END
$$;

------------------------------------------------------------------------------
-- the customer triggers skip what the chat sync defers
------------------------------------------------------------------------------
-- True inside the chat sync's own INSERT INTO customers. The depth test keeps an
-- application statement (depth 1 for its customer triggers) from skipping them by
-- setting the flag itself; chat_flush_new_customers() writes what was skipped.
CREATE FUNCTION chat_customer_effects_deferred() RETURNS boolean
  LANGUAGE sql STABLE
  SET search_path = public, pg_temp
AS $$
  SELECT pg_trigger_depth() > 1
     AND current_setting('app.chat_defer_customer_effects', true) = 'on'
$$;
REVOKE EXECUTE ON FUNCTION chat_customer_effects_deferred() FROM PUBLIC;

-- 0011's function, with the deferral test first
CREATE OR REPLACE FUNCTION customers_after_insert() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_company uuid;
  v_prev    text;
BEGIN
  IF chat_customer_effects_deferred() THEN
    RETURN NULL;                         -- chat_flush_new_customers() writes them
  END IF;
  FOR v_company IN SELECT DISTINCT n.company_id FROM new_customers n LOOP
    v_prev := app_enter_company(v_company);

    INSERT INTO customer_audit_log (company_id, table_name, operation, record_id, customer_id,
                                    before, after, changed_fields, actor, correlation_id)
    SELECT n.company_id, 'customers', 'INSERT', n.id::text, n.id, NULL, to_jsonb(n), NULL,
           app_actor(), app_correlation_id()
      FROM new_customers n
     WHERE n.company_id = v_company;

    -- normalized once per row in a sub-select (OFFSET 0 keeps the planner from pulling
    -- the calls into the VALUES list, which was 5x slower)
    INSERT INTO customer_matching_keys (company_id, key_type, key_value, customer_id)
    SELECT n.company_id, k.key_type, k.key_value, n.id
      FROM (SELECT c.company_id, c.id, normalize_email(c.email) AS email,
                   normalize_phone(c.phone, co.default_country_code) AS phone, normalize_name(c.name) AS name
              FROM new_customers c
              JOIN companies co ON co.id = c.company_id
             WHERE c.company_id = v_company AND c.status <> 'deleted'
            OFFSET 0) n
     CROSS JOIN LATERAL (VALUES ('email', n.email), ('phone', n.phone), ('name', n.name)) AS k (key_type, key_value)
     WHERE k.key_value IS NOT NULL;

    INSERT INTO customer_events (company_id, customer_id, event_type, payload)
    SELECT n.company_id, n.id, 'created',
           jsonb_build_object('source', n.source, 'name', n.name, 'email', n.email,
                              'phone', n.phone, 'lifecycle_stage', n.lifecycle_stage,
                              'status', n.status)
      FROM new_customers n
     WHERE n.company_id = v_company;

    INSERT INTO customer_metrics (company_id, customer_id, customer_status)
    SELECT n.company_id, n.id, n.status
      FROM new_customers n
     WHERE n.company_id = v_company;

    INSERT INTO customer_search (company_id, customer_id, name, email_lc, phone_digits)
    SELECT n.company_id, n.id, n.name, lower(n.email), phone_digits(n.phone)
      FROM new_customers n
     WHERE n.company_id = v_company AND n.status = 'active';

    PERFORM app_leave_company(v_prev);
  END LOOP;
  RETURN NULL;
END
$$;

-- 0016's function, with the deferral test first
CREATE OR REPLACE FUNCTION customers_duplicate_enqueue_new() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
BEGIN
  IF chat_customer_effects_deferred() THEN
    RETURN NULL;                         -- chat_flush_new_customers() enqueues them
  END IF;
  INSERT INTO duplicate_queue (company_id, customer_id)
  SELECT n.company_id, n.id FROM new_customers_dq n WHERE n.status = 'active'
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;

-- What customers_after_insert and customers_duplicate_enqueue_new would have
-- written for the customers the chat sync created in this statement (listed in
-- app.chat_new_customers as company/id, in creation order), minus the email and
-- phone keys written at creation: one INSERT per table and company. A listed
-- customer that already has its metrics row (every customer gets one with its
-- side effects) is skipped, so a list forged by the session cannot write
-- anything twice.
-- plan_cache_mode: its statements take the list as array parameters, so the plan
-- cache would re-plan them on every call (a custom plan always looks cheaper for a
-- given array), ~3 ms per single-row chat insert that creates a customer; the generic
-- plan (index lookups by id) is the right one for any list.
CREATE FUNCTION chat_flush_new_customers() RETURNS void
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
  SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
  v_list    text := current_setting('app.chat_new_customers', true);
  v_prev    text;
  v_set     text;
  v_company uuid;
  v_ids     uuid[];
BEGIN
  IF v_list IS NULL OR v_list = '' THEN
    RETURN;
  END IF;
  v_set := set_config('app.chat_new_customers', '', true);
  v_prev := current_setting('app.company_id', true);
  FOR v_company, v_ids IN
    SELECT split_part(e.item, '/', 1)::uuid,
           array_agg(split_part(e.item, '/', 2)::uuid ORDER BY e.ord)
      FROM (SELECT l.item, min(l.ord) AS ord
              FROM unnest(string_to_array(v_list, ',')) WITH ORDINALITY AS l (item, ord)
             GROUP BY l.item) e
     GROUP BY 1
     ORDER BY min(e.ord)
  LOOP
    v_set := set_config('app.company_id', v_company::text, true);
    v_ids := ARRAY(SELECT u.id
                     FROM unnest(v_ids) WITH ORDINALITY AS u (id, ord)
                    WHERE EXISTS (SELECT 1 FROM customers c WHERE c.company_id = v_company AND c.id = u.id)
                      AND NOT EXISTS (SELECT 1 FROM customer_metrics m
                                       WHERE m.company_id = v_company AND m.customer_id = u.id)
                    ORDER BY u.ord);
    CONTINUE WHEN cardinality(v_ids) = 0;

    INSERT INTO customer_audit_log (company_id, table_name, operation, record_id, customer_id,
                                    before, after, changed_fields, actor, correlation_id)
    SELECT n.company_id, 'customers', 'INSERT', n.id::text, n.id, NULL, to_jsonb(n), NULL,
           app_actor(), app_correlation_id()
      FROM unnest(v_ids) WITH ORDINALITY AS u (id, ord)
      JOIN customers n ON n.company_id = v_company AND n.id = u.id
     ORDER BY u.ord;

    INSERT INTO customer_matching_keys (company_id, key_type, key_value, customer_id)
    SELECT n.company_id, 'name', n.name_key, n.id
      FROM (SELECT c.company_id, c.id, normalize_name(c.name) AS name_key, u.ord
              FROM unnest(v_ids) WITH ORDINALITY AS u (id, ord)
              JOIN customers c ON c.company_id = v_company AND c.id = u.id
             WHERE c.status <> 'deleted'
            OFFSET 0) n
     WHERE n.name_key IS NOT NULL
     ORDER BY n.ord;

    INSERT INTO customer_events (company_id, customer_id, event_type, payload)
    SELECT n.company_id, n.id, 'created',
           jsonb_build_object('source', n.source, 'name', n.name, 'email', n.email,
                              'phone', n.phone, 'lifecycle_stage', n.lifecycle_stage,
                              'status', n.status)
      FROM unnest(v_ids) WITH ORDINALITY AS u (id, ord)
      JOIN customers n ON n.company_id = v_company AND n.id = u.id
     ORDER BY u.ord;

    INSERT INTO customer_metrics (company_id, customer_id, customer_status)
    SELECT n.company_id, n.id, n.status
      FROM unnest(v_ids) WITH ORDINALITY AS u (id, ord)
      JOIN customers n ON n.company_id = v_company AND n.id = u.id
     ORDER BY u.ord;

    INSERT INTO customer_search (company_id, customer_id, name, email_lc, phone_digits)
    SELECT n.company_id, n.id, n.name, lower(n.email), phone_digits(n.phone)
      FROM unnest(v_ids) WITH ORDINALITY AS u (id, ord)
      JOIN customers n ON n.company_id = v_company AND n.id = u.id
     WHERE n.status = 'active'
     ORDER BY u.ord;

    INSERT INTO duplicate_queue (company_id, customer_id)
    SELECT n.company_id, n.id
      FROM unnest(v_ids) WITH ORDINALITY AS u (id, ord)
      JOIN customers n ON n.company_id = v_company AND n.id = u.id
     WHERE n.status = 'active'
     ORDER BY u.ord
    ON CONFLICT DO NOTHING;
  END LOOP;
  v_set := set_config('app.company_id', coalesce(v_prev, ''), true);
END
$$;
REVOKE EXECUTE ON FUNCTION chat_flush_new_customers() FROM PUBLIC;

-- The flush, a deadlock retried (twice): the term dictionaries' upserts of two
-- statements creating customers with the same names can lock in opposite orders.
-- The failed attempt is rolled back with its locks (and the list restored), so the
-- next one waits for the other transaction instead. Any other error fails the
-- statement: the customers it created are linked already and cannot be taken back
-- (before 0034 such an error was caught per row, which stayed orphaned).
CREATE FUNCTION chat_flush_new_customers_retrying() RETURNS void
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
AS $$
BEGIN
  IF coalesce(current_setting('app.chat_new_customers', true), '') = '' THEN
    RETURN;                              -- nothing to write: no subtransaction
  END IF;
  FOR v_attempt IN 1..3 LOOP
    BEGIN
      -- test hook: the first N attempts fail as if deadlocked
      IF v_attempt <= coalesce(nullif(current_setting('app.test_flush_deadlocks', true), '')::integer, 0) THEN
        RAISE EXCEPTION 'deadlock forced by app.test_flush_deadlocks' USING ERRCODE = 'deadlock_detected';
      END IF;
      PERFORM chat_flush_new_customers();
      RETURN;
    EXCEPTION WHEN deadlock_detected THEN
      IF v_attempt = 3 THEN
        RAISE;
      END IF;
    END;
  END LOOP;
END
$$;
REVOKE EXECUTE ON FUNCTION chat_flush_new_customers_retrying() FROM PUBLIC;

------------------------------------------------------------------------------
-- the statement's metrics, set-based
------------------------------------------------------------------------------
CREATE FUNCTION vc_usage_after_insert_statement() RETURNS trigger
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
      PERFORM pg_advisory_xact_lock_shared(chat_lock_key(v_company, 'metrics', ''));
      -- test hook: lets a test prove that the row-by-row fallback gives the same metrics
      IF current_setting('app.test_fail_metrics_batch', true) = 'on' THEN
        RAISE EXCEPTION 'set-based chat metrics failure forced by app.test_fail_metrics_batch';
      END IF;

      -- every customer of these rows has its metrics row (created with the customer);
      -- one without it (drift) goes row by row: metrics_add's insert branch counts
      -- differently
      IF EXISTS (SELECT 1 FROM new_chat_rows n
                  WHERE n.company_id = v_company AND n.customer_id IS NOT NULL
                    AND NOT EXISTS (SELECT 1 FROM customer_metrics m
                                     WHERE m.company_id = v_company AND m.customer_id = n.customer_id)) THEN
        RAISE EXCEPTION 'a customer without a metrics row: row by row';
      END IF;

      WITH r AS (
        SELECT n.customer_id, conversation_key(n.session_id, n.id) AS k, n.id, n.created_at, n.user_message
          FROM new_chat_rows n
         WHERE n.company_id = v_company AND n.customer_id IS NOT NULL
      ), pairs AS (
        SELECT r.customer_id, r.k, count(*)::integer AS n, min(r.id) AS first_id
          FROM r GROUP BY r.customer_id, r.k
      ), s AS (
        INSERT INTO customer_session_counts AS s (company_id, customer_id, session_key, message_count)
        SELECT v_company, p.customer_id, p.k, p.n FROM pairs p ORDER BY p.customer_id, p.k
        ON CONFLICT (company_id, customer_id, session_key)
        DO UPDATE SET message_count = s.message_count + EXCLUDED.message_count
        RETURNING s.customer_id, s.session_key, s.message_count
      ), fresh AS (
        -- conversations new to their customer: row by row, the count of their
        -- first row of this statement was 1
        SELECT p.customer_id, p.k, p.first_id
          FROM pairs p
          JOIN s ON s.customer_id = p.customer_id AND s.session_key = p.k
         WHERE s.message_count = p.n
      ), per AS (
        SELECT r.customer_id, count(*)::integer AS msgs, min(r.created_at) AS first_at
          FROM r GROUP BY r.customer_id
      ), last AS (
        SELECT DISTINCT ON (r.customer_id) r.customer_id, r.created_at, r.id, left(r.user_message, 200) AS preview
          FROM r ORDER BY r.customer_id, r.created_at DESC NULLS LAST, r.id DESC
      ), fresh_per AS (
        SELECT f.customer_id, count(*)::integer AS n FROM fresh f GROUP BY f.customer_id
      ), m AS (
        -- conversation_count carries the customer's new conversations of this statement
        INSERT INTO customer_metrics AS m (company_id, customer_id, conversation_count, message_count,
                                           first_contact_at, last_contact_at, last_message_id, last_message_preview)
        SELECT v_company, per.customer_id, coalesce(fp.n, 0), per.msgs, per.first_at,
               last.created_at, last.id, last.preview
          FROM per
          JOIN last ON last.customer_id = per.customer_id
          LEFT JOIN fresh_per fp ON fp.customer_id = per.customer_id
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
      SELECT v_company, f.customer_id, 'conversation_linked',
             jsonb_build_object('session_key', f.k, 'vc_usage_id', f.first_id)
        FROM fresh f
       ORDER BY f.first_id;
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
REVOKE EXECUTE ON FUNCTION vc_usage_after_insert_statement() FROM PUBLIC;

DROP TRIGGER trg_vc_usage_metrics_refresh ON "VC Usage";
CREATE TRIGGER trg_vc_usage_metrics_refresh
  AFTER DELETE OR UPDATE OF customer_id, company_id, session_id, created_at, user_message
  ON "VC Usage"
  FOR EACH ROW EXECUTE FUNCTION vc_usage_metrics_refresh();

CREATE TRIGGER trg_vc_usage_after_insert_statement
  AFTER INSERT ON "VC Usage"
  REFERENCING NEW TABLE AS new_chat_rows
  FOR EACH STATEMENT EXECUTE FUNCTION vc_usage_after_insert_statement();
