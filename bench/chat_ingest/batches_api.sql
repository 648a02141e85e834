-- batches.sql's five 500-row batches (same rows: half known contacts, half new), each sent the
-- way POST /v1/chat sends a batch (src/db/chat_repository.cpp kInsertChats): the records as one
-- jsonb array matched by chat_match_batch, then one INSERT with the customer ids it found.
-- The set-based path's cost without HTTP, in one transaction that is rolled back.
-- psql -v tag=T -v company=SLUG -v setup=FILE -v disable= -f batches_api.sql (setup: a file run first in
-- the same transaction, e.g. the 0034 down migration for the path before it)
\set ON_ERROR_STOP on
BEGIN;
SELECT set_config('app.company_id', (SELECT id::text FROM companies WHERE slug = :'company'), true) \gset
CREATE TEMP TABLE known AS
  SELECT name, email, phone, row_number() OVER () AS rn FROM (SELECT name, email, phone FROM customers
   WHERE company_id = current_setting('app.company_id')::uuid AND status='active' ORDER BY md5(id::text || :'tag') LIMIT 250) s;
:disable
\ir :setup
\timing on
WITH recs AS (SELECT jsonb_agg(jsonb_build_object('session_id', s, 'tech_id', t, 'customer_name', n, 'customer_email', e, 'customer_phone', p, 'user_message', um, 'ai_response', ar) ORDER BY g) AS j
  FROM (SELECT g, current_setting('app.company_id')::uuid, 'bench-' || :'tag' || '1' || '-' || g,
       (SELECT tech_id FROM app_users WHERE company_id = current_setting('app.company_id')::uuid LIMIT 1),
       CASE WHEN g % 2 = 0 THEN k.name ELSE 'Ingest Person ' || :'tag' || '1' || g END,
       CASE WHEN g % 2 = 0 THEN k.email ELSE 'ingest' || g || '-' || :'tag' || '1' || '@bench.example' END,
       CASE WHEN g % 2 = 0 THEN k.phone ELSE '+1 415 55' || (10000 + g + length(:'tag') * 5000 + 1 * 1000) END,
       'Hello, is my order on its way?', 'Let me check.'
  FROM generate_series(1, 500) g LEFT JOIN known k ON k.rn = g / 2) AS x (g, c, s, t, n, e, p, um, ar)),
m AS MATERIALIZED (SELECT u.customer_id, u.ord FROM recs, unnest(chat_match_batch(current_setting('app.company_id')::uuid, recs.j)) WITH ORDINALITY AS u (customer_id, ord))
INSERT INTO "VC Usage" (company_id, session_id, tech_id, customer_name, customer_email, customer_phone, user_message, ai_response, customer_id)
SELECT current_setting('app.company_id')::uuid, e.r->>'session_id', e.r->>'tech_id', e.r->>'customer_name', e.r->>'customer_email', e.r->>'customer_phone', e.r->>'user_message', e.r->>'ai_response', m.customer_id
  FROM recs, jsonb_array_elements(recs.j) WITH ORDINALITY AS e (r, ord) LEFT JOIN m ON m.ord = e.ord ORDER BY e.ord;
WITH recs AS (SELECT jsonb_agg(jsonb_build_object('session_id', s, 'tech_id', t, 'customer_name', n, 'customer_email', e, 'customer_phone', p, 'user_message', um, 'ai_response', ar) ORDER BY g) AS j
  FROM (SELECT g, current_setting('app.company_id')::uuid, 'bench-' || :'tag' || '2' || '-' || g,
       (SELECT tech_id FROM app_users WHERE company_id = current_setting('app.company_id')::uuid LIMIT 1),
       CASE WHEN g % 2 = 0 THEN k.name ELSE 'Ingest Person ' || :'tag' || '2' || g END,
       CASE WHEN g % 2 = 0 THEN k.email ELSE 'ingest' || g || '-' || :'tag' || '2' || '@bench.example' END,
       CASE WHEN g % 2 = 0 THEN k.phone ELSE '+1 415 55' || (10000 + g + length(:'tag') * 5000 + 2 * 1000) END,
       'Hello, is my order on its way?', 'Let me check.'
  FROM generate_series(1, 500) g LEFT JOIN known k ON k.rn = g / 2) AS x (g, c, s, t, n, e, p, um, ar)),
m AS MATERIALIZED (SELECT u.customer_id, u.ord FROM recs, unnest(chat_match_batch(current_setting('app.company_id')::uuid, recs.j)) WITH ORDINALITY AS u (customer_id, ord))
INSERT INTO "VC Usage" (company_id, session_id, tech_id, customer_name, customer_email, customer_phone, user_message, ai_response, customer_id)
SELECT current_setting('app.company_id')::uuid, e.r->>'session_id', e.r->>'tech_id', e.r->>'customer_name', e.r->>'customer_email', e.r->>'customer_phone', e.r->>'user_message', e.r->>'ai_response', m.customer_id
  FROM recs, jsonb_array_elements(recs.j) WITH ORDINALITY AS e (r, ord) LEFT JOIN m ON m.ord = e.ord ORDER BY e.ord;
