-- 0012 down: the 0006/0007 definitions of the functions 0012 replaced, verbatim.

CREATE OR REPLACE FUNCTION chat_sync_lock(p_company uuid, p_keys bigint[]) RETURNS void
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_bucket bigint;
BEGIN
  FOR v_bucket IN
    SELECT DISTINCT k & 1048575 FROM unnest(p_keys) AS k WHERE k IS NOT NULL ORDER BY 1
  LOOP
    INSERT INTO chat_sync_locks (company_id, lock_key) VALUES (p_company, v_bucket)
    ON CONFLICT (company_id, lock_key) DO NOTHING;
    PERFORM 1 FROM chat_sync_locks
     WHERE company_id = p_company AND lock_key = v_bucket
       FOR UPDATE;
  END LOOP;
END
$$;

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
BEGIN
  -- test hook: lets a test prove that a failing sync never costs the chat row
  IF current_setting('app.test_fail_sync', true) = 'on' THEN
    RAISE EXCEPTION 'chat sync failure forced by app.test_fail_sync';
  END IF;

  SELECT default_country_code INTO v_cc FROM companies WHERE id = p_company;
  v_email := normalize_email(p_email);
  v_phone := normalize_phone(p_phone, v_cc);

  PERFORM chat_sync_lock(p_company, ARRAY[chat_lock_key(p_company, 'session', v_session),
                                           chat_lock_key(p_company, 'email', v_email),
                                           chat_lock_key(p_company, 'phone', v_phone)]);

  IF v_session IS NOT NULL THEN
    -- the session's latest rows through vc_usage_session_idx (the LIMIT keeps the
    -- planner off the customer timeline index, whose scan grows with the tenant)
    SELECT s.customer_id INTO v_customer
      FROM (SELECT v.customer_id FROM "VC Usage" v
             WHERE v.company_id = p_company AND v.session_id = v_session
             ORDER BY v.id DESC LIMIT 200) s
     WHERE s.customer_id IS NOT NULL
     LIMIT 1;
    v_customer := resolve_customer(p_company, v_customer);
    IF v_customer IS NOT NULL THEN
      RETURN v_customer;
    END IF;
  END IF;

  IF v_email IS NOT NULL THEN
    v_by_email := match_customer_key(p_company, 'email', v_email);
  END IF;
  IF v_phone IS NOT NULL THEN
    v_by_phone := match_customer_key(p_company, 'phone', v_phone);
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

CREATE OR REPLACE FUNCTION find_or_create_customer_from_chat() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_prev  text;
  v_state text;
  v_msg   text;
