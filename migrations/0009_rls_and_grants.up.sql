-- 0009 row-level security and the application role's privileges.
--
-- Every table with a company_id column: RLS ENABLED and FORCED (the owner is
-- subject to it too, so SECURITY DEFINER functions stay inside a tenant), with
--   tenant_isolation   (all roles): company_id = app_current_company()
--                      app_current_company() is NULL for a missing or garbage
--                      app.company_id, so such a transaction sees and writes nothing;
--   owner_maintenance  (tradesphere_owner, only when logged in as itself): every row,
--                      for migrations and the admin CLI (backfill, verify, rebuild).
--                      SECURITY DEFINER code reached from an application session
--                      runs with session_user = tradesphere_app, so this policy
--                      does not apply to it.
-- Special cases: app_users_definer_lookup (tech id -> company before the tenant is
-- known, used only through get_user_company_id()), vc_usage_legacy_insert (legacy
-- chat writers without a tenant), sync_settings_global_read (the global pause row).
-- docs/database.md has the full model.

ALTER TABLE app_users ENABLE ROW LEVEL SECURITY;
ALTER TABLE app_users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON app_users
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
CREATE POLICY owner_maintenance ON app_users TO tradesphere_owner
  USING (session_user = 'tradesphere_owner') WITH CHECK (session_user = 'tradesphere_owner');

ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
ALTER TABLE customers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customers
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
CREATE POLICY owner_maintenance ON customers TO tradesphere_owner
  USING (session_user = 'tradesphere_owner') WITH CHECK (session_user = 'tradesphere_owner');

ALTER TABLE "VC Usage" ENABLE ROW LEVEL SECURITY;
ALTER TABLE "VC Usage" FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON "VC Usage"
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
CREATE POLICY owner_maintenance ON "VC Usage" TO tradesphere_owner
  USING (session_user = 'tradesphere_owner') WITH CHECK (session_user = 'tradesphere_owner');

ALTER TABLE customer_matching_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_matching_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer_matching_keys
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
CREATE POLICY owner_maintenance ON customer_matching_keys TO tradesphere_owner
  USING (session_user = 'tradesphere_owner') WITH CHECK (session_user = 'tradesphere_owner');

ALTER TABLE customer_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer_events
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
CREATE POLICY owner_maintenance ON customer_events TO tradesphere_owner
  USING (session_user = 'tradesphere_owner') WITH CHECK (session_user = 'tradesphere_owner');

ALTER TABLE customer_merge_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_merge_log FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer_merge_log
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
CREATE POLICY owner_maintenance ON customer_merge_log TO tradesphere_owner
  USING (session_user = 'tradesphere_owner') WITH CHECK (session_user = 'tradesphere_owner');

ALTER TABLE duplicate_dismissals ENABLE ROW LEVEL SECURITY;
ALTER TABLE duplicate_dismissals FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON duplicate_dismissals
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
CREATE POLICY owner_maintenance ON duplicate_dismissals TO tradesphere_owner
  USING (session_user = 'tradesphere_owner') WITH CHECK (session_user = 'tradesphere_owner');

ALTER TABLE sync_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE sync_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sync_settings
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
CREATE POLICY owner_maintenance ON sync_settings TO tradesphere_owner
  USING (session_user = 'tradesphere_owner') WITH CHECK (session_user = 'tradesphere_owner');

ALTER TABLE chat_sync_failures ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat_sync_failures FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON chat_sync_failures
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
CREATE POLICY owner_maintenance ON chat_sync_failures TO tradesphere_owner
  USING (session_user = 'tradesphere_owner') WITH CHECK (session_user = 'tradesphere_owner');

ALTER TABLE customer_session_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_session_counts FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer_session_counts
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
CREATE POLICY owner_maintenance ON customer_session_counts TO tradesphere_owner
  USING (session_user = 'tradesphere_owner') WITH CHECK (session_user = 'tradesphere_owner');

