DROP TRIGGER trg_companies_country_code_rekey ON companies;
DROP FUNCTION companies_country_code_rekey();
DROP TRIGGER trg_customers_matching_keys_sync ON customers;
DROP FUNCTION customers_matching_keys_sync();
DROP FUNCTION sync_customer_matching_keys(uuid, uuid);
DROP TABLE duplicate_dismissals;
DROP TABLE customer_merge_log;
DROP TABLE customer_events;
DROP TABLE customer_matching_keys;
