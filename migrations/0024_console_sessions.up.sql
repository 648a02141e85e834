-- 0024 Operator console sign-in (issue 17). `tradesphere console-link` stores a
-- one-time sign-in code (only its SHA-256) valid for 10 minutes; the browser
-- exchanges it once for a server-side session whose id travels in a signed,
-- HttpOnly cookie. Signing out (or an operator) sets revoked_at; every console
-- request checks the session row, so a revoked session stops at once.

CREATE TABLE console_sign_in_codes (
  code_hash  text PRIMARY KEY CHECK (code_hash ~ '^[0-9a-f]{64}$'),
  company_id uuid NOT NULL REFERENCES companies (id),
  user_id    text NOT NULL CHECK (length(user_id) BETWEEN 1 AND 200),
  role       text NOT NULL CHECK (role IN ('viewer', 'agent', 'admin')),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  used_at    timestamptz,
  CONSTRAINT console_sign_in_codes_expiry_check CHECK (expires_at > created_at)
);
CREATE INDEX console_sign_in_codes_company_idx ON console_sign_in_codes (company_id, created_at);

CREATE TABLE console_sessions (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  company_id uuid NOT NULL REFERENCES companies (id),
  user_id    text NOT NULL CHECK (length(user_id) BETWEEN 1 AND 200),
  role       text NOT NULL CHECK (role IN ('viewer', 'agent', 'admin')),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked_at timestamptz,
  CONSTRAINT console_sessions_expiry_check CHECK (expires_at > created_at)
);
CREATE INDEX console_sessions_company_idx ON console_sessions (company_id, created_at);

ALTER TABLE console_sign_in_codes ENABLE ROW LEVEL SECURITY;
ALTER TABLE console_sign_in_codes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON console_sign_in_codes
  USING (company_id = (SELECT app_current_company())) WITH CHECK (company_id = (SELECT app_current_company()));
CREATE POLICY owner_maintenance ON console_sign_in_codes TO tradesphere_owner
  USING (session_user = 'tradesphere_owner') WITH CHECK (session_user = 'tradesphere_owner');
-- console_redeem_sign_in_code() (SECURITY DEFINER, owner) finds a code before the tenant is known.
CREATE POLICY definer_redeem_select ON console_sign_in_codes FOR SELECT TO tradesphere_owner USING (true);
CREATE POLICY definer_redeem_update ON console_sign_in_codes FOR UPDATE TO tradesphere_owner
  USING (true) WITH CHECK (true);

ALTER TABLE console_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE console_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON console_sessions
  USING (company_id = (SELECT app_current_company())) WITH CHECK (company_id = (SELECT app_current_company()));
CREATE POLICY owner_maintenance ON console_sessions TO tradesphere_owner
  USING (session_user = 'tradesphere_owner') WITH CHECK (session_user = 'tradesphere_owner');
CREATE POLICY definer_redeem_select ON console_sessions FOR SELECT TO tradesphere_owner USING (true);
CREATE POLICY definer_redeem_insert ON console_sessions FOR INSERT TO tradesphere_owner WITH CHECK (true);

-- Marks the code used (once, before it expires) and opens a session for its user;
-- no row when the code is unknown, used or expired (the caller cannot tell which).
CREATE FUNCTION console_redeem_sign_in_code(p_code_hash text, p_session_seconds integer)
  RETURNS TABLE (session_id uuid, company_id uuid, user_id text, role text, expires_at timestamptz)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = public, pg_temp
AS $$
#variable_conflict use_column
DECLARE
  c console_sign_in_codes%ROWTYPE;
BEGIN
  IF p_session_seconds IS NULL OR p_session_seconds < 1 OR p_session_seconds > 86400 THEN
    RAISE EXCEPTION 'session lifetime out of range' USING ERRCODE = '22023';
  END IF;
  UPDATE console_sign_in_codes AS k SET used_at = now()
   WHERE k.code_hash = p_code_hash AND k.used_at IS NULL AND k.expires_at > now()
  RETURNING k.* INTO c;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  RETURN QUERY
    INSERT INTO console_sessions AS s (company_id, user_id, role, expires_at)
    VALUES (c.company_id, c.user_id, c.role, now() + make_interval(secs => p_session_seconds))
    RETURNING s.id, s.company_id, s.user_id, s.role, s.expires_at;
END
$$;
REVOKE EXECUTE ON FUNCTION console_redeem_sign_in_code(text, integer) FROM PUBLIC;

GRANT SELECT, INSERT ON console_sign_in_codes TO tradesphere_app;
GRANT SELECT ON console_sessions TO tradesphere_app;
GRANT UPDATE (revoked_at) ON console_sessions TO tradesphere_app;
GRANT EXECUTE ON FUNCTION console_redeem_sign_in_code(text, integer) TO tradesphere_app;
