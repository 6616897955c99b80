-- Decimal text of minor units, always two fraction digits ("12.50"); exact, no floats.
CREATE OR REPLACE FUNCTION bank_fmt(p_minor bigint) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT ((p_minor::numeric) / 100)::numeric(22, 2)::text
$$;
REVOKE ALL ON FUNCTION bank_fmt(bigint) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
