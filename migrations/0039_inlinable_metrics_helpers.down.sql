-- Back to 0038: the bodies of 0007 and 0020 (not inlinable).
CREATE OR REPLACE FUNCTION conversation_key(p_session_id text, p_id bigint) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE WHEN p_session_id IS NULL OR p_session_id = '' THEN 'row:' || p_id ELSE p_session_id END $$;

CREATE OR REPLACE FUNCTION metrics_is_later(new_at timestamptz, new_id bigint, old_at timestamptz, old_id bigint)
  RETURNS boolean
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  SET search_path = public, pg_temp
AS $$
  SELECT old_id IS NULL OR CASE
    WHEN new_at IS NULL AND old_at IS NULL THEN new_id > old_id
    WHEN new_at IS NULL THEN false
    WHEN old_at IS NULL THEN true
    WHEN new_at <> old_at THEN new_at > old_at
    ELSE new_id > old_id
  END
$$;
