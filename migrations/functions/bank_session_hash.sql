-- The stored form of a session id: SHA-256 of its base64url text. NULL for anything that is not
-- a session id (43 base64url characters = 32 random bytes).
CREATE OR REPLACE FUNCTION bank_session_hash(p_sid text) RETURNS bytea
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN p_sid ~ '^[A-Za-z0-9_-]{43}$' THEN sha256(convert_to(p_sid, 'UTF8')) END
$$;
REVOKE ALL ON FUNCTION bank_session_hash(text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
