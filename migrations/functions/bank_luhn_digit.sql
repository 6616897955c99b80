-- Luhn check digit for a string of digits (the account number without its last digit).
CREATE OR REPLACE FUNCTION bank_luhn_digit(p_payload text) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT ((10 - (sum(
           CASE WHEN (length(p_payload) - i) % 2 = 0
                THEN CASE WHEN d * 2 > 9 THEN d * 2 - 9 ELSE d * 2 END
                ELSE d END) % 10)) % 10)::integer
  FROM (SELECT i, substr(p_payload, i, 1)::integer AS d FROM generate_series(1, length(p_payload)) AS i) AS digits
$$;
REVOKE ALL ON FUNCTION bank_luhn_digit(text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
