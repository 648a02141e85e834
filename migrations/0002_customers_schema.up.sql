-- 0002 customers schema: extensions, tenant/actor helpers, normalizers, the new
-- customers shape (from the legacy one), companies.default_country_code, and the
-- company_id / customer_id columns of "VC Usage" (added nullable; filled by 0003).
-- See docs/database.md for the rules implemented here.

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tradesphere_app') THEN
    RAISE EXCEPTION 'migration 0002 needs the role tradesphere_app, which does not exist'
      USING HINT = 'create it first (as a superuser): CREATE ROLE tradesphere_app LOGIN NOSUPERUSER NOBYPASSRLS; see docs/development.md';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'tradesphere_owner') THEN
    RAISE EXCEPTION 'migration 0002 needs the role tradesphere_owner, which does not exist'
      USING HINT = 'migrations run as tradesphere_owner, the owner of the database; see docs/development.md';
  END IF;
END
$$;

-- Trusted extensions: the database owner may create them.
CREATE EXTENSION IF NOT EXISTS pg_trgm;        -- search: similarity, LIKE '%x%' on GIN
CREATE EXTENSION IF NOT EXISTS fuzzystrmatch;  -- duplicate scoring: levenshtein, dmetaphone
CREATE EXTENSION IF NOT EXISTS btree_gin;      -- (company_id, text gin_trgm_ops) GIN indexes

------------------------------------------------------------------------------
-- Request context helpers (transaction-local settings set by the application)
------------------------------------------------------------------------------

-- The tenant of the current transaction, or NULL when app.company_id is missing,
-- empty or not a canonical uuid. Never raises: a garbage setting yields NULL, and
-- `company_id = NULL` matches no row.
CREATE FUNCTION app_current_company() RETURNS uuid
  LANGUAGE sql STABLE PARALLEL SAFE
AS $$
  SELECT CASE
           WHEN current_setting('app.company_id', true)
                ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
           THEN current_setting('app.company_id', true)::uuid
         END
$$;

-- SECURITY DEFINER trigger functions run as the owner, and row-level security is
-- FORCED for the owner too: they act inside the row's tenant by switching
-- app.company_id to it (app_enter_company) and back (app_leave_company) before
-- returning. An error rolls the switch back with the (sub)transaction.
CREATE FUNCTION app_enter_company(p_company uuid) RETURNS text
  LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
  v_prev text := current_setting('app.company_id', true);
BEGIN
  PERFORM set_config('app.company_id', coalesce(p_company::text, ''), true);
  RETURN v_prev;
END
$$;
REVOKE EXECUTE ON FUNCTION app_enter_company(uuid) FROM PUBLIC;

CREATE FUNCTION app_leave_company(p_prev text) RETURNS void
  LANGUAGE plpgsql VOLATILE
AS $$
BEGIN
  PERFORM set_config('app.company_id', coalesce(p_prev, ''), true);
END
$$;
REVOKE EXECUTE ON FUNCTION app_leave_company(text) FROM PUBLIC;

CREATE FUNCTION app_actor() RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(current_setting('app.user_id', true), '') $$;

CREATE FUNCTION app_correlation_id() RETURNS text
  LANGUAGE sql STABLE PARALLEL SAFE
AS $$ SELECT nullif(current_setting('app.correlation_id', true), '') $$;

------------------------------------------------------------------------------
-- Normalizers (IMMUTABLE; mirrored by src/domain, rules in docs/database.md)
------------------------------------------------------------------------------

