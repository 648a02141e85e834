-- 0007 customer_metrics as a table maintained incrementally by
-- trg_vc_usage_metrics_refresh: O(1) work per chat insert/update/delete/relink (plus
-- an index lookup when the first/last message of a customer goes away), instead of
-- refreshing a materialized view over all customers.

-- A conversation is a distinct non-empty session_id; a chat row without session_id
-- is a conversation of its own.
CREATE FUNCTION conversation_key(p_session_id text, p_id bigint) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN p_session_id IS NULL OR p_session_id = '' THEN 'row:' || p_id ELSE p_session_id END $$;

-- Messages per (customer, conversation): makes conversation_count decrements exact.
CREATE TABLE customer_session_counts (
  company_id    uuid NOT NULL,
  customer_id   uuid NOT NULL,
  session_key   text NOT NULL,
  message_count integer NOT NULL,
  CONSTRAINT customer_session_counts_pkey PRIMARY KEY (company_id, customer_id, session_key),
  CONSTRAINT customer_session_counts_customer_fkey FOREIGN KEY (company_id, customer_id)
    REFERENCES customers (company_id, id) ON DELETE CASCADE,
  CONSTRAINT customer_session_counts_message_count_check CHECK (message_count > 0)
);

-- One row per customer (created with the customer). customer_status mirrors
-- customers.status so list pages sorted by a metric can use one index.
CREATE TABLE customer_metrics (
  company_id           uuid NOT NULL,
  customer_id          uuid NOT NULL,
  customer_status      text NOT NULL DEFAULT 'active',
  conversation_count   integer NOT NULL DEFAULT 0,
  message_count        bigint NOT NULL DEFAULT 0,
  first_contact_at     timestamptz,
  last_contact_at      timestamptz,
  last_message_id      bigint,
  last_message_preview text,
  CONSTRAINT customer_metrics_pkey PRIMARY KEY (company_id, customer_id),
  CONSTRAINT customer_metrics_customer_fkey FOREIGN KEY (company_id, customer_id)
    REFERENCES customers (company_id, id) ON DELETE CASCADE,
  CONSTRAINT customer_metrics_counts_check CHECK (conversation_count >= 0 AND message_count >= 0)
);
-- Keyset pagination by last contact (never contacted = oldest: NULLS FIRST when
-- ascending, NULLS LAST when descending) and by conversation count.
CREATE INDEX customer_metrics_last_contact_idx ON customer_metrics
  (company_id, customer_status, last_contact_at NULLS FIRST, customer_id);
CREATE INDEX customer_metrics_conversations_idx ON customer_metrics
  (company_id, customer_status, conversation_count, customer_id);

------------------------------------------------------------------------------
-- Incremental maintenance
------------------------------------------------------------------------------

-- Recomputes first/last contact and the preview from the customer's timeline index.
CREATE FUNCTION metrics_recompute_bounds(p_company uuid, p_customer uuid) RETURNS void
  LANGUAGE sql
  SET search_path = public, pg_temp
AS $$
  UPDATE customer_metrics m
     SET first_contact_at = (SELECT min(v.created_at) FROM "VC Usage" v
                              WHERE v.company_id = p_company AND v.customer_id = p_customer),
         (last_contact_at, last_message_id, last_message_preview) =
           (SELECT v.created_at, v.id, left(v.user_message, 200) FROM "VC Usage" v
             WHERE v.company_id = p_company AND v.customer_id = p_customer
             ORDER BY v.created_at DESC, v.id DESC LIMIT 1)
   WHERE m.company_id = p_company AND m.customer_id = p_customer
$$;
REVOKE EXECUTE ON FUNCTION metrics_recompute_bounds(uuid, uuid) FROM PUBLIC;

