-- The backfill's checkpoints become part of the schema (issue 15: "the tables the
-- upgrade code creates with CREATE TABLE IF NOT EXISTS come from a migration").
--
-- Until now `tradesphere migrate adopt` and `tradesphere backfill` created
-- backfill_checkpoint (one worker: the last row id examined) and
-- backfill_company_checkpoint (--jobs N: one per company) on first use, so they
-- were in no migration, no down removed them and the schema of a database depended
-- on which commands had run in it. The same tables, now created here and dropped by
-- the down (a rollback below 0036 therefore forgets the backfill's progress, which
-- a rollback below the new schema must do anyway: it drops every chat→customer
-- link). IF NOT EXISTS: a database adopted or backfilled before 0036 already has
-- them, with this shape and possibly a checkpoint worth keeping.
--
-- Not moved: legacy_snapshot and legacy_snapshot_rows (adopt's snapshot of the
-- legacy user data, taken before any migration and compared by `verify` after
-- `migrate down --to 1`, so no migration above 0001 may own them), and
-- legacy_normalization with its parked rows (adopt's plan, recorded before any
-- migration runs; undone by 0002's down). docs/upgrade.md, "Before".
CREATE TABLE IF NOT EXISTS backfill_checkpoint (
  id           integer PRIMARY KEY CHECK (id = 1),
  last_id      bigint NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS backfill_company_checkpoint (
  company_id uuid PRIMARY KEY,
  last_id    bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- Owner-only, as the backfill runs as the schema owner: row-level security on (a
-- table with company_id is a tenant table) but deliberately not forced, no grant
-- to the application.
ALTER TABLE backfill_company_checkpoint ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON backfill_company_checkpoint
  USING (company_id = (SELECT app_current_company())) WITH CHECK (company_id = (SELECT app_current_company()));
