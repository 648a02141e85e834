-- Back to 0036: the updated_at list index and the default fillfactor.
ALTER TABLE customers RESET (fillfactor);
CREATE INDEX customers_list_updated_idx ON customers (company_id, status, updated_at, id);
