-- Back to 0032: the row-level metrics trigger handles INSERT again, the chat sync
-- creates customers with all their side effects at once (0023's matching), the
-- customer triggers lose the deferral test.
DROP TRIGGER trg_vc_usage_after_insert_statement ON "VC Usage";
DROP FUNCTION vc_usage_after_insert_statement();

DROP TRIGGER trg_vc_usage_metrics_refresh ON "VC Usage";
CREATE TRIGGER trg_vc_usage_metrics_refresh
  AFTER INSERT OR DELETE OR UPDATE OF customer_id, company_id, session_id, created_at, user_message
  ON "VC Usage"
  FOR EACH ROW EXECUTE FUNCTION vc_usage_metrics_refresh();

DROP FUNCTION chat_flush_new_customers_retrying();
DROP FUNCTION chat_flush_new_customers();

-- 0011's customers_after_insert
CREATE OR REPLACE FUNCTION customers_after_insert() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_company uuid;
  v_prev    text;
BEGIN
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

-- 0016's customers_duplicate_enqueue_new
CREATE OR REPLACE FUNCTION customers_duplicate_enqueue_new() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
BEGIN
  INSERT INTO duplicate_queue (company_id, customer_id)
  SELECT n.company_id, n.id FROM new_customers_dq n WHERE n.status = 'active'
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$;

DROP FUNCTION chat_customer_effects_deferred();

-- 0012's find_or_create_customer_from_chat
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
  -- app_enter_company(NEW.company_id), inlined
  v_prev := current_setting('app.company_id', true);
  v_set := set_config('app.company_id', NEW.company_id::text, true);
  IF EXISTS (SELECT 1 FROM sync_settings               -- chat_sync_paused(), inlined
              WHERE paused AND (company_id = NEW.company_id OR company_id IS NULL)) THEN
    PERFORM record_chat_sync_failure(NEW.company_id, NEW.id, 'paused', NULL, 'chat sync paused');
  ELSE
    BEGIN
      NEW.customer_id := chat_match_customer(NEW.company_id, NEW.id, NEW.session_id,
                                             NEW.customer_name, NEW.customer_email, NEW.customer_phone);
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

-- 0023's chat_match_customer
CREATE OR REPLACE FUNCTION chat_match_customer(p_company uuid, p_vc_usage_id bigint, p_session_id text,
                                               p_name text, p_email text, p_phone text) RETURNS uuid
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
  INSERT INTO customers (company_id, name, email, phone, source, lifecycle_stage)
  VALUES (p_company, v_name, v_email, v_phone, 'chat', 'lead')
  RETURNING id INTO v_customer;
  RETURN v_customer;
END
$$;

DROP FUNCTION chat_match_customer(uuid, bigint, text, text, text, text, boolean);
