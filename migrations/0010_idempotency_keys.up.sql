-- 0010 Idempotency-Key records of the HTTP API: a retried POST (create, merge,
-- chat ingest) with the same key returns the first response and changes nothing.
-- status_code IS NULL while the first request is still being handled.

CREATE TABLE idempotency_keys (
  company_id      uuid NOT NULL REFERENCES companies (id),
  idempotency_key text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 200),
  request_hash    text NOT NULL,
  status_code     integer CHECK (status_code BETWEEN 100 AND 599),
  response_body   text,
  location        text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  completed_at    timestamptz,
  PRIMARY KEY (company_id, idempotency_key)
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (created_at);

ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON idempotency_keys
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
CREATE POLICY owner_maintenance ON idempotency_keys TO tradesphere_owner
  USING (session_user = 'tradesphere_owner') WITH CHECK (session_user = 'tradesphere_owner');

GRANT SELECT, INSERT, DELETE ON idempotency_keys TO tradesphere_app;
GRANT UPDATE (status_code, response_body, location, created_at, completed_at) ON idempotency_keys TO tradesphere_app;
