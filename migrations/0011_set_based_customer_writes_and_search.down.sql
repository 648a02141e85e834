-- Back to the row-level INSERT triggers of 0005/0007/0008 and the trigram indexes
-- on customers (0002).
DROP FUNCTION duplicate_candidate_ids(uuid, integer);
DROP FUNCTION search_customer_hits(text, text, text, integer);

DROP TRIGGER trg_customers_after_insert ON customers;
DROP FUNCTION customers_after_insert();

DROP TRIGGER trg_customers_metrics_row ON customers;
CREATE TRIGGER trg_customers_metrics_row
  AFTER INSERT OR UPDATE OF status ON customers
  FOR EACH ROW EXECUTE FUNCTION customers_metrics_row();

DROP TRIGGER trg_customers_matching_keys_sync ON customers;
CREATE TRIGGER trg_customers_matching_keys_sync
  AFTER INSERT OR UPDATE ON customers
  FOR EACH ROW EXECUTE FUNCTION customers_matching_keys_sync();

DROP TRIGGER trg_customers_audit_log ON customers;
CREATE TRIGGER trg_customers_audit_log
  AFTER INSERT OR UPDATE OR DELETE ON customers
  FOR EACH ROW EXECUTE FUNCTION audit_row_change();

DROP TRIGGER trg_customers_search_sync ON customers;
DROP FUNCTION customers_search_sync();

CREATE INDEX customers_name_trgm_idx ON customers USING gin (company_id, name gin_trgm_ops);
CREATE INDEX customers_email_trgm_idx ON customers USING gin (company_id, lower(email) gin_trgm_ops);
CREATE INDEX customers_phone_trgm_idx ON customers USING gin (company_id, phone_digits(phone) gin_trgm_ops);

DROP TABLE customer_search;