-- Email key: trim Unicode whitespace, lower-case (ICU root locale), and require
-- local@domain.tld without whitespace; anything else is not an email (NULL).
CREATE FUNCTION normalize_email(raw text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT CASE
           WHEN e ~ '^[^@\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]+@[^@\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]+\.[^@\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]+$'
           THEN e
         END
  FROM (SELECT lower(regexp_replace(raw,
                 '^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]+$',
                 '', 'g') COLLATE "und-x-icu") AS e) AS s
$$;

-- Phone key: E.164 '+<digits>'. default_calling_code is the company's country
-- calling code ('1', '44', ...). Returns NULL when the input cannot be a phone number.
CREATE FUNCTION normalize_phone(raw text, default_calling_code text) RETURNS text
  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
  s    text;
  intl boolean;
  d    text;
  cc   text;
BEGIN
  IF raw IS NULL THEN
    RETURN NULL;
  END IF;
  -- 1. an extension starts at the first letter, '#', ',' or ';' after a digit: drop it
  s := regexp_replace(raw, '^([^0-9]*[0-9][^A-Za-z#,;]*)[A-Za-z#,;].*$', '\1');
  -- 2. a literal "(0)" is the optional trunk prefix of "+44 (0)20 ...": drop it
  s := replace(s, '(0)', '');
  -- 3. international when the first '+' or digit is a '+'
  intl := s ~ '^[^0-9+]*\+';
  d := regexp_replace(s, '[^0-9]', '', 'g');
  -- 4. '00' is the international call prefix
  IF NOT intl AND d LIKE '00%' THEN
    intl := true;
    d := substr(d, 3);
  END IF;
  IF length(d) < 7 THEN
    RETURN NULL;
  END IF;
  IF NOT intl THEN
    cc := regexp_replace(coalesce(default_calling_code, ''), '[^0-9]', '', 'g');
    IF cc = '' THEN
      RETURN NULL;
    END IF;
    IF cc = '1' AND length(d) = 11 AND d LIKE '1%' THEN
      d := substr(d, 2);                 -- NANP: "1 555 123 4567" already carries the code
    ELSIF cc <> '39' AND d LIKE '0%' THEN
      d := substr(d, 2);                 -- one national trunk '0' (Italy keeps it)
    END IF;
    d := cc || d;
  END IF;
  IF length(d) > 15 OR d LIKE '0%' THEN
    RETURN NULL;
  END IF;
  RETURN '+' || d;
END
$$;

-- Name key (fuzzy blocking only, never automatic linking): lower-case (ICU root),
-- fold Latin letters with diacritics to ASCII, drop apostrophes, turn ASCII
-- punctuation/symbols and Unicode spaces/punctuation into separators, then the
-- distinct tokens sorted bytewise and joined by one space. NULL when empty.
CREATE FUNCTION normalize_name(raw text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$
  SELECT nullif(array_to_string(ARRAY(
           SELECT DISTINCT tok COLLATE "C"
             FROM unnest(string_to_array(btrim(regexp_replace(regexp_replace(
                    translate(
                      replace(replace(replace(replace(replace(lower(raw COLLATE "und-x-icu"),
                        'ß', 'ss'), 'æ', 'ae'), 'œ', 'oe'), 'þ', 'th'), 'ĳ', 'ij'),
                      'àáâãäåçèéêëìíîïðñòóôõöøùúûüýÿāăąćĉċčďđēĕėęěĝğġģĥħĩīĭįıĵķĸĺļľŀłńņňŉŋōŏőŕŗřśŝşšţťŧũūŭůűųŵŷźżžſ',
                      'aaaaaaceeeeiiiidnoooooouuuuyyaaaccccddeeeeegggghhiiiiijkklllllnnnnnooorrrsssstttuuuuuuwyzzzs'),
                    '[''`\u00b4\u2018\u2019\u02bc]', '', 'g'),
                    '[\x01-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f\u0080-\u00bf\u00d7\u00f7\u1680\u2000-\u206f\u3000-\u303f\ufeff]+', ' ', 'g')),
                  ' ')) AS tok
            ORDER BY 1), ' '), '')
$$;

-- Digits of a phone column, for trigram search on partial numbers.
CREATE FUNCTION phone_digits(raw text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT regexp_replace(raw, '[^0-9]', '', 'g') $$;

------------------------------------------------------------------------------
-- companies, app_users
------------------------------------------------------------------------------

-- The country calling code used for phone numbers written without '+'/'00'.
ALTER TABLE companies
  ADD COLUMN default_country_code text NOT NULL DEFAULT '1'
    CONSTRAINT companies_default_country_code_check CHECK (default_country_code ~ '^[1-9][0-9]{0,2}$');

-- Legacy rows may hold other role names: the constraint guards new rows only.
ALTER TABLE app_users
  ADD CONSTRAINT app_users_role_check CHECK (role IN ('viewer', 'agent', 'admin')) NOT VALID;

-- The facade's tech id -> company lookup, usable before the tenant is known.
CREATE FUNCTION get_user_company_id(p_tech_id text) RETURNS uuid
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$ SELECT company_id FROM app_users WHERE tech_id = p_tech_id $$;
REVOKE EXECUTE ON FUNCTION get_user_company_id(text) FROM PUBLIC;

------------------------------------------------------------------------------
-- customers: legacy rows without a valid company are parked, not dropped
------------------------------------------------------------------------------

CREATE TABLE legacy_customers_quarantine (
  id                uuid PRIMARY KEY,
  legacy_company_id uuid,
  name              text,
  email             text,
  phone             text,
  created_at        timestamptz NOT NULL,
  reason            text NOT NULL,
  quarantined_at    timestamptz NOT NULL DEFAULT now()
);

INSERT INTO legacy_customers_quarantine (id, legacy_company_id, name, email, phone, created_at, reason)
SELECT c.id, c.company_id, c.name, c.email, c.phone, c.created_at,
       CASE WHEN c.company_id IS NULL THEN 'company_id is NULL' ELSE 'company does not exist' END
  FROM customers c
 WHERE c.company_id IS NULL
    OR NOT EXISTS (SELECT 1 FROM companies co WHERE co.id = c.company_id);

DELETE FROM customers c
 WHERE c.company_id IS NULL
    OR NOT EXISTS (SELECT 1 FROM companies co WHERE co.id = c.company_id);

ALTER TABLE customers
  ALTER COLUMN company_id SET NOT NULL,
  ADD COLUMN external_id             text,
  ADD COLUMN address                 text,
  ADD COLUMN notes                   text,
  ADD COLUMN attributes              jsonb NOT NULL DEFAULT '{}'::jsonb,
  ADD COLUMN lifecycle_stage         text NOT NULL DEFAULT 'prospect',
  ADD COLUMN tags                    text[] NOT NULL DEFAULT '{}'::text[],
  ADD COLUMN source                  text NOT NULL DEFAULT 'import',  -- legacy rows: 'import'
  ADD COLUMN status                  text NOT NULL DEFAULT 'active',
  ADD COLUMN merged_into_customer_id uuid,
  ADD COLUMN deleted_at              timestamptz,
  ADD COLUMN updated_at              timestamptz NOT NULL DEFAULT now(),
  ADD COLUMN created_by              text,
  ADD COLUMN updated_by              text,
  ADD COLUMN version                 integer NOT NULL DEFAULT 1;

ALTER TABLE customers ALTER COLUMN source SET DEFAULT 'manual';      -- new rows
UPDATE customers SET updated_at = created_at;                        -- legacy rows

ALTER TABLE customers
  DROP CONSTRAINT customers_pkey,
  ADD CONSTRAINT customers_pkey PRIMARY KEY (company_id, id),
  ADD CONSTRAINT customers_company_fkey FOREIGN KEY (company_id) REFERENCES companies (id),
  ADD CONSTRAINT customers_company_external_id_key UNIQUE (company_id, external_id),
  ADD CONSTRAINT customers_merged_into_fkey FOREIGN KEY (company_id, merged_into_customer_id)
    REFERENCES customers (company_id, id),
  ADD CONSTRAINT customers_status_check CHECK (status IN ('active', 'deleted', 'merged')),
  ADD CONSTRAINT customers_lifecycle_stage_check
    CHECK (lifecycle_stage IN ('prospect', 'lead', 'customer', 'churned')),
  ADD CONSTRAINT customers_source_check CHECK (source IN ('chat', 'manual', 'import', 'api')),
  ADD CONSTRAINT customers_merged_state_check
    CHECK ((status = 'merged') = (merged_into_customer_id IS NOT NULL)),
  ADD CONSTRAINT customers_not_merged_into_self_check CHECK (merged_into_customer_id <> id),
  ADD CONSTRAINT customers_deleted_state_check CHECK ((status = 'active') = (deleted_at IS NULL)),
  ADD CONSTRAINT customers_attributes_check CHECK (jsonb_typeof(attributes) = 'object'),
  ADD CONSTRAINT customers_tags_check CHECK (array_position(tags, NULL) IS NULL),
  ADD CONSTRAINT customers_version_check CHECK (version > 0);

-- Keyset pagination within (company, status), id as tie-breaker; the exact ORDER BY
-- clauses these serve are in docs/database.md ("List pages").
CREATE INDEX customers_list_name_idx ON customers (company_id, status, lower(name), id);
CREATE INDEX customers_list_created_idx ON customers (company_id, status, created_at, id);
CREATE INDEX customers_list_updated_idx ON customers (company_id, status, updated_at, id);
CREATE INDEX customers_merged_into_idx ON customers (company_id, merged_into_customer_id)
  WHERE merged_into_customer_id IS NOT NULL;
-- Search tolerant of partial input and typos (pg_trgm), always within one company.
CREATE INDEX customers_name_trgm_idx ON customers USING gin (company_id, name gin_trgm_ops);
CREATE INDEX customers_email_trgm_idx ON customers USING gin (company_id, lower(email) gin_trgm_ops);
CREATE INDEX customers_phone_trgm_idx ON customers USING gin (company_id, phone_digits(phone) gin_trgm_ops);
CREATE INDEX customers_tags_idx ON customers USING gin (company_id, tags);

-- id/company_id are immutable; created_* are kept; version, updated_at, updated_by
-- and deleted_at are maintained here (status is the source of truth for deleted_at).
CREATE FUNCTION customers_stamp() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path = public, pg_temp
AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    NEW.version := 1;
    NEW.updated_at := now();
    NEW.created_by := coalesce(NEW.created_by, app_actor());
    NEW.updated_by := NEW.created_by;
  ELSE
    IF NEW.id IS DISTINCT FROM OLD.id OR NEW.company_id IS DISTINCT FROM OLD.company_id THEN
      RAISE EXCEPTION 'customers.id and customers.company_id cannot be changed'
        USING ERRCODE = 'check_violation';
    END IF;
    NEW.created_at := OLD.created_at;
    NEW.created_by := OLD.created_by;
    NEW.version := OLD.version + 1;
    NEW.updated_at := now();
    NEW.updated_by := app_actor();
    IF NEW.status = 'active' AND OLD.status <> 'active' THEN
      NEW.deleted_at := NULL;            -- restored / merge undone
    END IF;
  END IF;
  IF NEW.status <> 'active' AND NEW.deleted_at IS NULL THEN
    NEW.deleted_at := now();             -- soft-deleted or merged away
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER trg_customers_stamp
  BEFORE INSERT OR UPDATE ON customers
  FOR EACH ROW EXECUTE FUNCTION customers_stamp();

------------------------------------------------------------------------------
-- "VC Usage": tenant and customer columns (nullable; backfilled by 0003)
------------------------------------------------------------------------------

ALTER TABLE "VC Usage"
  ADD COLUMN company_id  uuid,
  ADD COLUMN customer_id uuid;

-- NOT VALID: checked for new rows at once, validated for old rows by 0003
-- without blocking writers.
ALTER TABLE "VC Usage"
  ADD CONSTRAINT vc_usage_company_fkey FOREIGN KEY (company_id) REFERENCES companies (id) NOT VALID,
  ADD CONSTRAINT vc_usage_customer_fkey FOREIGN KEY (company_id, customer_id)
    REFERENCES customers (company_id, id) ON DELETE SET NULL (customer_id) NOT VALID,
  ADD CONSTRAINT vc_usage_customer_needs_company_check
    CHECK (customer_id IS NULL OR company_id IS NOT NULL) NOT VALID;

-- Legacy writers insert without company_id: derive it from tech_id. The trigger
-- name sorts before trg_vc_usage_customer_sync_insert, so it runs first.
CREATE FUNCTION vc_usage_company_from_tech_id() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
BEGIN
  IF NEW.company_id IS NULL AND NEW.tech_id IS NOT NULL THEN
    NEW.company_id := get_user_company_id(NEW.tech_id);
  END IF;
  RETURN NEW;
END
$$;
REVOKE EXECUTE ON FUNCTION vc_usage_company_from_tech_id() FROM PUBLIC;

CREATE TRIGGER trg_vc_usage_company_from_tech_id
  BEFORE INSERT ON "VC Usage"
  FOR EACH ROW EXECUTE FUNCTION vc_usage_company_from_tech_id();

-- Chat rows whose tech_id matches no user keep company_id NULL (invisible to every
-- tenant) and are listed here until an administrator assigns them.
CREATE TABLE vc_usage_quarantine (
  vc_usage_id         bigint PRIMARY KEY REFERENCES "VC Usage" (id) ON DELETE CASCADE,
  tech_id             text,
  quarantined_at      timestamptz NOT NULL DEFAULT now(),
  resolved_at         timestamptz,
  resolved_company_id uuid REFERENCES companies (id),
  resolved_by         text,
  CONSTRAINT vc_usage_quarantine_resolved_check
    CHECK ((resolved_at IS NULL) = (resolved_company_id IS NULL))
);

CREATE FUNCTION vc_usage_quarantine_insert() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
BEGIN
  INSERT INTO vc_usage_quarantine (vc_usage_id, tech_id)
  VALUES (NEW.id, NEW.tech_id)
  ON CONFLICT (vc_usage_id) DO NOTHING;
  RETURN NULL;
END
$$;
REVOKE EXECUTE ON FUNCTION vc_usage_quarantine_insert() FROM PUBLIC;

CREATE TRIGGER trg_vc_usage_quarantine
  AFTER INSERT ON "VC Usage"
  FOR EACH ROW WHEN (NEW.company_id IS NULL)
  EXECUTE FUNCTION vc_usage_quarantine_insert();
