-- POST /me/totp/confirm: the first code from the authenticator proves it holds the pending
-- secret; from now on login and step-up need codes. Wrong codes count as everywhere else.
CREATE OR REPLACE FUNCTION bank_totp_confirm(p_ctx jsonb, p_otp text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_retry integer;
  t user_totp;
  u users;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['customer', 'teller', 'admin']);
  SELECT * INTO t FROM user_totp WHERE user_id = c.actor_id FOR UPDATE;
  IF t.user_id IS NULL OR t.confirmed_at IS NOT NULL THEN
    RETURN bank_refuse(c, 'me.totp.confirm', 409, 'CONFLICT', 'no pending enrolment (POST /me/totp first)', '{}'::jsonb);
  END IF;
  IF t.blocked_until > now() THEN
    v_retry := greatest(1, ceil(extract(epoch FROM (t.blocked_until - now())))::integer);
    RETURN bank_refuse(c, 'me.totp.confirm', 429, 'RATE_LIMITED', 'too many wrong codes; try again later',
                       jsonb_build_object('retryAfter', v_retry), jsonb_build_object('retryAfter', v_retry));
  END IF;
  IF bank_totp_judge(t, p_otp) <> 'ok' THEN
    RETURN bank_refuse(c, 'me.totp.confirm', 403, 'INVALID_OTP', 'the code is wrong or was already used', '{}'::jsonb);
  END IF;
  UPDATE user_totp SET confirmed_at = now() WHERE user_id = c.actor_id;
  SELECT * INTO u FROM users WHERE id = c.actor_id;
  PERFORM bank_audit(c, 'me.totp.confirm', 'success', '{}'::jsonb);
  RETURN jsonb_build_object('status', 200, 'body', bank_user_json(u));
END
$$;
REVOKE ALL ON FUNCTION bank_totp_confirm(jsonb, text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_totp_confirm(jsonb, text) TO bank_customer, bank_teller, bank_admin;
