-- One bulk stage update of 1000 active customers: the repository's kBulkStage statement
-- (src/db/customer_repository.cpp), prepared and executed as the application role with the
-- tenant set, in a transaction that is rolled back. Prints its time and the HOT updates.
-- psql SUPERUSER_URL -v company_id=UUID -v tag=T -v stage=STAGE -v new=true|false -v setup=FILE -v explain= -f bulk_stage.sql
-- (setup: SQL run first in the same transaction as the superuser, e.g. a migration; then the
-- transaction continues as tradesphere_app)
-- new=false: the statement before issue 15's sixth session (not-found ids by a join that
-- planned as a 1000 x 1000 nested loop); new=true: the current one.
\set ON_ERROR_STOP on
BEGIN;
SELECT set_config('app.company_id', :'company_id', true), set_config('app.user_id', 'bench', true),
       set_config('app.role', 'admin', true) \gset
\ir :setup
SET LOCAL ROLE tradesphere_app;
SELECT jsonb_agg(id)::text AS ids FROM (SELECT id FROM customers
 WHERE company_id = :'company_id'::uuid AND status = 'active' AND lifecycle_stage <> :'stage'
 ORDER BY md5(id::text || :'tag') LIMIT 1000) s \gset
\if :new
PREPARE bulk_stage(text, text, text) AS
WITH ids AS (
  SELECT DISTINCT x.raw FROM jsonb_array_elements_text($2::jsonb) AS x (raw)
), valid AS MATERIALIZED (
  SELECT ids.raw, lower(ids.raw)::uuid AS id FROM ids
   WHERE ids.raw ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
), target AS (
  SELECT c.id, c.lifecycle_stage
    FROM customers c
   WHERE c.company_id = $1::uuid AND c.status = 'active' AND c.id IN (SELECT id FROM valid)
   ORDER BY c.id
     FOR UPDATE
), upd AS (
  UPDATE customers AS c SET lifecycle_stage = $3::text
    FROM target t
   WHERE c.company_id = $1::uuid AND c.id = t.id AND t.lifecycle_stage <> $3::text
  RETURNING c.id
)
SELECT (SELECT count(*) FROM upd), (SELECT count(*) FROM target),
       (SELECT coalesce(jsonb_agg(ids.raw ORDER BY ids.raw), '[]'::jsonb)::text FROM ids
         WHERE NOT coalesce((SELECT jsonb_object_agg(t.id::text, true) FROM target t) ? lower(ids.raw), false));
\else
PREPARE bulk_stage(text, text, text) AS
WITH ids AS (
  SELECT DISTINCT x.raw FROM jsonb_array_elements_text($2::jsonb) AS x (raw)
), valid AS (
  SELECT ids.raw, lower(ids.raw)::uuid AS id FROM ids
   WHERE ids.raw ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
), target AS (
  SELECT c.id, c.lifecycle_stage
    FROM customers c
   WHERE c.company_id = $1::uuid AND c.status = 'active' AND c.id IN (SELECT id FROM valid)
   ORDER BY c.id
     FOR UPDATE
), upd AS (
  UPDATE customers AS c SET lifecycle_stage = $3::text
    FROM target t
   WHERE c.company_id = $1::uuid AND c.id = t.id AND t.lifecycle_stage <> $3::text
  RETURNING c.id
)
SELECT (SELECT count(*) FROM upd), (SELECT count(*) FROM target),
       (SELECT coalesce(jsonb_agg(ids.raw ORDER BY ids.raw), '[]'::jsonb)::text FROM ids
         WHERE NOT EXISTS (SELECT 1 FROM valid JOIN target t ON t.id = valid.id WHERE valid.raw = ids.raw));
\endif
\timing on
:explain EXECUTE bulk_stage(:'company_id', :'ids', :'stage');
\timing off
SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'customers';
ROLLBACK;
