-- POST /me/totp/disable, call 2 (bank_auth only): the password's verdict, then a current code
-- of the enrolled authenticator, judged here; then the authenticator is removed.
CREATE OR REPLACE FUNCTION bank_totp_disable(p_ctx jsonb, p_attempt_id uuid, p_password_ok boolean, p_otp text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_session_caller(p_ctx);
  v_refusal jsonb;
  u users;
BEGIN
  v_refusal := bank_reauth_judge(c, p_attempt_id, p_password_ok, 'me.totp.disable');
  IF v_refusal IS NOT NULL THEN
    RETURN v_refusal;
  END IF;
  v_refusal := bank_step_up(c, p_otp, 'me.totp.disable', '{}'::jsonb);
  IF v_refusal IS NOT NULL THEN
    RETURN v_refusal;
  END IF;
  DELETE FROM user_totp WHERE user_id = c.actor_id;
  SELECT * INTO u FROM users WHERE id = c.actor_id;
  PERFORM bank_audit(c, 'me.totp.disable', 'success', '{}'::jsonb);
  RETURN jsonb_build_object('status', 200, 'body', bank_user_json(u));
END
$$;
REVOKE ALL ON FUNCTION bank_totp_disable(jsonb, uuid, boolean, text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_totp_disable(jsonb, uuid, boolean, text) TO bank_auth;
