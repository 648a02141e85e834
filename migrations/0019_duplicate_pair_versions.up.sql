-- A change counter per company over duplicate_candidates (issue 13: GET
-- /v1/duplicates at 1M). Grouping every stored pair takes about a second at
-- 100k customers; CustomerMergeService keeps the groups in memory and reads
-- this one row to know whether they are still current. Every statement that
-- inserts, updates or deletes pairs (the queue worker, a rebuild, a dismissal,
-- a merge or delete through the 0016 triggers, a cascade) bumps the company's
-- version once. Same isolation as duplicate_candidates: forced RLS.
CREATE TABLE duplicate_pair_versions (
  company_id uuid PRIMARY KEY REFERENCES companies (id) ON DELETE CASCADE,
  version    bigint NOT NULL DEFAULT 1,
  changed_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE duplicate_pair_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE duplicate_pair_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON duplicate_pair_versions
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
CREATE POLICY owner_maintenance ON duplicate_pair_versions TO tradesphere_owner
  USING (session_user = 'tradesphere_owner') WITH CHECK (session_user = 'tradesphere_owner');
GRANT SELECT, INSERT, UPDATE ON duplicate_pair_versions TO tradesphere_app;

-- One function for the three statement triggers: each names its transition table changed_pairs.
CREATE FUNCTION duplicate_candidates_bump_version() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
AS $$
BEGIN
  INSERT INTO duplicate_pair_versions AS v (company_id)
  SELECT DISTINCT c.company_id FROM changed_pairs c
  ON CONFLICT (company_id) DO UPDATE SET version = v.version + 1, changed_at = now();
  RETURN NULL;
END
$$;
CREATE TRIGGER trg_duplicate_candidates_version_insert
  AFTER INSERT ON duplicate_candidates REFERENCING NEW TABLE AS changed_pairs
  FOR EACH STATEMENT EXECUTE FUNCTION duplicate_candidates_bump_version();
CREATE TRIGGER trg_duplicate_candidates_version_update
  AFTER UPDATE ON duplicate_candidates REFERENCING NEW TABLE AS changed_pairs
  FOR EACH STATEMENT EXECUTE FUNCTION duplicate_candidates_bump_version();
CREATE TRIGGER trg_duplicate_candidates_version_delete
  AFTER DELETE ON duplicate_candidates REFERENCING OLD TABLE AS changed_pairs
  FOR EACH STATEMENT EXECUTE FUNCTION duplicate_candidates_bump_version();

-- Dismissals change what GET /v1/duplicates shows even when no stored pair goes
-- (a pair below the floor, or one not stored yet): they bump the version too.
CREATE FUNCTION duplicate_dismissals_bump_version() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
AS $$
BEGIN
  INSERT INTO duplicate_pair_versions AS v (company_id)
  SELECT DISTINCT d.company_id FROM changed_dismissals d
  ON CONFLICT (company_id) DO UPDATE SET version = v.version + 1, changed_at = now();
  RETURN NULL;
END
$$;
CREATE TRIGGER trg_duplicate_dismissals_version_insert
  AFTER INSERT ON duplicate_dismissals REFERENCING NEW TABLE AS changed_dismissals
  FOR EACH STATEMENT EXECUTE FUNCTION duplicate_dismissals_bump_version();
CREATE TRIGGER trg_duplicate_dismissals_version_delete
  AFTER DELETE ON duplicate_dismissals REFERENCING OLD TABLE AS changed_dismissals
  FOR EACH STATEMENT EXECUTE FUNCTION duplicate_dismissals_bump_version();

INSERT INTO duplicate_pair_versions (company_id) SELECT id FROM companies;
