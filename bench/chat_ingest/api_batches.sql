-- POST /v1/chat's statement (ChatRepository::insert_chats, read from a git revision by api_ab.sh)
-- on five JSON batches of :n records (known contacts of the company and new ones), as the
-- owner, in one transaction that is rolled back. kmod: every kmod-th record is a known contact
-- (2: half, the suite's shape; 1: all).
-- psql -v tag=T -v company=SLUG -v n=N -v kmod=K -v stmt=FILE [-v setup=FILE] -f api_batches.sql
-- (setup: SQL run first in the same transaction, untimed: e.g. DROP INDEX … to measure what an
-- index costs the batch, rolled back with it; bench/chat_ingest/setup_ab.sh)
\set ON_ERROR_STOP on
BEGIN;
SELECT set_config('app.company_id', (SELECT id::text FROM companies WHERE slug = :'company'), true) AS cid \gset
CREATE TEMP TABLE known AS
  SELECT name, email, phone, row_number() OVER () AS rn FROM (SELECT name, email, phone FROM customers
   WHERE company_id = :'cid'::uuid AND status = 'active' ORDER BY md5(id::text || :'tag') LIMIT 5 * :n) s;
CREATE TEMP TABLE batches AS
SELECT b, jsonb_agg(jsonb_build_object('session_id', 'api-' || :'tag' || '-' || b || '-' || g,
         'tech_id', (SELECT tech_id FROM app_users WHERE company_id = :'cid'::uuid LIMIT 1),
         'customer_name', CASE WHEN g % :kmod = 0 THEN k.name ELSE 'Api Person ' || :'tag' || b || '-' || g END,
         'customer_email', CASE WHEN g % :kmod = 0 THEN k.email ELSE 'api' || g || '-' || :'tag' || b || '@bench.example' END,
         'customer_phone', CASE WHEN g % :kmod = 0 THEN k.phone ELSE '+1 415 57' || (10000 + b * 1000 + g + length(:'tag') * 7000) END,
         'user_message', 'Hello, is my order on its way?', 'ai_response', 'Let me check.', 'created_at', NULL) ORDER BY g) AS j
  FROM generate_series(1, 5) b CROSS JOIN generate_series(1, :n) g LEFT JOIN known k ON k.rn = (b - 1) * :n + g / :kmod
 GROUP BY b;
SELECT j AS j1 FROM batches WHERE b = 1 \gset
SELECT j AS j2 FROM batches WHERE b = 2 \gset
SELECT j AS j3 FROM batches WHERE b = 3 \gset
SELECT j AS j4 FROM batches WHERE b = 4 \gset
SELECT j AS j5 FROM batches WHERE b = 5 \gset
\if :{?setup}
\ir :setup
\endif
\timing on
\ir :stmt
\timing off
ROLLBACK;
