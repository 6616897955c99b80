-- Sets the auditor's password from its secret (migration runner; tests). Owner only, like
-- bank_set_role_password, which admits only the three application roles.
CREATE OR REPLACE FUNCTION bank_set_auditor_password(p_password text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF p_password IS NULL OR length(p_password) < 16 THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED password too short';
  END IF;
  EXECUTE format('ALTER ROLE bank_auditor WITH PASSWORD %L', p_password);
END
$$;
REVOKE ALL ON FUNCTION bank_set_auditor_password(text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
