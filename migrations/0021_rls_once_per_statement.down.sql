-- Back to the inlined per-row form of 0009-0019.

ALTER POLICY tenant_isolation ON companies
  USING (id = app_current_company()) WITH CHECK (id = app_current_company());
ALTER POLICY tenant_isolation ON app_users
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
ALTER POLICY tenant_isolation ON chat_sync_failures
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
ALTER POLICY tenant_isolation ON chat_sync_locks
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
ALTER POLICY tenant_isolation ON customer_audit_log
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
ALTER POLICY tenant_isolation ON customer_events
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
ALTER POLICY tenant_isolation ON customer_matching_keys
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
ALTER POLICY tenant_isolation ON customer_merge_log
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
ALTER POLICY tenant_isolation ON customer_metrics
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
ALTER POLICY tenant_isolation ON customer_search
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
ALTER POLICY tenant_isolation ON customer_session_counts
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
ALTER POLICY tenant_isolation ON customers
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
ALTER POLICY tenant_isolation ON duplicate_candidates
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
ALTER POLICY tenant_isolation ON duplicate_dismissals
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
ALTER POLICY tenant_isolation ON duplicate_models
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
ALTER POLICY tenant_isolation ON duplicate_pair_versions
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
ALTER POLICY tenant_isolation ON duplicate_queue
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
ALTER POLICY tenant_isolation ON idempotency_keys
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
ALTER POLICY tenant_isolation ON search_email_stems
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
ALTER POLICY tenant_isolation ON search_name_terms
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
ALTER POLICY tenant_isolation ON sync_settings
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
ALTER POLICY tenant_isolation ON "VC Usage"
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
