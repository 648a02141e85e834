-- 0006 chat sync: trg_vc_usage_customer_sync_insert -> find_or_create_customer_from_chat(),
-- the pause switch (tradesphere sync pause|resume), the failure/backlog table, and
-- the functions the CLI uses to link rows later (backfill, resume, quarantine).

-- One row per company (company_id set) plus at most one global row (company_id NULL).
CREATE TABLE sync_settings (
  company_id uuid,
  paused     boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text DEFAULT app_actor(),
  CONSTRAINT sync_settings_company_id_key UNIQUE NULLS NOT DISTINCT (company_id),
  CONSTRAINT sync_settings_company_fkey FOREIGN KEY (company_id) REFERENCES companies (id)
);

-- Chat rows the trigger stored orphaned for a reason other than "no contact data":
-- 'error' (matching failed), 'paused' (sync paused), 'metrics' (metrics update
-- failed; see 0007). Open while resolved_at IS NULL.
CREATE TABLE chat_sync_failures (
  id              bigint GENERATED ALWAYS AS IDENTITY,
  company_id      uuid NOT NULL,
  vc_usage_id     bigint NOT NULL,
  reason          text NOT NULL,
  sqlstate        text,
  message         text,
  attempts        integer NOT NULL DEFAULT 1,
  created_at      timestamptz NOT NULL DEFAULT now(),
  last_attempt_at timestamptz NOT NULL DEFAULT now(),
  resolved_at     timestamptz,
  CONSTRAINT chat_sync_failures_pkey PRIMARY KEY (company_id, id),
  -- deferred: the BEFORE INSERT trigger records the failure before the chat row exists
  CONSTRAINT chat_sync_failures_vc_usage_fkey FOREIGN KEY (company_id, vc_usage_id)
    REFERENCES "VC Usage" (company_id, id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  CONSTRAINT chat_sync_failures_reason_check CHECK (reason IN ('error', 'paused', 'metrics'))
);
CREATE INDEX chat_sync_failures_open_idx ON chat_sync_failures (company_id, id) WHERE resolved_at IS NULL;
CREATE INDEX chat_sync_failures_row_idx ON chat_sync_failures (company_id, vc_usage_id);

CREATE FUNCTION chat_sync_paused(p_company uuid) RETURNS boolean
  LANGUAGE sql STABLE
  SET search_path = public, pg_temp
AS $$
  SELECT EXISTS (SELECT 1 FROM sync_settings
                  WHERE paused AND (company_id = p_company OR company_id IS NULL))
$$;

-- 64-bit lock key of one matching key (or session, or 'metrics') of one company.
CREATE FUNCTION chat_lock_key(p_company uuid, p_kind text, p_value text) RETURNS bigint
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT hashtextextended(p_company::text || '|' || p_kind || '|' || p_value, 0) $$;

-- Mutexes of the chat matching: one row per (company, bucket of a key), locked
-- FOR UPDATE until commit. Row locks live in the row, not in the shared lock table,
-- so a backfill transaction linking thousands of rows cannot exhaust it (as
-- thousands of advisory locks would). Keys are hashed into 2^20 buckets per
-- company, which bounds the table; a bucket collision only serializes two unrelated
-- keys.
CREATE TABLE chat_sync_locks (
  company_id uuid NOT NULL,
  lock_key   bigint NOT NULL,
  CONSTRAINT chat_sync_locks_pkey PRIMARY KEY (company_id, lock_key),
  CONSTRAINT chat_sync_locks_company_fkey FOREIGN KEY (company_id) REFERENCES companies (id)
);

-- Locks the buckets of the given keys in ascending order (so single-row syncs never
-- deadlock each other), waiting for the transactions holding them to end.
CREATE FUNCTION chat_sync_lock(p_company uuid, p_keys bigint[]) RETURNS void
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
REVOKE EXECUTE ON FUNCTION chat_sync_lock(uuid, bigint[]) FROM PUBLIC;

-- Records (or counts another attempt of) an open failure. Never raises: a failure
-- to record must not cost the chat row.
CREATE FUNCTION record_chat_sync_failure(p_company uuid, p_vc_usage_id bigint, p_reason text,
                                         p_sqlstate text, p_message text) RETURNS void
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
AS $$
BEGIN
  UPDATE chat_sync_failures
     SET attempts = attempts + 1, sqlstate = p_sqlstate, message = p_message, last_attempt_at = now()
   WHERE company_id = p_company AND vc_usage_id = p_vc_usage_id
     AND reason = p_reason AND resolved_at IS NULL;
  IF NOT FOUND THEN
    INSERT INTO chat_sync_failures (company_id, vc_usage_id, reason, sqlstate, message)
    VALUES (p_company, p_vc_usage_id, p_reason, p_sqlstate, p_message);
  END IF;
EXCEPTION WHEN OTHERS THEN
  RAISE WARNING 'could not record chat sync failure (%) for "VC Usage" id %: %',
    p_reason, p_vc_usage_id, SQLERRM;
END
$$;
REVOKE EXECUTE ON FUNCTION record_chat_sync_failure(uuid, bigint, text, text, text) FROM PUBLIC;

-- Follows merged_into_customer_id to the surviving customer. NULL when the chain
-- ends at a soft-deleted or missing customer (or loops).
CREATE FUNCTION resolve_customer(p_company uuid, p_customer uuid) RETURNS uuid
  LANGUAGE plpgsql STABLE
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_id     uuid := p_customer;
  v_status text;
  v_next   uuid;
BEGIN
  FOR i IN 1..16 LOOP
    IF v_id IS NULL THEN
      RETURN NULL;
    END IF;
    SELECT status, merged_into_customer_id INTO v_status, v_next
      FROM customers WHERE company_id = p_company AND id = v_id;
    IF NOT FOUND THEN
      RETURN NULL;
    ELSIF v_status = 'active' THEN
      RETURN v_id;
    ELSIF v_status <> 'merged' THEN
      RETURN NULL;
    END IF;
    v_id := v_next;
  END LOOP;
  RETURN NULL;
END
$$;

-- The customer a matching key points to: candidates oldest first (active before
-- merged), each resolved through merges; the first that resolves wins.
CREATE FUNCTION match_customer_key(p_company uuid, p_key_type text, p_key_value text) RETURNS uuid
  LANGUAGE plpgsql STABLE
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_candidate uuid;
  v_resolved  uuid;
BEGIN
  FOR v_candidate IN
    SELECT k.customer_id
      FROM customer_matching_keys k
      JOIN customers c ON c.company_id = k.company_id AND c.id = k.customer_id
     WHERE k.company_id = p_company AND k.key_type = p_key_type AND k.key_value = p_key_value
     ORDER BY (c.status = 'active') DESC, c.created_at, c.id
     LIMIT 20
  LOOP
    v_resolved := resolve_customer(p_company, v_candidate);
    IF v_resolved IS NOT NULL THEN
      RETURN v_resolved;
    END IF;
  END LOOP;
  RETURN NULL;
END
$$;

-- The matching rule, shared by the insert trigger and link_chat_row():
--   1. the customer already linked to the same session (latest linked row), if active
--      after resolving merges;
--   2. else the email key, then the phone key; if both match different customers,
--      the email wins and a match_conflict event is written on it;
--   3. else a new customer (source 'chat', stage 'lead') when the row has a name, a
--      valid email or a valid phone; else NULL (the row stays orphaned).
-- Race-free: the session and each key are locked (chat_sync_lock, row locks held
-- until commit) before looking up. Requires READ COMMITTED (each statement sees what
-- the previous lock holder committed).
CREATE FUNCTION chat_match_customer(p_company uuid, p_vc_usage_id bigint, p_session_id text,
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
REVOKE EXECUTE ON FUNCTION chat_match_customer(uuid, bigint, text, text, text, text) FROM PUBLIC;

-- BEFORE INSERT on "VC Usage" for rows without customer_id. Never loses the row:
-- when paused or when matching fails, the row is stored orphaned and the reason is
-- recorded in chat_sync_failures.
CREATE FUNCTION find_or_create_customer_from_chat() RETURNS trigger
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
REVOKE EXECUTE ON FUNCTION find_or_create_customer_from_chat() FROM PUBLIC;

CREATE TRIGGER trg_vc_usage_customer_sync_insert
  BEFORE INSERT ON "VC Usage"
  FOR EACH ROW WHEN (NEW.customer_id IS NULL)
  EXECUTE FUNCTION find_or_create_customer_from_chat();

------------------------------------------------------------------------------
-- Maintenance entry points (owner only: backfill, sync resume, quarantine)
------------------------------------------------------------------------------

-- Links one existing orphaned chat row with the trigger's rule (ignores the pause).
-- Returns the customer, or NULL (no contact data, quarantined, or failed: then the
-- failure is recorded). Resolves the row's open 'error'/'paused' failures on success.
CREATE FUNCTION link_chat_row(p_vc_usage_id bigint) RETURNS uuid
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
REVOKE EXECUTE ON FUNCTION link_chat_row(bigint) FROM PUBLIC;

-- Retries the open 'error'/'paused' failures of a company (oldest first). Does
-- nothing while the company's sync is paused. Returns how many were resolved.
CREATE FUNCTION retry_chat_sync(p_company uuid, p_limit integer DEFAULT 10000) RETURNS integer
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_ids  bigint[];
  v_rows bigint[];
  v_row  bigint;
BEGIN
  IF chat_sync_paused(p_company) THEN
    RETURN 0;
  END IF;
  SELECT array_agg(id ORDER BY id), array_agg(DISTINCT vc_usage_id ORDER BY vc_usage_id)
    INTO v_ids, v_rows
    FROM (SELECT id, vc_usage_id FROM chat_sync_failures
           WHERE company_id = p_company AND resolved_at IS NULL AND reason IN ('error', 'paused')
           ORDER BY id LIMIT p_limit) f;
  IF v_rows IS NULL THEN
    RETURN 0;
  END IF;
  FOREACH v_row IN ARRAY v_rows LOOP     -- oldest row first (session reuse)
    PERFORM link_chat_row(v_row);
  END LOOP;
  RETURN (SELECT count(*) FROM chat_sync_failures
           WHERE company_id = p_company AND id = ANY (v_ids) AND resolved_at IS NOT NULL);
END
$$;
REVOKE EXECUTE ON FUNCTION retry_chat_sync(uuid, integer) FROM PUBLIC;

-- tradesphere sync pause|resume: p_company NULL = the global switch. Resume then
-- calls retry_chat_sync() per company to link the rows stored while paused.
CREATE FUNCTION set_chat_sync_paused(p_company uuid, p_paused boolean) RETURNS void
  LANGUAGE sql
  SET search_path = public, pg_temp
AS $$
  INSERT INTO sync_settings (company_id, paused, updated_at, updated_by)
  VALUES (p_company, p_paused, now(), app_actor())
  ON CONFLICT (company_id) DO UPDATE
     SET paused = EXCLUDED.paused, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by
$$;
REVOKE EXECUTE ON FUNCTION set_chat_sync_paused(uuid, boolean) FROM PUBLIC;

-- Assigns the quarantined chat rows of one tech_id to a company, marks their
-- quarantine entries resolved and links them. Returns the number of rows assigned.
CREATE FUNCTION assign_quarantined_chat_rows(p_tech_id text, p_company uuid) RETURNS integer
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_ids bigint[];
  v_id  bigint;
BEGIN
  WITH u AS (
    UPDATE "VC Usage" SET company_id = p_company
     WHERE company_id IS NULL AND tech_id IS NOT DISTINCT FROM p_tech_id
    RETURNING id
  )
  SELECT array_agg(id ORDER BY id) INTO v_ids FROM u;
  IF v_ids IS NULL THEN
    RETURN 0;
  END IF;
  UPDATE vc_usage_quarantine
     SET resolved_at = now(), resolved_company_id = p_company, resolved_by = app_actor()
   WHERE vc_usage_id = ANY (v_ids) AND resolved_at IS NULL;
  FOREACH v_id IN ARRAY v_ids LOOP
    PERFORM link_chat_row(v_id);
  END LOOP;
  RETURN cardinality(v_ids);
END
$$;
REVOKE EXECUTE ON FUNCTION assign_quarantined_chat_rows(text, uuid) FROM PUBLIC;