CREATE FUNCTION metrics_add(p_company uuid, p_customer uuid, p_session_key text, p_id bigint,
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
REVOKE EXECUTE ON FUNCTION metrics_add(uuid, uuid, text, bigint, timestamptz, text, boolean) FROM PUBLIC;

CREATE FUNCTION metrics_remove(p_company uuid, p_customer uuid, p_session_key text, p_id bigint,
                               p_created_at timestamptz) RETURNS void
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_gone    boolean;
  v_first   timestamptz;
  v_last_id bigint;
  v_msgs    bigint;
BEGIN
  DELETE FROM customer_session_counts
   WHERE company_id = p_company AND customer_id = p_customer AND session_key = p_session_key
     AND message_count = 1;
  v_gone := FOUND;
  IF NOT v_gone THEN
    UPDATE customer_session_counts SET message_count = message_count - 1
     WHERE company_id = p_company AND customer_id = p_customer AND session_key = p_session_key;
  END IF;

  UPDATE customer_metrics
     SET message_count = message_count - 1,
         conversation_count = conversation_count - CASE WHEN v_gone THEN 1 ELSE 0 END
   WHERE company_id = p_company AND customer_id = p_customer
  RETURNING first_contact_at, last_message_id, message_count INTO v_first, v_last_id, v_msgs;

  -- the first or the last message went away: look the new bounds up in the index
  IF FOUND AND (v_msgs = 0 OR p_created_at <= v_first OR p_id = v_last_id) THEN
    PERFORM metrics_recompute_bounds(p_company, p_customer);
  END IF;
END
$$;
REVOKE EXECUTE ON FUNCTION metrics_remove(uuid, uuid, text, bigint, timestamptz) FROM PUBLIC;

-- AFTER INSERT/UPDATE/DELETE on "VC Usage". Takes a shared per-company advisory
-- lock so rebuild_customer_metrics() (exclusive) sees a quiet company. A failure on
-- insert/update is recorded (reason 'metrics', fixed by repair_customer_metrics())
-- instead of costing the chat row; a failure on delete is raised.
CREATE FUNCTION vc_usage_metrics_refresh() RETURNS trigger
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
REVOKE EXECUTE ON FUNCTION vc_usage_metrics_refresh() FROM PUBLIC;

CREATE TRIGGER trg_vc_usage_metrics_refresh
  AFTER INSERT OR DELETE OR UPDATE OF customer_id, company_id, session_id, created_at, user_message
  ON "VC Usage"
  FOR EACH ROW EXECUTE FUNCTION vc_usage_metrics_refresh();

-- Every customer has a metrics row; its customer_status follows customers.status.
CREATE FUNCTION customers_metrics_row() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_prev text;
BEGIN
  IF TG_OP = 'UPDATE' AND NEW.status IS NOT DISTINCT FROM OLD.status THEN
    RETURN NULL;
  END IF;
  v_prev := app_enter_company(NEW.company_id);
  INSERT INTO customer_metrics (company_id, customer_id, customer_status)
  VALUES (NEW.company_id, NEW.id, NEW.status)
  ON CONFLICT (company_id, customer_id) DO UPDATE SET customer_status = EXCLUDED.customer_status;
  PERFORM app_leave_company(v_prev);
  RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION customers_metrics_row() FROM PUBLIC;

CREATE TRIGGER trg_customers_metrics_row
  AFTER INSERT OR UPDATE OF status ON customers
  FOR EACH ROW EXECUTE FUNCTION customers_metrics_row();

------------------------------------------------------------------------------
-- From-scratch recomputation, rebuild and drift check (owner / CLI)
------------------------------------------------------------------------------

-- What customer_metrics must hold for a company (or one customer), computed from
-- "VC Usage" alone.
CREATE FUNCTION customer_metrics_expected(p_company uuid, p_customer uuid DEFAULT NULL)
  RETURNS TABLE (customer_id uuid, customer_status text, conversation_count integer,
                 message_count bigint, first_contact_at timestamptz, last_contact_at timestamptz,
                 last_message_id bigint, last_message_preview text)
  LANGUAGE sql STABLE
  SET search_path = public, pg_temp
AS $$
  WITH r AS (
    SELECT v.customer_id AS cid, v.id AS vid, v.created_at AS at, v.user_message AS msg,
           conversation_key(v.session_id, v.id) AS k
      FROM "VC Usage" v
     WHERE v.company_id = p_company AND v.customer_id IS NOT NULL
       AND (p_customer IS NULL OR v.customer_id = p_customer)
  ), agg AS (
    SELECT r.cid, count(DISTINCT r.k)::integer AS conv, count(*) AS msgs, min(r.at) AS first_at
      FROM r GROUP BY r.cid
  ), last AS (
    SELECT DISTINCT ON (r.cid) r.cid, r.at, r.vid, left(r.msg, 200) AS preview
      FROM r ORDER BY r.cid, r.at DESC, r.vid DESC
  )
  SELECT c.id, c.status, coalesce(a.conv, 0), coalesce(a.msgs, 0), a.first_at, l.at, l.vid, l.preview
    FROM customers c
    LEFT JOIN agg a ON a.cid = c.id
    LEFT JOIN last l ON l.cid = c.id
   WHERE c.company_id = p_company AND (p_customer IS NULL OR c.id = p_customer)
$$;
REVOKE EXECUTE ON FUNCTION customer_metrics_expected(uuid, uuid) FROM PUBLIC;

-- Recomputes customer_session_counts and customer_metrics of a company (or of one
-- customer) from scratch. Waits for in-flight chat writes of the company and
-- blocks new ones meanwhile. Returns the number of metrics rows written.
CREATE FUNCTION rebuild_customer_metrics(p_company uuid, p_customer uuid DEFAULT NULL) RETURNS integer
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_rows integer;
BEGIN
  PERFORM pg_advisory_xact_lock(chat_lock_key(p_company, 'metrics', ''));
  DELETE FROM customer_session_counts s
   WHERE s.company_id = p_company AND (p_customer IS NULL OR s.customer_id = p_customer);
  INSERT INTO customer_session_counts (company_id, customer_id, session_key, message_count)
  SELECT p_company, v.customer_id, conversation_key(v.session_id, v.id), count(*)
    FROM "VC Usage" v
   WHERE v.company_id = p_company AND v.customer_id IS NOT NULL
     AND (p_customer IS NULL OR v.customer_id = p_customer)
   GROUP BY 2, 3;
  INSERT INTO customer_metrics AS m (company_id, customer_id, customer_status, conversation_count, message_count,
                                     first_contact_at, last_contact_at, last_message_id, last_message_preview)
  SELECT p_company, e.customer_id, e.customer_status, e.conversation_count, e.message_count,
         e.first_contact_at, e.last_contact_at, e.last_message_id, e.last_message_preview
    FROM customer_metrics_expected(p_company, p_customer) e
  ON CONFLICT (company_id, customer_id) DO UPDATE SET
    customer_status = EXCLUDED.customer_status,
    conversation_count = EXCLUDED.conversation_count,
    message_count = EXCLUDED.message_count,
    first_contact_at = EXCLUDED.first_contact_at,
    last_contact_at = EXCLUDED.last_contact_at,
    last_message_id = EXCLUDED.last_message_id,
    last_message_preview = EXCLUDED.last_message_preview;
  GET DIAGNOSTICS v_rows = ROW_COUNT;
  RETURN v_rows;
END
$$;
REVOKE EXECUTE ON FUNCTION rebuild_customer_metrics(uuid, uuid) FROM PUBLIC;

-- Rows where the stored state differs from a from-scratch recomputation: kind
-- 'metrics' (customer_metrics) or 'session' (customer_session_counts). Empty = no drift.
CREATE FUNCTION customer_metrics_drift(p_company uuid)
  RETURNS TABLE (customer_id uuid, kind text, stored jsonb, expected jsonb)
  LANGUAGE sql STABLE
  SET search_path = public, pg_temp
AS $$
  WITH s AS (
    SELECT m.customer_id, m.customer_status, m.conversation_count, m.message_count, m.first_contact_at,
           m.last_contact_at, m.last_message_id, m.last_message_preview
      FROM customer_metrics m WHERE m.company_id = p_company
  ), e AS (
    SELECT * FROM customer_metrics_expected(p_company)
  ), ss AS (
    SELECT sc.customer_id, sc.session_key, sc.message_count
      FROM customer_session_counts sc WHERE sc.company_id = p_company
  ), se AS (
    SELECT v.customer_id, conversation_key(v.session_id, v.id) AS session_key, count(*)::integer AS message_count
      FROM "VC Usage" v WHERE v.company_id = p_company AND v.customer_id IS NOT NULL
     GROUP BY 1, 2
  )
  SELECT coalesce(s.customer_id, e.customer_id), 'metrics',
         CASE WHEN s.customer_id IS NOT NULL THEN to_jsonb(s) END,
         CASE WHEN e.customer_id IS NOT NULL THEN to_jsonb(e) END
    FROM s FULL JOIN e ON e.customer_id = s.customer_id
   WHERE (s.customer_id, s.customer_status, s.conversation_count, s.message_count, s.first_contact_at,
          s.last_contact_at, s.last_message_id, s.last_message_preview)
         IS DISTINCT FROM
         (e.customer_id, e.customer_status, e.conversation_count, e.message_count, e.first_contact_at,
          e.last_contact_at, e.last_message_id, e.last_message_preview)
  UNION ALL
  SELECT coalesce(ss.customer_id, se.customer_id), 'session',
         CASE WHEN ss.customer_id IS NOT NULL THEN to_jsonb(ss) END,
         CASE WHEN se.customer_id IS NOT NULL THEN to_jsonb(se) END
    FROM ss FULL JOIN se ON se.customer_id = ss.customer_id AND se.session_key = ss.session_key
   WHERE ss.message_count IS DISTINCT FROM se.message_count
$$;
REVOKE EXECUTE ON FUNCTION customer_metrics_drift(uuid) FROM PUBLIC;

-- Fixes the company's open 'metrics' failures by a rebuild; returns how many it resolved.
CREATE FUNCTION repair_customer_metrics(p_company uuid) RETURNS integer
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_rows integer;
BEGIN
  PERFORM rebuild_customer_metrics(p_company);
  UPDATE chat_sync_failures SET resolved_at = now()
   WHERE company_id = p_company AND reason = 'metrics' AND resolved_at IS NULL;
  GET DIAGNOSTICS v_rows = ROW_COUNT;
  RETURN v_rows;
END
$$;
REVOKE EXECUTE ON FUNCTION repair_customer_metrics(uuid) FROM PUBLIC;

-- Metrics of the customers and chat rows that exist already.
SELECT rebuild_customer_metrics(id) FROM companies;
