-- A new PIN hash: bcrypt in $2a$ form (the only one pgcrypto's crypt() verifies).
-- Cost 4, bcrypt's least (~1 ms of writer CPU here; ~3.7 ms at 6, ~68 ms at 10), because:
-- - the comparison runs on the Aurora writer, inside the movement's transaction and under the
--   account's row lock, once per customer movement: cost multiplies writer CPU and how long the
--   hot row stays locked;
-- - a PIN is one of at most 10^6 values: any bcrypt cost falls to an offline search in hours
--   once the hash is readable (10^6 guesses: ~17 min at cost 4, ~19 h at cost 10, on one core),
--   so cost buys nothing that matters. What protects a PIN is that its hash never
--   leaves the database (no application role can read it) and that MAX_PIN_ATTEMPTS wrong
--   tries lock the account, judged one at a time under the row lock.
-- Older hashes of other costs keep working: crypt() reads the cost from the hash, and
-- bank_pin_verify rehashes at this cost after a correct PIN.
CREATE OR REPLACE FUNCTION bank_pin_hash(p_pin text) RETURNS text
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF p_pin IS NULL OR p_pin !~ '^[0-9]{4,6}$' THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED a PIN is 4 to 6 digits';
  END IF;
  RETURN crypt(p_pin, gen_salt('bf', bank_pin_cost()));
END
$$;
REVOKE ALL ON FUNCTION bank_pin_hash(text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
