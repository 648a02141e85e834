DROP TRIGGER trg_customer_audit_log_no_truncate ON customer_audit_log;
DROP TRIGGER trg_customer_audit_log_append_only ON customer_audit_log;
DROP FUNCTION customer_audit_log_append_only();
DROP TRIGGER trg_duplicate_dismissals_audit_log ON duplicate_dismissals;
DROP TRIGGER trg_customer_merge_log_audit_log ON customer_merge_log;
DROP TRIGGER trg_customers_audit_log ON customers;
DROP FUNCTION audit_row_change();
DROP TABLE customer_audit_log;
