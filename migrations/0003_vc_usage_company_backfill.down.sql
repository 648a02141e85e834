-- Reverts 0003's schema effect (validated -> NOT VALID constraints). The
-- backfilled company_id values and quarantine entries stay: 0002's down drops
-- them with their columns/table, and 0003's up is idempotent.

ALTER TABLE "VC Usage"
  DROP CONSTRAINT vc_usage_customer_needs_company_check,
  DROP CONSTRAINT vc_usage_customer_fkey,
  DROP CONSTRAINT vc_usage_company_fkey;

ALTER TABLE "VC Usage"
  ADD CONSTRAINT vc_usage_company_fkey FOREIGN KEY (company_id) REFERENCES companies (id) NOT VALID,
  ADD CONSTRAINT vc_usage_customer_fkey FOREIGN KEY (company_id, customer_id)
    REFERENCES customers (company_id, id) ON DELETE SET NULL (customer_id) NOT VALID,
  ADD CONSTRAINT vc_usage_customer_needs_company_check
    CHECK (customer_id IS NULL OR company_id IS NOT NULL) NOT VALID;
