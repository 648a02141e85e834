-- Row-level security evaluated once per statement, not once per row (issue 14).
--
-- app_current_company() is a STABLE SQL function that PostgreSQL inlines: every
-- policy `company_id = app_current_company()` became a CASE with a regular
-- expression over current_setting(), evaluated for each row the policy filters
-- (whenever the tenant condition is not the index condition: a list read through
-- a sort index, a join to customer_metrics, a trigram scan). Written as a scalar
-- sub-select the planner turns it into an InitPlan: computed once per statement
-- and compared as a parameter, still usable as an index condition. Supabase's
-- RLS performance guide gives the same advice. The isolation rule itself is
-- unchanged: NULL (no or a malformed app.company_id) still matches no row.

ALTER POLICY tenant_isolation ON companies
  USING (id = (SELECT app_current_company())) WITH CHECK (id = (SELECT app_current_company()));
ALTER POLICY tenant_isolation ON app_users
  USING (company_id = (SELECT app_current_company())) WITH CHECK (company_id = (SELECT app_current_company()));
ALTER POLICY tenant_isolation ON chat_sync_failures
  USING (company_id = (SELECT app_current_company())) WITH CHECK (company_id = (SELECT app_current_company()));
ALTER POLICY tenant_isolation ON chat_sync_locks
  USING (company_id = (SELECT app_current_company())) WITH CHECK (company_id = (SELECT app_current_company()));
ALTER POLICY tenant_isolation ON customer_audit_log
  USING (company_id = (SELECT app_current_company())) WITH CHECK (company_id = (SELECT app_current_company()));
ALTER POLICY tenant_isolation ON customer_events
  USING (company_id = (SELECT app_current_company())) WITH CHECK (company_id = (SELECT app_current_company()));
ALTER POLICY tenant_isolation ON customer_matching_keys
  USING (company_id = (SELECT app_current_company())) WITH CHECK (company_id = (SELECT app_current_company()));
ALTER POLICY tenant_isolation ON customer_merge_log
  USING (company_id = (SELECT app_current_company())) WITH CHECK (company_id = (SELECT app_current_company()));
ALTER POLICY tenant_isolation ON customer_metrics
  USING (company_id = (SELECT app_current_company())) WITH CHECK (company_id = (SELECT app_current_company()));
ALTER POLICY tenant_isolation ON customer_search
  USING (company_id = (SELECT app_current_company())) WITH CHECK (company_id = (SELECT app_current_company()));
ALTER POLICY tenant_isolation ON customer_session_counts
  USING (company_id = (SELECT app_current_company())) WITH CHECK (company_id = (SELECT app_current_company()));
ALTER POLICY tenant_isolation ON customers
  USING (company_id = (SELECT app_current_company())) WITH CHECK (company_id = (SELECT app_current_company()));
ALTER POLICY tenant_isolation ON duplicate_candidates
  USING (company_id = (SELECT app_current_company())) WITH CHECK (company_id = (SELECT app_current_company()));
ALTER POLICY tenant_isolation ON duplicate_dismissals
  USING (company_id = (SELECT app_current_company())) WITH CHECK (company_id = (SELECT app_current_company()));
ALTER POLICY tenant_isolation ON duplicate_models
  USING (company_id = (SELECT app_current_company())) WITH CHECK (company_id = (SELECT app_current_company()));
ALTER POLICY tenant_isolation ON duplicate_pair_versions
  USING (company_id = (SELECT app_current_company())) WITH CHECK (company_id = (SELECT app_current_company()));
ALTER POLICY tenant_isolation ON duplicate_queue
  USING (company_id = (SELECT app_current_company())) WITH CHECK (company_id = (SELECT app_current_company()));
ALTER POLICY tenant_isolation ON idempotency_keys
  USING (company_id = (SELECT app_current_company())) WITH CHECK (company_id = (SELECT app_current_company()));
ALTER POLICY tenant_isolation ON search_email_stems
  USING (company_id = (SELECT app_current_company())) WITH CHECK (company_id = (SELECT app_current_company()));
ALTER POLICY tenant_isolation ON search_name_terms
  USING (company_id = (SELECT app_current_company())) WITH CHECK (company_id = (SELECT app_current_company()));
ALTER POLICY tenant_isolation ON sync_settings
  USING (company_id = (SELECT app_current_company())) WITH CHECK (company_id = (SELECT app_current_company()));
ALTER POLICY tenant_isolation ON "VC Usage"
  USING (company_id = (SELECT app_current_company())) WITH CHECK (company_id = (SELECT app_current_company()));
