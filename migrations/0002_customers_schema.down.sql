-- Reverts 0002 to the legacy shape of 0001. Data written since stays, in legacy
-- shape: chat rows keep their legacy columns, customers keep id/company_id/name/
-- email/phone/created_at; parked legacy customers return to customers.

DROP TRIGGER trg_vc_usage_quarantine ON "VC Usage";
DROP FUNCTION vc_usage_quarantine_insert();
DROP TABLE vc_usage_quarantine;
DROP TRIGGER trg_vc_usage_company_from_tech_id ON "VC Usage";
DROP FUNCTION vc_usage_company_from_tech_id();
ALTER TABLE "VC Usage"
  DROP CONSTRAINT vc_usage_customer_needs_company_check,
  DROP CONSTRAINT vc_usage_customer_fkey,
  DROP CONSTRAINT vc_usage_company_fkey,
  DROP COLUMN customer_id,
  DROP COLUMN company_id;

DROP TRIGGER trg_customers_stamp ON customers;
DROP FUNCTION customers_stamp();
DROP INDEX customers_tags_idx;
DROP INDEX customers_phone_trgm_idx;
DROP INDEX customers_email_trgm_idx;
DROP INDEX customers_name_trgm_idx;
DROP INDEX customers_merged_into_idx;
DROP INDEX customers_list_updated_idx;
DROP INDEX customers_list_created_idx;
DROP INDEX customers_list_name_idx;
ALTER TABLE customers
  DROP CONSTRAINT customers_version_check,
  DROP CONSTRAINT customers_tags_check,
  DROP CONSTRAINT customers_attributes_check,
  DROP CONSTRAINT customers_deleted_state_check,
  DROP CONSTRAINT customers_not_merged_into_self_check,
  DROP CONSTRAINT customers_merged_state_check,
  DROP CONSTRAINT customers_source_check,
  DROP CONSTRAINT customers_lifecycle_stage_check,
  DROP CONSTRAINT customers_status_check,
  DROP CONSTRAINT customers_merged_into_fkey,
  DROP CONSTRAINT customers_company_external_id_key,
  DROP CONSTRAINT customers_company_fkey,
  DROP CONSTRAINT customers_pkey,
  ADD CONSTRAINT customers_pkey PRIMARY KEY (id),
  ALTER COLUMN company_id DROP NOT NULL,
  DROP COLUMN version,
  DROP COLUMN updated_by,
  DROP COLUMN created_by,
  DROP COLUMN updated_at,
  DROP COLUMN deleted_at,
  DROP COLUMN merged_into_customer_id,
  DROP COLUMN status,
  DROP COLUMN source,
  DROP COLUMN tags,
  DROP COLUMN lifecycle_stage,
  DROP COLUMN attributes,
  DROP COLUMN notes,
  DROP COLUMN address,
  DROP COLUMN external_id;

INSERT INTO customers (id, company_id, name, email, phone, created_at)
SELECT id, legacy_company_id, name, email, phone, created_at
  FROM legacy_customers_quarantine;
DROP TABLE legacy_customers_quarantine;

DROP FUNCTION get_user_company_id(text);
ALTER TABLE app_users DROP CONSTRAINT app_users_role_check;
ALTER TABLE companies DROP COLUMN default_country_code;

DROP FUNCTION phone_digits(text);
DROP FUNCTION normalize_name(text);
DROP FUNCTION normalize_phone(text, text);
DROP FUNCTION normalize_email(text);
DROP FUNCTION app_correlation_id();
DROP FUNCTION app_actor();
DROP FUNCTION app_leave_company(text);
DROP FUNCTION app_enter_company(uuid);
DROP FUNCTION app_current_company();

DROP EXTENSION btree_gin;
DROP EXTENSION fuzzystrmatch;
DROP EXTENSION pg_trgm;
