-- The TOTP verdict for a user's enrolled authenticator: {verdict: ok | not_enrolled | missing |
-- blocked (with retryAfter) | invalid}. Locks the user's TOTP row for the rest of the caller's
-- transaction (see bank_totp_judge).
CREATE OR REPLACE FUNCTION bank_totp_verify(p_user_id uuid, p_otp text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  t user_totp;
BEGIN
  SELECT * INTO t FROM user_totp WHERE user_id = p_user_id FOR UPDATE;
  IF t.user_id IS NULL OR t.confirmed_at IS NULL THEN
    RETURN jsonb_build_object('verdict', 'not_enrolled');
  END IF;
  IF t.blocked_until > now() THEN
    RETURN jsonb_build_object('verdict', 'blocked',
                              'retryAfter', greatest(1, ceil(extract(epoch FROM (t.blocked_until - now())))::integer));
  END IF;
  IF p_otp IS NULL THEN
    RETURN jsonb_build_object('verdict', 'missing');
  END IF;
  RETURN jsonb_build_object('verdict', bank_totp_judge(t, p_otp));
END
$$;
REVOKE ALL ON FUNCTION bank_totp_verify(uuid, text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
