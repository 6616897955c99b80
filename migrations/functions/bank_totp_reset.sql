-- POST /users/{userId}/totp/reset (admin, not self): removes the user's authenticator (the user
-- must enrol again), e.g. after a lost phone.
CREATE OR REPLACE FUNCTION bank_totp_reset(p_ctx jsonb, p_user_id uuid, p_reason text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  r record;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['admin']);
  r := bank_user_target(c, p_user_id, 'users.totp.reset', true);
  IF r.refusal IS NOT NULL THEN
    RETURN r.refusal;
  END IF;
  DELETE FROM user_totp WHERE user_id = p_user_id;
  PERFORM bank_audit(c, 'users.totp.reset', 'success',
                     jsonb_build_object('userId', p_user_id, 'username', (r.target).username, 'reason', p_reason));
  RETURN jsonb_build_object('status', 200, 'body', bank_user_json(r.target));
END
$$;
REVOKE ALL ON FUNCTION bank_totp_reset(jsonb, uuid, text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_totp_reset(jsonb, uuid, text) TO bank_admin;
