-- The backfill's batch matches its known contacts with one lookup (issue 15: "backfill
-- >= 3,000 rows/s per job").
--
-- backfill_link_chat_rows() (0035) matched every row of a batch with chat_match_customer()
-- in id order. A legacy upgrade's rows mostly name a customer that already exists (the
-- 1M runbook: every row), and for such a row the per-row work is the lookups themselves.
-- The batch's rows are known before the loop, so the lookup POST /v1/chat uses before
-- its INSERT (0043, chat_match_known_batch: the batch's bucket locks, then one lookup of
-- every record's session, email and phone; a record is answered only when the row rule
-- would certainly link it to an existing active customer writing nothing else, and every
-- record connected to it by a shared session, email or phone is answered with the same
-- customer) answers those rows per company; the loop calls chat_match_customer() only
-- for the others, and the answered rows are linked by the UPDATE after the loop with the
-- rest. Everything else (locks first, metrics and failure resolution once per batch,
-- row by row when anything fails) is 0035's. Why the answers equal the row rule in id
-- order is 0043's header: the argument is about a batch of rows matched in id order
-- against the state before the batch, which is what a backfill batch is (its rows are
-- stored but unlinked, so no session lookup sees them either way).
-- ChatIngestBatchTest compares the set-based backfill with link_chat_row() in id order.

CREATE OR REPLACE FUNCTION backfill_link_chat_rows(p_company uuid, p_after bigint, p_limit integer,
                                        p_set_based boolean DEFAULT true,
                                        OUT examined integer, OUT linked integer, OUT failed integer,
                                        OUT last_id bigint, OUT row_by_row boolean)
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
AS $$
DECLARE
  v_ids      bigint[];
  v_id       bigint;
  v_row      record;
  v_customer uuid;
  v_company  uuid;
  v_company_ids bigint[];
  v_later_ids       bigint[] := '{}';
  v_later_customers uuid[] := '{}';
  v_prev     text;
  v_set      text;
  v_records  jsonb;
  v_known_ids       bigint[] := '{}';
  v_known_customers uuid[] := '{}';
