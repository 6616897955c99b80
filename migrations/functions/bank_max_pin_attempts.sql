-- MAX_PIN_ATTEMPTS (API.md): consecutive wrong PINs after which an account locks itself. It
-- lives here, not in a parameter, so that no caller can raise its own allowance.
CREATE OR REPLACE FUNCTION bank_max_pin_attempts() RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
  SELECT 3
$$;
REVOKE ALL ON FUNCTION bank_max_pin_attempts() FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
