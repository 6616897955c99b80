-- A new session id: 32 random bytes, base64url without padding (43 characters).
CREATE OR REPLACE FUNCTION bank_session_token() RETURNS text
LANGUAGE sql VOLATILE AS $$
  SELECT translate(rtrim(encode(gen_random_bytes(32), 'base64'), '='), '+/', '-_')
$$;
REVOKE ALL ON FUNCTION bank_session_token() FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
