-- Duplicate-finding model per company (issue 13, docs/duplicates.md): the
-- Fellegi-Sunter parameters (m/u per comparison level, prior) estimated by EM
-- on the company's own records, with the term frequencies that adjust exact
-- agreements. Written by `tradesphere duplicates train` and by every
-- whole-company scan; read when one customer's duplicates are scored.
CREATE TABLE duplicate_models (
  company_id uuid NOT NULL,
  parameters jsonb NOT NULL,
  source text NOT NULL,
  trained_records integer NOT NULL CHECK (trained_records >= 0),
  trained_pairs bigint NOT NULL CHECK (trained_pairs >= 0),
  trained_at timestamptz NOT NULL DEFAULT now(),
  trained_by text,
  CONSTRAINT duplicate_models_pkey PRIMARY KEY (company_id),
  CONSTRAINT duplicate_models_company_fkey FOREIGN KEY (company_id) REFERENCES companies (id) ON DELETE CASCADE,
  CONSTRAINT duplicate_models_parameters_check CHECK (jsonb_typeof(parameters) = 'object')
);

ALTER TABLE duplicate_models ENABLE ROW LEVEL SECURITY;
ALTER TABLE duplicate_models FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON duplicate_models
  USING (company_id = app_current_company()) WITH CHECK (company_id = app_current_company());
CREATE POLICY owner_maintenance ON duplicate_models TO tradesphere_owner
  USING (session_user = 'tradesphere_owner') WITH CHECK (session_user = 'tradesphere_owner');

GRANT SELECT, INSERT, UPDATE ON duplicate_models TO tradesphere_app;
