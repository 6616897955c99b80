-- Application login roles. Each sits behind its own Secrets Manager secret; the Lambda picks the
-- secret by the caller's token role, so the database itself refuses what that tier may not do.
-- Passwords are set outside SQL (bank_set_role_password), never in a migration file.
DO $$
DECLARE
  r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['bank_customer', 'bank_teller', 'bank_admin'] LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT CONNECTION LIMIT 200', r);
    END IF;
  END LOOP;
END
$$;

-- Functions are executable by PUBLIC by default; nothing in this schema should be.
ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO bank_customer, bank_teller, bank_admin;

-- Sets an application role's password from its secret (migration runner, local bootstrap).
-- Only the migrating (owner) role may call it; the role name is checked against the allow-list.
CREATE FUNCTION bank_set_role_password(p_role text, p_password text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF p_role NOT IN ('bank_customer', 'bank_teller', 'bank_admin') THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED role % is not an application role', p_role;
  END IF;
  IF p_password IS NULL OR length(p_password) < 16 THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED password too short';
  END IF;
  EXECUTE format('ALTER ROLE %I WITH PASSWORD %L', p_role, p_password);
END
$$;
REVOKE EXECUTE ON FUNCTION bank_set_role_password(text, text) FROM PUBLIC;
