CREATE OR REPLACE FUNCTION bank_user_create(p_ctx jsonb, p_username text, p_password_hash text, p_role text, p_otp text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_details jsonb := jsonb_build_object('username', p_username, 'role', p_role);
  v_refusal jsonb;
  u users;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['teller', 'admin']);
  IF c.tier = 'teller' AND p_role <> 'customer' THEN
    RETURN bank_refuse(c, 'users.create', 403, 'FORBIDDEN', 'a teller may create customers only', v_details);
  END IF;
  -- Step-up (API.md v1.1): an admin creating a teller or an admin gives a fresh TOTP code.
  IF c.tier = 'admin' AND p_role IN ('teller', 'admin') THEN
    v_refusal := bank_step_up(c, p_otp, 'users.create', v_details);
    IF v_refusal IS NOT NULL THEN
      RETURN v_refusal;
    END IF;
  END IF;
  INSERT INTO users (username, password_hash, role) VALUES (p_username, p_password_hash, p_role)
  ON CONFLICT (username) DO NOTHING
  RETURNING * INTO u;
  IF u.id IS NULL THEN
    RETURN bank_refuse(c, 'users.create', 409, 'CONFLICT', 'the username is taken', v_details);
  END IF;
  PERFORM bank_audit(c, 'users.create', 'success', v_details || jsonb_build_object('userId', u.id));
  RETURN jsonb_build_object('status', 201, 'body', bank_user_json(u));
END
$$;
REVOKE ALL ON FUNCTION bank_user_create(jsonb, text, text, text, text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_user_create(jsonb, text, text, text, text) TO bank_teller, bank_admin;
