-- HOTP (RFC 4226) with HMAC-SHA-1 and 6 digits: the value for one counter (for TOTP, the
-- 30-second time step). Computed here with pgcrypto so that the secret never leaves the
-- database; the tests cross-check it against the otpauth library and the RFC 6238 vectors.
CREATE OR REPLACE FUNCTION bank_hotp(p_key bytea, p_counter bigint) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT SET search_path = public, pg_temp AS $$
DECLARE
  h bytea := hmac(int8send(p_counter), p_key, 'sha1');
  o integer := get_byte(h, 19) & 15;
  v bigint;
BEGIN
  v := ((get_byte(h, o) & 127)::bigint << 24) | (get_byte(h, o + 1)::bigint << 16)
     | (get_byte(h, o + 2)::bigint << 8) | get_byte(h, o + 3)::bigint;
  RETURN lpad((v % 1000000)::text, 6, '0');
END
$$;
REVOKE ALL ON FUNCTION bank_hotp(bytea, bigint) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
