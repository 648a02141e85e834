-- One committed bulk stage update of 1000 active customers with the repository's statement
-- (kBulkStage of src/db/customer_repository.cpp, copied here on 2026-12-08 with its $1..$3 as
-- psql variables), as the application; psql's timing prints the statement, then the COMMIT.
-- Changes the data: use a copy of the database.
--   psql "$SUPERUSER_URL" -v cid=COMPANY_UUID -v stage=churned -v tag=T -f bench/write_path/stage_commit.sql
-- docs/performance.md, "Tenth session of 2026-12-08: bulk stage update" (before/after: alternate
-- `tradesphere migrate down --to 48` and `migrate up` between runs).
\set QUIET on
BEGIN;
SELECT set_config('app.company_id', :'cid', true), set_config('app.user_id', 'bench', true) \g /dev/null
SET LOCAL ROLE tradesphere_app;
SELECT jsonb_agg(id)::text AS ids FROM (SELECT id FROM customers WHERE company_id = :'cid' AND status = 'active' AND lifecycle_stage <> :'stage' ORDER BY md5(id::text || :'tag') LIMIT 1000) x \gset
\timing on
WITH ids AS (
  SELECT DISTINCT x.raw FROM jsonb_array_elements_text(:'ids'::jsonb) AS x (raw)
), valid AS MATERIALIZED (
  SELECT ids.raw, lower(ids.raw)::uuid AS id FROM ids
   WHERE ids.raw ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
), target AS (
  SELECT c.id, c.lifecycle_stage
    FROM customers c
   WHERE c.company_id = :'cid'::uuid AND c.status = 'active' AND c.id IN (SELECT id FROM valid)
   ORDER BY c.id
     FOR UPDATE
), upd AS (
  UPDATE customers AS c SET lifecycle_stage = :'stage'::text
    FROM target t
   WHERE c.company_id = :'cid'::uuid AND c.id = t.id AND t.lifecycle_stage <> :'stage'::text
  RETURNING c.id
)
SELECT (SELECT count(*) FROM upd), (SELECT count(*) FROM target),
       (SELECT coalesce(jsonb_agg(ids.raw ORDER BY ids.raw), '[]'::jsonb)::text FROM ids
         WHERE NOT coalesce((SELECT jsonb_object_agg(t.id::text, true) FROM target t) ? lower(ids.raw), false)) \g /dev/null
COMMIT;
\timing off
