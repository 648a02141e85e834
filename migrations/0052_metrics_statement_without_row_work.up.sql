-- The set-based metrics statement of a chat batch without its per-row trigger work
-- (issue 15: "a write path that keeps up"; docs/performance.md, "Eleventh session of
-- 2026-12-08: side effects of chat ingest").
--
-- chat_metrics_add_rows (0035, 0041) updates ~500 metrics rows per 500-row batch and
-- copies them onto their customers in the same statement. Two things per batch it
-- still paid for nothing:
--   * the 0040 copy triggers fired for every metrics row it wrote: ~500 PL/pgSQL calls
--     (SECURITY DEFINER, SET search_path) that each looked the customer up again and
--     found the copy current (0041). Their WHEN clauses now also skip a row while
--     app.chat_metrics_copy_in_statement holds the current transaction id and client
--     statement's start ('txid/statement_timestamp'), which only chat_metrics_add_rows
--     sets, around its one statement (whose own UPDATE writes the copy of every row the
--     upsert returns), and resets after it. A value set by the application or left by
--     an earlier statement matches no later write, so every other writer (relinks,
--     merges, undo, rebuilds, the row-by-row fallback metrics_add) still copies.
--   * an EXISTS test before the statement read the batch's chat rows and their
--     customers' metrics rows once more, to send the batch row by row when one had no
--     metrics row. The upsert already finds them: a row it inserted (xmax = 0) is that
--     case, and the function raises the same exception after the statement; both
--     callers (the chat insert trigger, the backfill) run it in a subtransaction that
--     undoes the statement before going row by row.
-- Same rows written (ChatIngestBatchTest compares the set-based and row-by-row paths
-- table by table; MetricsTest the copy of every other writer and both fallbacks).

CREATE OR REPLACE FUNCTION chat_metrics_add_rows(p_company uuid, p_ids bigint[]) RETURNS void
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
  SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
  v_set     text;
  v_missing boolean;
BEGIN
  PERFORM pg_advisory_xact_lock_shared(chat_lock_key(p_company, 'metrics', ''));
  -- test hook: lets a test prove that the row-by-row fallbacks give the same metrics
  IF current_setting('app.test_fail_metrics_batch', true) = 'on' THEN
    RAISE EXCEPTION 'set-based chat metrics failure forced by app.test_fail_metrics_batch';
  END IF;

  -- 0052: the rows this statement writes are copied onto their customers by its own
  -- UPDATE (copied, 0041); the copy triggers skip them. Their WHEN clauses compare
  -- this flag with the transaction and the client statement it is set in, so a value
  -- left from another statement or set by the application matches nothing; it is set
  -- for this statement only and reset after it (its AFTER triggers have run by then;
  -- an error restores the previous value with the caller's subtransaction)
  v_set := set_config('app.chat_metrics_copy_in_statement',
                      txid_current()::text || '/' || statement_timestamp()::text, true);
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
    RETURNING m.customer_id, m.conversation_count, m.message_count, m.first_contact_at, m.last_contact_at,
              m.last_message_preview, m.xmax = 0 AS inserted
  ), copied AS (
    -- the list's copy on the customers (0040), for all of them at once; the copy
    -- triggers are not called for the rows of this statement (0052)
    UPDATE customers c
       SET metric_conversation_count = m.conversation_count, metric_message_count = m.message_count,
           metric_first_contact_at = m.first_contact_at, metric_last_contact_at = m.last_contact_at,
           metric_last_message_preview = m.last_message_preview
      FROM m
     WHERE c.company_id = p_company AND c.id = m.customer_id
       AND (c.metric_conversation_count, c.metric_message_count, c.metric_first_contact_at,
            c.metric_last_contact_at, c.metric_last_message_preview)
           IS DISTINCT FROM (m.conversation_count, m.message_count, m.first_contact_at,
                             m.last_contact_at, m.last_message_preview)
  ), linked AS (
    -- a conversation newly attached to its customer, on its first row (as metrics_add)
    INSERT INTO customer_events (company_id, customer_id, event_type, payload)
    SELECT p_company, x.customer_id, 'conversation_linked',
           jsonb_build_object('session_key', x.k, 'vc_usage_id', x.id)
      FROM x
     WHERE x.fresh
     ORDER BY x.id
  )
  -- a customer without a metrics row (its row was inserted here, not updated): the
  -- caller's subtransaction undoes this statement and the rows go row by row, as the
  -- separate EXISTS test before the statement did (0034-0041)
  SELECT EXISTS (SELECT 1 FROM m WHERE m.inserted) INTO v_missing;
  v_set := set_config('app.chat_metrics_copy_in_statement', 'off', true);
  IF v_missing THEN
    RAISE EXCEPTION 'a customer without a metrics row: row by row';
  END IF;
END
$$;

DROP TRIGGER trg_customer_metrics_copy_insert ON customer_metrics;
DROP TRIGGER trg_customer_metrics_copy_update ON customer_metrics;
CREATE TRIGGER trg_customer_metrics_copy_insert
  AFTER INSERT ON customer_metrics
  FOR EACH ROW
  WHEN ((NEW.conversation_count <> 0 OR NEW.message_count <> 0 OR NEW.first_contact_at IS NOT NULL
         OR NEW.last_contact_at IS NOT NULL OR NEW.last_message_preview IS NOT NULL)
        AND current_setting('app.chat_metrics_copy_in_statement', true)
            IS DISTINCT FROM txid_current()::text || '/' || statement_timestamp()::text)
  EXECUTE FUNCTION customer_metrics_copy_to_customer();
CREATE TRIGGER trg_customer_metrics_copy_update
  AFTER UPDATE ON customer_metrics
  FOR EACH ROW
  WHEN (((OLD.conversation_count, OLD.message_count, OLD.first_contact_at, OLD.last_contact_at,
          OLD.last_message_preview)
         IS DISTINCT FROM (NEW.conversation_count, NEW.message_count, NEW.first_contact_at,
                           NEW.last_contact_at, NEW.last_message_preview)
         OR OLD.company_id IS DISTINCT FROM NEW.company_id OR OLD.customer_id IS DISTINCT FROM NEW.customer_id)
        AND current_setting('app.chat_metrics_copy_in_statement', true)
            IS DISTINCT FROM txid_current()::text || '/' || statement_timestamp()::text)
  EXECUTE FUNCTION customer_metrics_copy_to_customer();
