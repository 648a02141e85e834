-- Which pairs each duplicate_pair_versions bump changed (issue 13: GET
-- /v1/duplicates at 1M after a dismissal, a merge or a newly scored customer).
--
-- Until now a changed version made the next GET /v1/duplicates read and regroup
-- every stored pair of the company: about a second at 1M customers (51k pairs),
-- paid by the operator who had just dismissed a pair. The statement triggers of
-- 0019 now also log the (customer_a, customer_b) keys they saw with the version
-- they wrote, so a reader holding the groups of version V reads only the keys
-- changed after V and their current rows, and regroups in memory.
--
-- Bounded: each bump removes the company's entries more than 1000 versions old;
-- a reader older than what is left reads everything, as before. Same isolation
-- as duplicate_candidates: forced RLS per company, owner maintenance for the
-- rebuild that runs as the owner.
CREATE TABLE duplicate_pair_changes (
  company_id uuid   NOT NULL REFERENCES companies (id) ON DELETE CASCADE,
  version    bigint NOT NULL,
  customer_a uuid   NOT NULL,
  customer_b uuid   NOT NULL
);
CREATE INDEX duplicate_pair_changes_version_idx ON duplicate_pair_changes (company_id, version);
ALTER TABLE duplicate_pair_changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE duplicate_pair_changes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON duplicate_pair_changes
  USING (company_id = (SELECT app_current_company())) WITH CHECK (company_id = (SELECT app_current_company()));
CREATE POLICY owner_maintenance ON duplicate_pair_changes TO tradesphere_owner
  USING (session_user = 'tradesphere_owner') WITH CHECK (session_user = 'tradesphere_owner');
GRANT SELECT, INSERT, DELETE ON duplicate_pair_changes TO tradesphere_app;

-- The versions kept per company.
CREATE FUNCTION duplicate_pair_changes_kept() RETURNS bigint
  LANGUAGE sql IMMUTABLE AS 'SELECT 1000::bigint';

-- Bumps each company's version once and logs the keys under it. Called by the
-- statement triggers with the keys of their transition tables.
CREATE FUNCTION duplicate_pairs_log(p_company uuid[], p_a uuid[], p_b uuid[]) RETURNS void
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
AS $$
BEGIN
  WITH changed AS (
    SELECT DISTINCT k.company_id, k.customer_a, k.customer_b
      FROM unnest(p_company, p_a, p_b) AS k (company_id, customer_a, customer_b)
  ), bumped AS (
    INSERT INTO duplicate_pair_versions AS v (company_id)
    SELECT DISTINCT c.company_id FROM changed c
    ON CONFLICT (company_id) DO UPDATE SET version = v.version + 1, changed_at = now()
    RETURNING v.company_id, v.version
  ), logged AS (
    INSERT INTO duplicate_pair_changes (company_id, version, customer_a, customer_b)
    SELECT c.company_id, b.version, c.customer_a, c.customer_b
      FROM changed c JOIN bumped b ON b.company_id = c.company_id
  )
  DELETE FROM duplicate_pair_changes d
   USING bumped b
   WHERE d.company_id = b.company_id AND d.version <= b.version - duplicate_pair_changes_kept();
END
$$;

CREATE OR REPLACE FUNCTION duplicate_candidates_bump_version() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
AS $$
BEGIN
  PERFORM duplicate_pairs_log(array_agg(c.company_id), array_agg(c.customer_a), array_agg(c.customer_b))
     FROM changed_pairs c
   HAVING count(*) > 0;
  RETURN NULL;
END
$$;

-- An UPDATE logs the keys before and after (a statement that re-points a pair
-- to another customer changes two keys).
CREATE FUNCTION duplicate_candidates_bump_version_update() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
AS $$
BEGIN
  PERFORM duplicate_pairs_log(array_agg(c.company_id), array_agg(c.customer_a), array_agg(c.customer_b))
     FROM (SELECT n.company_id, n.customer_a, n.customer_b FROM changed_pairs n
           UNION
           SELECT o.company_id, o.customer_a, o.customer_b FROM old_pairs o) c
   HAVING count(*) > 0;
  RETURN NULL;
END
$$;
DROP TRIGGER trg_duplicate_candidates_version_update ON duplicate_candidates;
CREATE TRIGGER trg_duplicate_candidates_version_update
  AFTER UPDATE ON duplicate_candidates REFERENCING OLD TABLE AS old_pairs NEW TABLE AS changed_pairs
  FOR EACH STATEMENT EXECUTE FUNCTION duplicate_candidates_bump_version_update();

CREATE OR REPLACE FUNCTION duplicate_dismissals_bump_version() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
AS $$
BEGIN
  PERFORM duplicate_pairs_log(array_agg(d.company_id), array_agg(d.customer_a), array_agg(d.customer_b))
     FROM changed_dismissals d
   HAVING count(*) > 0;
  RETURN NULL;
END
$$;