ALTER TABLE customer_metrics ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_metrics FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer_metrics
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
CREATE POLICY owner_maintenance ON customer_metrics TO tradesphere_owner
  USING (session_user = 'tradesphere_owner') WITH CHECK (session_user = 'tradesphere_owner');

ALTER TABLE chat_sync_locks ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat_sync_locks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON chat_sync_locks
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
CREATE POLICY owner_maintenance ON chat_sync_locks TO tradesphere_owner
  USING (session_user = 'tradesphere_owner') WITH CHECK (session_user = 'tradesphere_owner');

ALTER TABLE customer_audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE customer_audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON customer_audit_log
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
CREATE POLICY owner_maintenance ON customer_audit_log TO tradesphere_owner
  USING (session_user = 'tradesphere_owner') WITH CHECK (session_user = 'tradesphere_owner');

-- get_user_company_id() (SECURITY DEFINER, owner) reads app_users across tenants.
CREATE POLICY app_users_definer_lookup ON app_users FOR SELECT TO tradesphere_owner
  USING (true);

-- A legacy chat writer sets no tenant: it may insert a chat row whose company_id is
-- the one its tech_id implies (derived by trg_vc_usage_company_from_tech_id), or NULL
-- for an unknown tech_id (quarantined). It cannot read anything back.
CREATE POLICY vc_usage_legacy_insert ON "VC Usage" FOR INSERT
  WITH CHECK (coalesce(current_setting('app.company_id', true), '') = ''
              AND company_id IS NOT DISTINCT FROM get_user_company_id(tech_id));

-- The global pause row (company_id NULL) is visible to every tenant.
CREATE POLICY sync_settings_global_read ON sync_settings FOR SELECT
  USING (company_id IS NULL);

-- companies is the tenant registry (no company_id): the application sees its own row;
-- the owner is not forced (SECURITY DEFINER functions read calling codes).
ALTER TABLE companies ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON companies
  USING (id = app_current_company()) WITH CHECK (id = app_current_company());

-- Quarantine tables (no tenant yet): owner only; RLS without policies denies others.
ALTER TABLE vc_usage_quarantine ENABLE ROW LEVEL SECURITY;
ALTER TABLE legacy_customers_quarantine ENABLE ROW LEVEL SECURITY;

------------------------------------------------------------------------------
-- Privileges of tradesphere_app (it owns nothing)
------------------------------------------------------------------------------
GRANT SELECT ON companies, app_users TO tradesphere_app;
-- soft delete only: no DELETE; id, company_id, created_*, updated_*, version and
-- source are maintained by the database
GRANT SELECT, INSERT ON customers TO tradesphere_app;
GRANT UPDATE (external_id, name, email, phone, address, notes, attributes, lifecycle_stage, tags,
              status, merged_into_customer_id, deleted_at) ON customers TO tradesphere_app;
-- chat rows: ingest and relink (merge, orphan adoption); never rewrite or delete
GRANT SELECT, INSERT ON "VC Usage" TO tradesphere_app;
GRANT UPDATE (customer_id) ON "VC Usage" TO tradesphere_app;
GRANT USAGE ON SEQUENCE "VC Usage_id_seq" TO tradesphere_app;
GRANT SELECT ON customer_matching_keys TO tradesphere_app;
GRANT SELECT, INSERT ON customer_events TO tradesphere_app;
GRANT UPDATE (customer_id) ON customer_events TO tradesphere_app;
GRANT SELECT, INSERT ON customer_merge_log TO tradesphere_app;
GRANT UPDATE (undone_at, undone_by) ON customer_merge_log TO tradesphere_app;
GRANT SELECT, INSERT, DELETE ON duplicate_dismissals TO tradesphere_app;
GRANT SELECT ON customer_metrics TO tradesphere_app;
GRANT SELECT ON customer_audit_log TO tradesphere_app;
GRANT SELECT ON chat_sync_failures TO tradesphere_app;
GRANT SELECT ON sync_settings TO tradesphere_app;
GRANT EXECUTE ON FUNCTION get_user_company_id(text) TO tradesphere_app;
