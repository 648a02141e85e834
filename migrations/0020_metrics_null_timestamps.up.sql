-- Exact metrics with chat rows that have no timestamp (issue 15). Legacy
-- "VC Usage".created_at is nullable. The recomputation ordered such a row first
-- (DESC puts NULLs first) while the incremental path never let it become the last
-- message (a row comparison with NULL is NULL), so `verify` found drift after a
-- backfill of messy data. One order everywhere now: the last message is the one
-- with the latest timestamp (ties: the larger id); rows without a timestamp come
-- after every timestamped row, among themselves by id.

-- Is (new_at, new_id) later than the stored last message (old_at, old_id)?
CREATE FUNCTION metrics_is_later(new_at timestamptz, new_id bigint, old_at timestamptz, old_id bigint)
  RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = public, pg_temp
AS $$
  SELECT old_id IS NULL OR CASE
    WHEN new_at IS NULL AND old_at IS NULL THEN new_id > old_id
    WHEN new_at IS NULL THEN false
    WHEN old_at IS NULL THEN true
    WHEN new_at <> old_at THEN new_at > old_at
    ELSE new_id > old_id
  END
$$;
REVOKE EXECUTE ON FUNCTION metrics_is_later(timestamptz, bigint, timestamptz, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION metrics_is_later(timestamptz, bigint, timestamptz, bigint) TO tradesphere_app;

-- the bounds of one customer: timestamped rows first (through the timeline index), then the rest
CREATE OR REPLACE FUNCTION metrics_recompute_bounds(p_company uuid, p_customer uuid) RETURNS void
  LANGUAGE sql
  SET search_path = public, pg_temp
AS $$
  UPDATE customer_metrics m
     SET first_contact_at = (SELECT min(v.created_at) FROM "VC Usage" v
                              WHERE v.company_id = p_company AND v.customer_id = p_customer),
         (last_contact_at, last_message_id, last_message_preview) =
           (SELECT l.created_at, l.id, l.preview FROM (
              (SELECT v.created_at, v.id, left(v.user_message, 200) AS preview FROM "VC Usage" v
                WHERE v.company_id = p_company AND v.customer_id = p_customer AND v.created_at IS NOT NULL
                ORDER BY v.created_at DESC, v.id DESC LIMIT 1)
              UNION ALL
              (SELECT v.created_at, v.id, left(v.user_message, 200) FROM "VC Usage" v
                WHERE v.company_id = p_company AND v.customer_id = p_customer AND v.created_at IS NULL
                ORDER BY v.id DESC LIMIT 1)
              LIMIT 1) l)
   WHERE m.company_id = p_company AND m.customer_id = p_customer
$$;
REVOKE EXECUTE ON FUNCTION metrics_recompute_bounds(uuid, uuid) FROM PUBLIC;

-- the from-scratch recomputation, same order
CREATE OR REPLACE FUNCTION customer_metrics_expected(p_company uuid, p_customer uuid DEFAULT NULL)
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
      FROM r ORDER BY r.cid, r.at DESC NULLS LAST, r.vid DESC
  )
  SELECT c.id, c.status, coalesce(a.conv, 0), coalesce(a.msgs, 0), a.first_at, l.at, l.vid, l.preview
    FROM customers c
    LEFT JOIN agg a ON a.cid = c.id
    LEFT JOIN last l ON l.cid = c.id
   WHERE c.company_id = p_company AND (p_customer IS NULL OR c.id = p_customer)
$$;
REVOKE EXECUTE ON FUNCTION customer_metrics_expected(uuid, uuid) FROM PUBLIC;

-- the incremental path (0012's metrics_add), same order
CREATE OR REPLACE FUNCTION metrics_add(p_company uuid, p_customer uuid, p_session_key text, p_id bigint,
                                       p_created_at timestamptz, p_message text, p_new_link boolean) RETURNS void
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_count integer;
BEGIN
  WITH s AS (
    INSERT INTO customer_session_counts AS s (company_id, customer_id, session_key, message_count)
    VALUES (p_company, p_customer, p_session_key, 1)
    ON CONFLICT (company_id, customer_id, session_key)
    DO UPDATE SET message_count = s.message_count + 1
    RETURNING s.message_count
  )
  INSERT INTO customer_metrics AS m (company_id, customer_id, conversation_count, message_count,
                                     first_contact_at, last_contact_at, last_message_id, last_message_preview)
  SELECT p_company, p_customer, 1, 1, p_created_at, p_created_at, p_id, left(p_message, 200) FROM s
  ON CONFLICT (company_id, customer_id) DO UPDATE SET
    conversation_count = m.conversation_count + CASE WHEN (SELECT s.message_count FROM s) = 1 THEN 1 ELSE 0 END,
    message_count = m.message_count + 1,
    first_contact_at = least(m.first_contact_at, EXCLUDED.first_contact_at),
    last_contact_at = CASE WHEN metrics_is_later(EXCLUDED.last_contact_at, EXCLUDED.last_message_id, m.last_contact_at, m.last_message_id)
                           THEN EXCLUDED.last_contact_at ELSE m.last_contact_at END,
    last_message_preview = CASE WHEN metrics_is_later(EXCLUDED.last_contact_at, EXCLUDED.last_message_id, m.last_contact_at, m.last_message_id)
                           THEN EXCLUDED.last_message_preview ELSE m.last_message_preview END,
    last_message_id = CASE WHEN metrics_is_later(EXCLUDED.last_contact_at, EXCLUDED.last_message_id, m.last_contact_at, m.last_message_id)
                           THEN EXCLUDED.last_message_id ELSE m.last_message_id END
  RETURNING (SELECT s.message_count FROM s) INTO v_count;

  -- a conversation newly attached to this customer (new chat, or an orphan adopted)
  IF v_count = 1 AND p_new_link THEN
    INSERT INTO customer_events (company_id, customer_id, event_type, payload)
    VALUES (p_company, p_customer, 'conversation_linked',
            jsonb_build_object('session_key', p_session_key, 'vc_usage_id', p_id));
  END IF;
END
$$;

