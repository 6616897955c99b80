-- RFC 4648 base32 (no padding) of a secret whose bit length is a multiple of 5 (the 20-byte
-- TOTP secret: 32 characters), for the authenticator app.
CREATE OR REPLACE FUNCTION bank_base32(p_bytes bytea) RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT AS $$
DECLARE
  v_alphabet constant text := 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  v_bits text := '';
  v_out text := '';
BEGIN
  IF (length(p_bytes) * 8) % 5 <> 0 THEN
    RAISE EXCEPTION 'bank:INTERNAL base32 of % bytes would need padding', length(p_bytes);
  END IF;
  FOR i IN 0 .. length(p_bytes) - 1 LOOP
    v_bits := v_bits || get_byte(p_bytes, i)::bit(8)::text;
  END LOOP;
  FOR i IN 0 .. length(v_bits) / 5 - 1 LOOP
    v_out := v_out || substr(v_alphabet, lpad(substr(v_bits, i * 5 + 1, 5), 32, '0')::bit(32)::integer + 1, 1);
  END LOOP;
  RETURN v_out;
END
$$;
REVOKE ALL ON FUNCTION bank_base32(bytea) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
