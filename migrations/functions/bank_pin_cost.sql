-- The bcrypt cost of new PIN hashes; why this value: see bank_pin_hash.sql.
CREATE OR REPLACE FUNCTION bank_pin_cost() RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
  SELECT 4
$$;
REVOKE ALL ON FUNCTION bank_pin_cost() FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
