DROP FUNCTION console_redeem_sign_in_code(text, integer);
DROP TABLE console_sessions;
DROP TABLE console_sign_in_codes;
