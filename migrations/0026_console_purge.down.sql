-- Console sign-ins are kept forever again (0024).
DROP FUNCTION console_purge_ended(integer);
DROP POLICY definer_purge_delete ON console_sessions;
DROP POLICY definer_purge_delete ON console_sign_in_codes;
