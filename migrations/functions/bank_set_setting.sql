-- Owner only (local start, the deploy-time migration runner): writes a deployment setting
-- from the environment, so the database enforces the value the deployment chose.
CREATE OR REPLACE FUNCTION bank_set_setting(p_name text, p_value_minor bigint) RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
  IF p_name NOT IN ('BANK_STEP_UP_AMOUNT', 'BANK_DAILY_DEBIT_LIMIT', 'BANK_APPROVAL_AMOUNT') THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED unknown setting %', p_name;
  END IF;
  INSERT INTO bank_settings (name, value_minor) VALUES (p_name, p_value_minor)
  ON CONFLICT (name) DO UPDATE SET value_minor = excluded.value_minor, updated_at = now()
  WHERE bank_settings.value_minor <> excluded.value_minor;
END
$$;
REVOKE ALL ON FUNCTION bank_set_setting(text, bigint) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
