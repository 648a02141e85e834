-- 0003 backfill "VC Usage".company_id from app_users by tech_id, quarantine the
-- rows whose tech_id matches no user, then validate the constraints 0002 added
-- NOT VALID. Takes no lock that blocks the legacy writer: the UPDATE holds
-- ROW EXCLUSIVE and VALIDATE CONSTRAINT holds SHARE UPDATE EXCLUSIVE; rows
-- inserted meanwhile get company_id from trg_vc_usage_company_from_tech_id.

UPDATE "VC Usage" v
   SET company_id = u.company_id
  FROM app_users u
 WHERE v.company_id IS NULL
   AND u.tech_id = v.tech_id;

INSERT INTO vc_usage_quarantine (vc_usage_id, tech_id)
SELECT id, tech_id
  FROM "VC Usage"
 WHERE company_id IS NULL
ON CONFLICT (vc_usage_id) DO NOTHING;

ALTER TABLE "VC Usage" VALIDATE CONSTRAINT vc_usage_company_fkey;
ALTER TABLE "VC Usage" VALIDATE CONSTRAINT vc_usage_customer_fkey;
ALTER TABLE "VC Usage" VALIDATE CONSTRAINT vc_usage_customer_needs_company_check;
