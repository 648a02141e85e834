-- Back to 0019's triggers: a version bump without the changed keys.
CREATE OR REPLACE FUNCTION duplicate_dismissals_bump_version() RETURNS trigger
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

DROP TRIGGER trg_duplicate_candidates_version_update ON duplicate_candidates;
CREATE TRIGGER trg_duplicate_candidates_version_update
  AFTER UPDATE ON duplicate_candidates REFERENCING NEW TABLE AS changed_pairs
  FOR EACH STATEMENT EXECUTE FUNCTION duplicate_candidates_bump_version();
DROP FUNCTION duplicate_candidates_bump_version_update();

CREATE OR REPLACE FUNCTION duplicate_candidates_bump_version() RETURNS trigger
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

DROP FUNCTION duplicate_pairs_log(uuid[], uuid[], uuid[]);
DROP FUNCTION duplicate_pair_changes_kept();
DROP TABLE duplicate_pair_changes;
