-- A deployment setting in minor units (bank_settings), or its API.md default.
CREATE OR REPLACE FUNCTION bank_setting(p_name text) RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT coalesce((SELECT value_minor FROM bank_settings WHERE name = p_name),
                  CASE p_name
                    WHEN 'BANK_STEP_UP_AMOUNT' THEN 100000
                    WHEN 'BANK_DAILY_DEBIT_LIMIT' THEN 500000
                    WHEN 'BANK_APPROVAL_AMOUNT' THEN 5000000
                  END)
$$;
REVOKE ALL ON FUNCTION bank_setting(text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
