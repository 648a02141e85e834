DROP INDEX vc_usage_quarantined_idx;
DROP INDEX vc_usage_orphans_idx;
DROP INDEX vc_usage_customer_timeline_idx;
DROP INDEX vc_usage_session_idx;
ALTER TABLE "VC Usage" DROP CONSTRAINT vc_usage_company_id_id_key;
