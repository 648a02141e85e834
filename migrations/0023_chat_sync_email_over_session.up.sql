-- One email, one customer in live chat sync (issue 15).
--
-- Until now a chat row with a session went to the session's customer first,
-- even when its email (normalized) already belonged to another active customer:
-- the same email then ended up on two customers' conversations, and a later
-- create with that email was refused (409) although the session's customer never
-- held it. Now, when the session's customer and the email's owner differ, the
-- row goes to the email's owner, a `match_conflict` event (`conflict: session`)
-- records it on that customer, and the two customers become a duplicate candidate with the reason
-- "same session" (score 0.8; an existing pair keeps its higher score and gains
-- the evidence; a dismissed pair is not proposed again). Rows without an email,
-- or whose email is unknown or the session's customer's own, are unchanged:
-- session first. Phones are weaker (shared landlines) and keep session first.
--
-- Also used by link_chat_row() (backfill, repair), so the upgrade follows the
-- same rule.
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