BEGIN
  IF NEW.customer_id IS NOT NULL OR NEW.company_id IS NULL THEN
    RETURN NEW;                          -- explicitly linked, or quarantined
  END IF;
  v_prev := app_enter_company(NEW.company_id);
  IF chat_sync_paused(NEW.company_id) THEN
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
  PERFORM app_leave_company(v_prev);
  RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION vc_usage_metrics_refresh() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_prev  text := current_setting('app.company_id', true);
  v_state text;
  v_msg   text;
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.customer_id IS NULL THEN
      RETURN NULL;
    END IF;
  ELSIF TG_OP = 'DELETE' THEN
    IF OLD.customer_id IS NULL THEN
      RETURN NULL;
    END IF;
  ELSIF (NEW.customer_id IS NULL AND OLD.customer_id IS NULL)
     OR (NEW.customer_id IS NOT DISTINCT FROM OLD.customer_id
         AND NEW.company_id IS NOT DISTINCT FROM OLD.company_id
         AND NEW.session_id IS NOT DISTINCT FROM OLD.session_id
         AND NEW.created_at IS NOT DISTINCT FROM OLD.created_at
         AND NEW.user_message IS NOT DISTINCT FROM OLD.user_message) THEN
    RETURN NULL;
  END IF;

  IF TG_OP = 'DELETE' THEN
    PERFORM app_enter_company(OLD.company_id);
    PERFORM pg_advisory_xact_lock_shared(chat_lock_key(OLD.company_id, 'metrics', ''));
    PERFORM metrics_remove(OLD.company_id, OLD.customer_id, conversation_key(OLD.session_id, OLD.id),
                           OLD.id, OLD.created_at);
    PERFORM app_leave_company(v_prev);
    RETURN NULL;
  END IF;

  BEGIN
    IF TG_OP = 'UPDATE' AND OLD.customer_id IS NOT NULL THEN
      PERFORM app_enter_company(OLD.company_id);
      PERFORM pg_advisory_xact_lock_shared(chat_lock_key(OLD.company_id, 'metrics', ''));
      PERFORM metrics_remove(OLD.company_id, OLD.customer_id, conversation_key(OLD.session_id, OLD.id),
                             OLD.id, OLD.created_at);
    END IF;
    IF NEW.customer_id IS NOT NULL THEN
      PERFORM app_enter_company(NEW.company_id);
      PERFORM pg_advisory_xact_lock_shared(chat_lock_key(NEW.company_id, 'metrics', ''));
      PERFORM metrics_add(NEW.company_id, NEW.customer_id, conversation_key(NEW.session_id, NEW.id),
                          NEW.id, NEW.created_at, NEW.user_message,
                          TG_OP = 'INSERT' OR OLD.customer_id IS NULL);
    END IF;
  EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT;
    PERFORM app_enter_company(NEW.company_id);
    PERFORM record_chat_sync_failure(NEW.company_id, NEW.id, 'metrics', v_state, v_msg);
  END;
  PERFORM app_leave_company(v_prev);
  RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION metrics_add(p_company uuid, p_customer uuid, p_session_key text, p_id bigint,
                            p_created_at timestamptz, p_message text, p_new_link boolean) RETURNS void
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_count integer;
BEGIN
  INSERT INTO customer_session_counts AS s (company_id, customer_id, session_key, message_count)
  VALUES (p_company, p_customer, p_session_key, 1)
  ON CONFLICT (company_id, customer_id, session_key)
  DO UPDATE SET message_count = s.message_count + 1
  RETURNING s.message_count INTO v_count;

  INSERT INTO customer_metrics AS m (company_id, customer_id, conversation_count, message_count,
                                     first_contact_at, last_contact_at, last_message_id, last_message_preview)
  VALUES (p_company, p_customer, 1, 1, p_created_at, p_created_at, p_id, left(p_message, 200))
  ON CONFLICT (company_id, customer_id) DO UPDATE SET
    conversation_count = m.conversation_count + CASE WHEN v_count = 1 THEN 1 ELSE 0 END,
    message_count = m.message_count + 1,
    first_contact_at = least(m.first_contact_at, EXCLUDED.first_contact_at),
    last_contact_at = CASE WHEN m.last_message_id IS NULL
                             OR (EXCLUDED.last_contact_at, EXCLUDED.last_message_id) > (m.last_contact_at, m.last_message_id)
                           THEN EXCLUDED.last_contact_at ELSE m.last_contact_at END,
    last_message_preview = CASE WHEN m.last_message_id IS NULL
                             OR (EXCLUDED.last_contact_at, EXCLUDED.last_message_id) > (m.last_contact_at, m.last_message_id)
                           THEN EXCLUDED.last_message_preview ELSE m.last_message_preview END,
    last_message_id = CASE WHEN m.last_message_id IS NULL
                             OR (EXCLUDED.last_contact_at, EXCLUDED.last_message_id) > (m.last_contact_at, m.last_message_id)
                           THEN EXCLUDED.last_message_id ELSE m.last_message_id END;

  -- a conversation newly attached to this customer (new chat, or an orphan adopted)
  IF v_count = 1 AND p_new_link THEN
    INSERT INTO customer_events (company_id, customer_id, event_type, payload)
    VALUES (p_company, p_customer, 'conversation_linked',
            jsonb_build_object('session_key', p_session_key, 'vc_usage_id', p_id));
  END IF;
END
$$;