BEGIN
  -- the batch, locked (a row linked meanwhile by someone else drops out)
  IF p_company IS NULL THEN
    v_ids := ARRAY(SELECT v.id FROM "VC Usage" v
                    WHERE v.id > p_after AND v.customer_id IS NULL AND v.company_id IS NOT NULL
                    ORDER BY v.id LIMIT p_limit
                      FOR UPDATE);
  ELSE
    v_ids := ARRAY(SELECT v.id FROM "VC Usage" v
                    WHERE v.company_id = p_company AND v.id > p_after AND v.customer_id IS NULL
                    ORDER BY v.id LIMIT p_limit
                      FOR UPDATE);
  END IF;
  examined := cardinality(v_ids);
  last_id := coalesce(v_ids[examined], p_after);
  linked := 0;
  failed := 0;
  row_by_row := NOT p_set_based;
  IF examined = 0 THEN
    RETURN;
  END IF;

  IF p_set_based THEN
    BEGIN
      -- the bucket locks of every row's session, email and phone, at once in ascending
      -- order (chat_match_customer takes the same per row)
      INSERT INTO chat_sync_locks AS l (company_id, lock_key)
      SELECT DISTINCT b.company_id, b.bucket
        FROM (SELECT v.company_id, k & 1048575 AS bucket
                FROM "VC Usage" v
                JOIN companies co ON co.id = v.company_id
               CROSS JOIN LATERAL unnest(ARRAY[
                       chat_lock_key(v.company_id, 'session', nullif(v.session_id, '')),
                       chat_lock_key(v.company_id, 'email', normalize_email(v.customer_email)),
                       chat_lock_key(v.company_id, 'phone', normalize_phone(v.customer_phone, co.default_country_code))]) AS k
               WHERE v.id = ANY (v_ids) AND k IS NOT NULL) b
       ORDER BY b.company_id, b.bucket
      ON CONFLICT (company_id, lock_key) DO UPDATE SET lock_key = EXCLUDED.lock_key WHERE false;

      -- the known contacts of the batch, one lookup per company (0043's
      -- chat_match_known_batch, which POST /v1/chat uses before its INSERT: the rows
      -- whose rule answer is certain without the row path, i.e. an existing active
      -- customer, and whose records share no key with any other record; against the
      -- state before the batch, as here). Their links join the UPDATE after the loop.
      v_prev := current_setting('app.company_id', true);
      FOR v_company, v_company_ids, v_records IN
        SELECT v.company_id, array_agg(v.id ORDER BY v.id),
               jsonb_agg(jsonb_build_object('session_id', v.session_id, 'customer_email', v.customer_email,
                                            'customer_phone', v.customer_phone) ORDER BY v.id)
          FROM "VC Usage" v
         WHERE v.id = ANY (v_ids)
         GROUP BY v.company_id
      LOOP
        v_set := set_config('app.company_id', v_company::text, true);
        v_known_ids := v_known_ids || v_company_ids;
        v_known_customers := v_known_customers || chat_match_known_batch(v_company, v_records);
      END LOOP;
      v_set := set_config('app.company_id', coalesce(v_prev, ''), true);

      v_set := set_config('app.chat_defer_link_effects', 'on', true);
      -- seen_again: a later row of the batch has the same session, whose lookup must
      -- see this row's link (the matching reads no other link): written at once.
      -- Every other link is written by one UPDATE after the loop.
      FOR v_row IN
        SELECT v.id, v.company_id, v.session_id, v.customer_name, v.customer_email, v.customer_phone,
               nullif(v.session_id, '') IS NOT NULL
                 AND lead(v.id) OVER (PARTITION BY v.company_id, nullif(v.session_id, '') ORDER BY v.id) IS NOT NULL
                 AS seen_again,
               k.customer_id AS known_customer
          FROM "VC Usage" v
          LEFT JOIN unnest(v_known_ids, v_known_customers) AS k (id, customer_id) ON k.id = v.id
         WHERE v.id = ANY (v_ids)
         ORDER BY v.id
      LOOP
        -- as the insert trigger: a long batch writes the side effects of the customers
        -- created so far, so that the list stays short
        IF v_row.known_customer IS NOT NULL THEN
          v_customer := v_row.known_customer;
        ELSE
          IF length(current_setting('app.chat_new_customers', true)) > 40000 THEN
            PERFORM chat_flush_new_customers_retrying();
          END IF;
          v_customer := chat_match_customer(v_row.company_id, v_row.id, v_row.session_id, v_row.customer_name,
                                            v_row.customer_email, v_row.customer_phone, true, true);
        END IF;
        IF v_customer IS NOT NULL THEN
          IF v_row.seen_again THEN
            UPDATE "VC Usage" SET customer_id = v_customer WHERE id = v_row.id;
          ELSE
            v_later_ids := v_later_ids || v_row.id;
            v_later_customers := v_later_customers || v_customer;
          END IF;
          linked := linked + 1;
        END IF;
      END LOOP;
      UPDATE "VC Usage" v
         SET customer_id = l.customer_id
        FROM unnest(v_later_ids, v_later_customers) AS l (id, customer_id)
       WHERE v.id = l.id;
      v_set := set_config('app.chat_defer_link_effects', 'off', true);

      PERFORM chat_flush_new_customers_retrying();
      v_prev := current_setting('app.company_id', true);
      -- OFFSET 0: through the primary key, never the timeline index (a scan of every
      -- row linked so far: its statistics are those of before the backfill)
      FOR v_company, v_company_ids IN
        SELECT v.company_id, array_agg(v.id)
          FROM (SELECT v.company_id, v.id, v.customer_id FROM "VC Usage" v WHERE v.id = ANY (v_ids) OFFSET 0) v
         WHERE v.customer_id IS NOT NULL
         GROUP BY v.company_id
      LOOP
        v_set := set_config('app.company_id', v_company::text, true);
        PERFORM chat_metrics_add_rows(v_company, v_company_ids);
      END LOOP;
      v_set := set_config('app.company_id', coalesce(v_prev, ''), true);

      UPDATE chat_sync_failures f
         SET resolved_at = now()
        FROM "VC Usage" v
       WHERE v.id = ANY (v_ids) AND f.company_id = v.company_id AND f.vc_usage_id = v.id
         AND f.reason IN ('error', 'paused') AND f.resolved_at IS NULL;
    EXCEPTION WHEN OTHERS THEN
      row_by_row := true;                -- everything above is rolled back
    END;
  END IF;

  IF row_by_row THEN
    linked := 0;
    FOREACH v_id IN ARRAY v_ids LOOP
      IF link_chat_row(v_id) IS NOT NULL THEN
        linked := linked + 1;
      END IF;
    END LOOP;
  END IF;

  SELECT count(DISTINCT v.id)::integer INTO failed
    FROM "VC Usage" v
    JOIN chat_sync_failures f ON f.company_id = v.company_id AND f.vc_usage_id = v.id AND f.resolved_at IS NULL
   WHERE v.id = ANY (v_ids) AND v.customer_id IS NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION backfill_link_chat_rows(uuid, bigint, integer, boolean) FROM PUBLIC;
