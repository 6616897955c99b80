-- Sets an application role's password from its secret (migration runner, local bootstrap).
-- Only the migrating (owner) role may call it; the role name is checked against the allow-list.
CREATE OR REPLACE FUNCTION bank_set_role_password(p_role text, p_password text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF p_role NOT IN ('bank_customer', 'bank_teller', 'bank_admin', 'bank_auth') THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED role % is not an application role', p_role;
  END IF;
  IF p_password IS NULL OR length(p_password) < 16 THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED password too short';
  END IF;
  EXECUTE format('ALTER ROLE %I WITH PASSWORD %L', p_role, p_password);
END
$$;
REVOKE ALL ON FUNCTION bank_set_role_password(text, text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
