-- Reverts 0009: privileges of tradesphere_app, policies, row-level security.
REVOKE EXECUTE ON FUNCTION get_user_company_id(text) FROM tradesphere_app;
REVOKE ALL ON sync_settings, chat_sync_failures, customer_audit_log, customer_metrics,
              duplicate_dismissals, customer_merge_log, customer_events, customer_matching_keys,
              "VC Usage", customers, app_users, companies FROM tradesphere_app;
REVOKE ALL ON SEQUENCE "VC Usage_id_seq" FROM tradesphere_app;
REVOKE UPDATE (customer_id) ON "VC Usage" FROM tradesphere_app;
REVOKE UPDATE (customer_id) ON customer_events FROM tradesphere_app;
REVOKE UPDATE (undone_at, undone_by) ON customer_merge_log FROM tradesphere_app;
REVOKE UPDATE (external_id, name, email, phone, address, notes, attributes, lifecycle_stage, tags,
               status, merged_into_customer_id, deleted_at) ON customers FROM tradesphere_app;

ALTER TABLE legacy_customers_quarantine DISABLE ROW LEVEL SECURITY;
ALTER TABLE vc_usage_quarantine DISABLE ROW LEVEL SECURITY;
DROP POLICY tenant_isolation ON companies;
ALTER TABLE companies DISABLE ROW LEVEL SECURITY;
DROP POLICY sync_settings_global_read ON sync_settings;
DROP POLICY vc_usage_legacy_insert ON "VC Usage";
DROP POLICY app_users_definer_lookup ON app_users;

DROP POLICY owner_maintenance ON chat_sync_locks;
DROP POLICY tenant_isolation ON chat_sync_locks;
ALTER TABLE chat_sync_locks NO FORCE ROW LEVEL SECURITY;
ALTER TABLE chat_sync_locks DISABLE ROW LEVEL SECURITY;

DROP POLICY owner_maintenance ON customer_audit_log;
DROP POLICY tenant_isolation ON customer_audit_log;
ALTER TABLE customer_audit_log NO FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_audit_log DISABLE ROW LEVEL SECURITY;

DROP POLICY owner_maintenance ON customer_metrics;
DROP POLICY tenant_isolation ON customer_metrics;
ALTER TABLE customer_metrics NO FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_metrics DISABLE ROW LEVEL SECURITY;

DROP POLICY owner_maintenance ON customer_session_counts;
DROP POLICY tenant_isolation ON customer_session_counts;
ALTER TABLE customer_session_counts NO FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_session_counts DISABLE ROW LEVEL SECURITY;

DROP POLICY owner_maintenance ON chat_sync_failures;
DROP POLICY tenant_isolation ON chat_sync_failures;
ALTER TABLE chat_sync_failures NO FORCE ROW LEVEL SECURITY;
ALTER TABLE chat_sync_failures DISABLE ROW LEVEL SECURITY;

DROP POLICY owner_maintenance ON sync_settings;
DROP POLICY tenant_isolation ON sync_settings;
ALTER TABLE sync_settings NO FORCE ROW LEVEL SECURITY;
ALTER TABLE sync_settings DISABLE ROW LEVEL SECURITY;

DROP POLICY owner_maintenance ON duplicate_dismissals;
DROP POLICY tenant_isolation ON duplicate_dismissals;
ALTER TABLE duplicate_dismissals NO FORCE ROW LEVEL SECURITY;
ALTER TABLE duplicate_dismissals DISABLE ROW LEVEL SECURITY;

DROP POLICY owner_maintenance ON customer_merge_log;
DROP POLICY tenant_isolation ON customer_merge_log;
ALTER TABLE customer_merge_log NO FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_merge_log DISABLE ROW LEVEL SECURITY;

DROP POLICY owner_maintenance ON customer_events;
DROP POLICY tenant_isolation ON customer_events;
ALTER TABLE customer_events NO FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_events DISABLE ROW LEVEL SECURITY;

DROP POLICY owner_maintenance ON customer_matching_keys;
DROP POLICY tenant_isolation ON customer_matching_keys;
ALTER TABLE customer_matching_keys NO FORCE ROW LEVEL SECURITY;
ALTER TABLE customer_matching_keys DISABLE ROW LEVEL SECURITY;

DROP POLICY owner_maintenance ON "VC Usage";
DROP POLICY tenant_isolation ON "VC Usage";
ALTER TABLE "VC Usage" NO FORCE ROW LEVEL SECURITY;
ALTER TABLE "VC Usage" DISABLE ROW LEVEL SECURITY;

DROP POLICY owner_maintenance ON customers;
DROP POLICY tenant_isolation ON customers;
ALTER TABLE customers NO FORCE ROW LEVEL SECURITY;
ALTER TABLE customers DISABLE ROW LEVEL SECURITY;

DROP POLICY owner_maintenance ON app_users;
DROP POLICY tenant_isolation ON app_users;
ALTER TABLE app_users NO FORCE ROW LEVEL SECURITY;
ALTER TABLE app_users DISABLE ROW LEVEL SECURITY;
