-- Back to 0034: the backfill's batch function and the shared metrics statement go,
-- 0034's insert trigger has its statement inline again, the link triggers lose the
-- deferral test, only depth > 1 defers customer side effects, and the 6-argument
-- chat_match_customer wrapper (link_chat_row calls it) is back.
DROP FUNCTION backfill_link_chat_rows(uuid, bigint, integer, boolean);

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

DROP FUNCTION chat_metrics_add_rows(uuid, bigint[]);

DROP TRIGGER trg_vc_usage_linked_resolve_failures ON "VC Usage";
CREATE TRIGGER trg_vc_usage_linked_resolve_failures
  AFTER UPDATE OF customer_id ON "VC Usage"
  FOR EACH ROW
  WHEN (OLD.customer_id IS NULL AND NEW.customer_id IS NOT NULL)
  EXECUTE FUNCTION vc_usage_linked_resolve_failures();

DROP TRIGGER trg_vc_usage_metrics_refresh ON "VC Usage";
CREATE TRIGGER trg_vc_usage_metrics_refresh
  AFTER DELETE OR UPDATE OF customer_id, company_id, session_id, created_at, user_message
  ON "VC Usage"
  FOR EACH ROW EXECUTE FUNCTION vc_usage_metrics_refresh();

CREATE OR REPLACE FUNCTION chat_customer_effects_deferred() RETURNS boolean
  LANGUAGE sql STABLE
  SET search_path = public, pg_temp
AS $$
  SELECT pg_trigger_depth() > 1
     AND current_setting('app.chat_defer_customer_effects', true) = 'on'
$$;

-- 0034's matching
DROP FUNCTION chat_match_customer(uuid, bigint, text, text, text, text, boolean, boolean);
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
REVOKE EXECUTE ON FUNCTION chat_match_customer(uuid, bigint, text, text, text, text) FROM PUBLIC;

-- 0006's link_chat_row
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
                                        r.customer_name, r.customer_email, r.customer_phone);
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
