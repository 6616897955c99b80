-- Bootstrap of the first admin (local start, `npm run admin:create`): owner role only.
CREATE OR REPLACE FUNCTION bank_create_user(p_username text, p_password_hash text, p_role text) RETURNS boolean
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  v_id uuid;
BEGIN
  INSERT INTO users (username, password_hash, role) VALUES (p_username, p_password_hash, p_role)
  ON CONFLICT (username) DO NOTHING
  RETURNING id INTO v_id;
  IF v_id IS NOT NULL THEN
    INSERT INTO audit_logs (actor, action, outcome, details)
    VALUES ('system', 'users.bootstrap', 'success', jsonb_build_object('username', p_username, 'role', p_role, 'userId', v_id));
  END IF;
  RETURN v_id IS NOT NULL;
END
$$;
REVOKE ALL ON FUNCTION bank_create_user(text, text, text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
