-- The chat sync's key locks for the other writers of who-owns-which-contact (issue 15,
-- "one email, one customer", and "concurrent edits lose nothing").
--
-- The chat sync serializes on rows of chat_sync_locks, one per bucket of a session,
-- normalized email or normalized phone (0006, 0034): every path that links chat rows —
-- the insert trigger row by row, POST /v1/chat's batch lookup (0043), the backfill and
-- `sync resume` (0035, 0046) — locks the buckets of its rows' keys first and reads who owns
-- them after. Two other writers changed ownership without those locks:
--
--   1. API writes of a customer's email (create, update, restore) took an advisory lock on
--      the email (CustomerRepository, require_email_free): they serialized with each other
--      but not with the chat sync. A chat row with ann@x.io and `POST /v1/customers` with
--      ANN@X.IO, concurrent, each found the email free and each created its customer: two
--      active customers with one email (the invariant `verify` checks).
--   2. A merge locks the customers (FOR UPDATE), moves the source's chat rows and marks it
--      merged. A chat sync that had read "this email/session is X's" before the merge
--      committed but inserted its row after (POST /v1/chat's INSERT follows its batch
--      lookup; the row path's lookup and its row are one statement apart) linked the row to
--      X, merged: a row the merge did not move, on a customer no list shows.
--
-- chat_sync_lock_contacts() lets the application take the same bucket locks for an email
-- (or any session, email or phone) — the API writers call it instead of their advisory
-- lock. chat_sync_lock_customers() takes the buckets of everything the chat sync could read
-- as "this is the customer's": the sessions of its chat rows and its email and phone keys,
-- and those of the customers merged into it (a key of theirs resolves to it), in one
-- ascending pass, read again after the locks and taken again, larger, when a sync committed
-- a new session of the customer between the read and the locks. Merges, their undo and soft
-- deletes call it before they lock the customers, so a chat sync that read the customer's
-- keys either committed before (the merge then moves its rows) or waits and reads the new
-- state after. Both are SECURITY DEFINER (the application cannot write chat_sync_locks) and
-- answer for the caller's own tenant only.

CREATE FUNCTION chat_sync_lock_contacts(p_company uuid, p_sessions text[], p_emails text[], p_phones text[])
  RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_cc text;
  v_n  integer;  -- buckets locked
BEGIN
  IF session_user <> 'tradesphere_owner' AND p_company IS DISTINCT FROM app_current_company() THEN
    RAISE EXCEPTION 'chat_sync_lock_contacts: company % is not the current tenant', p_company
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT default_country_code INTO v_cc FROM companies WHERE id = p_company;
  -- the buckets as the chat sync computes them (chat_match_customer), ascending
  WITH b AS (
    SELECT DISTINCT k & 1048575 AS bucket
      FROM (SELECT chat_lock_key(p_company, 'session', nullif(s, '')) FROM unnest(p_sessions) s
            UNION ALL
            SELECT chat_lock_key(p_company, 'email', normalize_email(e)) FROM unnest(p_emails) e
            UNION ALL
            SELECT chat_lock_key(p_company, 'phone', normalize_phone(p, v_cc)) FROM unnest(p_phones) p) x (k)
     WHERE k IS NOT NULL
  ), locked AS (
    INSERT INTO chat_sync_locks AS l (company_id, lock_key)
    SELECT p_company, b.bucket FROM b ORDER BY b.bucket
    ON CONFLICT (company_id, lock_key) DO UPDATE SET lock_key = EXCLUDED.lock_key WHERE false
  )
  SELECT count(*) INTO v_n FROM b;
  RETURN v_n;
END
$$;

-- The buckets of everything the chat sync could read as these customers': the sessions of
-- their chat rows, their email and phone keys, and those of customers merged into them
-- (resolve_customer follows merged_into_customer_id), ascending.
CREATE FUNCTION chat_sync_customer_buckets(p_company uuid, p_customers uuid[]) RETURNS bigint[]
  LANGUAGE sql STABLE
  SET search_path = public, pg_temp
AS $$
  WITH RECURSIVE family (id) AS (
    SELECT c.id FROM customers c WHERE c.company_id = p_company AND c.id = ANY (p_customers)
    UNION
    SELECT c.id FROM customers c JOIN family f ON c.company_id = p_company AND c.merged_into_customer_id = f.id
  )
  SELECT coalesce(array_agg(DISTINCT x.bucket ORDER BY x.bucket), '{}')
    FROM (SELECT chat_lock_key(p_company, 'session', v.session_id) & 1048575 AS bucket
            FROM "VC Usage" v
           WHERE v.company_id = p_company AND v.customer_id IN (SELECT id FROM family) AND v.session_id <> ''
          UNION ALL
          SELECT chat_lock_key(p_company, k.key_type, k.key_value) & 1048575
            FROM customer_matching_keys k
           WHERE k.company_id = p_company AND k.customer_id IN (SELECT id FROM family)
             AND k.key_type IN ('email', 'phone')) x
$$;
REVOKE EXECUTE ON FUNCTION chat_sync_customer_buckets(uuid, uuid[]) FROM PUBLIC;

CREATE FUNCTION chat_sync_lock_customers(p_company uuid, p_customers uuid[]) RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_prev   text := current_setting('app.company_id', true);
  v_set    text;
  v_want   bigint[];
  v_after  bigint[];
  v_done   boolean := false;
BEGIN
  IF session_user <> 'tradesphere_owner' AND p_company IS DISTINCT FROM app_current_company() THEN
    RAISE EXCEPTION 'chat_sync_lock_customers: company % is not the current tenant', p_company
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  v_set := set_config('app.company_id', p_company::text, true);
  -- Every round takes the whole set in one ascending pass holding no bucket before it: a
  -- chat sync that holds one of them and then waits for a lower one closes a cycle in
  -- which this transaction waited first, so this one is the deadlock's victim (a merge or
  -- delete is retried by its service; a chat row caught in a deadlock would be stored
  -- unlinked). When the set grew meanwhile (a sync committed a new session of the
  -- customer between the read and the locks), the round's locks are released with its
  -- subtransaction and the next round takes the larger set.
  FOR i IN 1..100 LOOP
    v_want := chat_sync_customer_buckets(p_company, p_customers);
    BEGIN
      INSERT INTO chat_sync_locks AS l (company_id, lock_key)
      SELECT p_company, b FROM unnest(v_want) b ORDER BY b
      ON CONFLICT (company_id, lock_key) DO UPDATE SET lock_key = EXCLUDED.lock_key WHERE false;
      v_after := chat_sync_customer_buckets(p_company, p_customers);  -- a new snapshot
      IF v_after <@ v_want THEN
        v_done := true;
      ELSE
        RAISE EXCEPTION 'the buckets grew' USING ERRCODE = 'TSL01';
      END IF;
    EXCEPTION WHEN SQLSTATE 'TSL01' THEN
      NULL;  -- this round's locks are released; again with the larger set
    END;
    EXIT WHEN v_done;
  END LOOP;
  IF NOT v_done THEN
    RAISE EXCEPTION 'chat_sync_lock_customers: the customers'' chat sync keys kept changing'
      USING ERRCODE = 'lock_not_available';
  END IF;
  v_set := set_config('app.company_id', coalesce(v_prev, ''), true);
  RETURN cardinality(v_want);
END
$$;

REVOKE EXECUTE ON FUNCTION chat_sync_lock_contacts(uuid, text[], text[], text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION chat_sync_lock_contacts(uuid, text[], text[], text[]) TO tradesphere_app;
REVOKE EXECUTE ON FUNCTION chat_sync_lock_customers(uuid, uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION chat_sync_lock_customers(uuid, uuid[]) TO tradesphere_app;