WITH recs AS (SELECT jsonb_agg(jsonb_build_object('session_id', s, 'tech_id', t, 'customer_name', n, 'customer_email', e, 'customer_phone', p, 'user_message', um, 'ai_response', ar) ORDER BY g) AS j
  FROM (SELECT g, current_setting('app.company_id')::uuid, 'bench-' || :'tag' || '3' || '-' || g,
       (SELECT tech_id FROM app_users WHERE company_id = current_setting('app.company_id')::uuid LIMIT 1),
       CASE WHEN g % 2 = 0 THEN k.name ELSE 'Ingest Person ' || :'tag' || '3' || g END,
       CASE WHEN g % 2 = 0 THEN k.email ELSE 'ingest' || g || '-' || :'tag' || '3' || '@bench.example' END,
       CASE WHEN g % 2 = 0 THEN k.phone ELSE '+1 415 55' || (10000 + g + length(:'tag') * 5000 + 3 * 1000) END,
       'Hello, is my order on its way?', 'Let me check.'
  FROM generate_series(1, 500) g LEFT JOIN known k ON k.rn = g / 2) AS x (g, c, s, t, n, e, p, um, ar)),
m AS MATERIALIZED (SELECT u.customer_id, u.ord FROM recs, unnest(chat_match_batch(current_setting('app.company_id')::uuid, recs.j)) WITH ORDINALITY AS u (customer_id, ord))
INSERT INTO "VC Usage" (company_id, session_id, tech_id, customer_name, customer_email, customer_phone, user_message, ai_response, customer_id)
SELECT current_setting('app.company_id')::uuid, e.r->>'session_id', e.r->>'tech_id', e.r->>'customer_name', e.r->>'customer_email', e.r->>'customer_phone', e.r->>'user_message', e.r->>'ai_response', m.customer_id
  FROM recs, jsonb_array_elements(recs.j) WITH ORDINALITY AS e (r, ord) LEFT JOIN m ON m.ord = e.ord ORDER BY e.ord;
WITH recs AS (SELECT jsonb_agg(jsonb_build_object('session_id', s, 'tech_id', t, 'customer_name', n, 'customer_email', e, 'customer_phone', p, 'user_message', um, 'ai_response', ar) ORDER BY g) AS j
  FROM (SELECT g, current_setting('app.company_id')::uuid, 'bench-' || :'tag' || '4' || '-' || g,
       (SELECT tech_id FROM app_users WHERE company_id = current_setting('app.company_id')::uuid LIMIT 1),
       CASE WHEN g % 2 = 0 THEN k.name ELSE 'Ingest Person ' || :'tag' || '4' || g END,
       CASE WHEN g % 2 = 0 THEN k.email ELSE 'ingest' || g || '-' || :'tag' || '4' || '@bench.example' END,
       CASE WHEN g % 2 = 0 THEN k.phone ELSE '+1 415 55' || (10000 + g + length(:'tag') * 5000 + 4 * 1000) END,
       'Hello, is my order on its way?', 'Let me check.'
  FROM generate_series(1, 500) g LEFT JOIN known k ON k.rn = g / 2) AS x (g, c, s, t, n, e, p, um, ar)),
m AS MATERIALIZED (SELECT u.customer_id, u.ord FROM recs, unnest(chat_match_batch(current_setting('app.company_id')::uuid, recs.j)) WITH ORDINALITY AS u (customer_id, ord))
INSERT INTO "VC Usage" (company_id, session_id, tech_id, customer_name, customer_email, customer_phone, user_message, ai_response, customer_id)
SELECT current_setting('app.company_id')::uuid, e.r->>'session_id', e.r->>'tech_id', e.r->>'customer_name', e.r->>'customer_email', e.r->>'customer_phone', e.r->>'user_message', e.r->>'ai_response', m.customer_id
  FROM recs, jsonb_array_elements(recs.j) WITH ORDINALITY AS e (r, ord) LEFT JOIN m ON m.ord = e.ord ORDER BY e.ord;
WITH recs AS (SELECT jsonb_agg(jsonb_build_object('session_id', s, 'tech_id', t, 'customer_name', n, 'customer_email', e, 'customer_phone', p, 'user_message', um, 'ai_response', ar) ORDER BY g) AS j
  FROM (SELECT g, current_setting('app.company_id')::uuid, 'bench-' || :'tag' || '5' || '-' || g,
       (SELECT tech_id FROM app_users WHERE company_id = current_setting('app.company_id')::uuid LIMIT 1),
       CASE WHEN g % 2 = 0 THEN k.name ELSE 'Ingest Person ' || :'tag' || '5' || g END,
       CASE WHEN g % 2 = 0 THEN k.email ELSE 'ingest' || g || '-' || :'tag' || '5' || '@bench.example' END,
       CASE WHEN g % 2 = 0 THEN k.phone ELSE '+1 415 55' || (10000 + g + length(:'tag') * 5000 + 5 * 1000) END,
       'Hello, is my order on its way?', 'Let me check.'
  FROM generate_series(1, 500) g LEFT JOIN known k ON k.rn = g / 2) AS x (g, c, s, t, n, e, p, um, ar)),
m AS MATERIALIZED (SELECT u.customer_id, u.ord FROM recs, unnest(chat_match_batch(current_setting('app.company_id')::uuid, recs.j)) WITH ORDINALITY AS u (customer_id, ord))
INSERT INTO "VC Usage" (company_id, session_id, tech_id, customer_name, customer_email, customer_phone, user_message, ai_response, customer_id)
SELECT current_setting('app.company_id')::uuid, e.r->>'session_id', e.r->>'tech_id', e.r->>'customer_name', e.r->>'customer_email', e.r->>'customer_phone', e.r->>'user_message', e.r->>'ai_response', m.customer_id
  FROM recs, jsonb_array_elements(recs.j) WITH ORDINALITY AS e (r, ord) LEFT JOIN m ON m.ord = e.ord ORDER BY e.ord;
\timing off
SELECT count(*) FILTER (WHERE customer_id IS NULL) AS unlinked, count(*) FROM "VC Usage" WHERE session_id LIKE 'bench-' || :'tag' || '%' AND company_id = current_setting('app.company_id')::uuid;
ROLLBACK;
