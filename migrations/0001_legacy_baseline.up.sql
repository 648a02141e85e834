-- 0001 legacy baseline: exactly the tables a pre-refactoring deployment already has.
-- New databases are created through this shape too, so one migration chain serves
-- both a fresh install and an upgraded legacy database (`tradesphere migrate adopt`
-- records this version as applied on a live legacy database instead of running it).

CREATE TABLE companies (
  id   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug text NOT NULL UNIQUE,
  name text NOT NULL
);

CREATE TABLE app_users (
  tech_id    text PRIMARY KEY,
  company_id uuid NOT NULL REFERENCES companies (id),
  role       text NOT NULL DEFAULT 'agent'
);

CREATE TABLE "VC Usage" (
  id             bigserial PRIMARY KEY,
  session_id     text,
  tech_id        text,
  customer_name  text,
  customer_email text,
  customer_phone text,
  user_message   text,
  ai_response    text,
  created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customers (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  company_id uuid,
  name       text,
  email      text,
  phone      text,
  created_at timestamptz NOT NULL DEFAULT now()
);
