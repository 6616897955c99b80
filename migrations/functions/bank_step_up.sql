-- Step-up (API.md v1.1): a high-risk operation of the session's user needs a fresh TOTP code,
-- judged here inside the operation's own transaction, never a verdict from the caller. NULL
-- when the code is accepted; otherwise the refusal (audited, returned so counters commit).
CREATE OR REPLACE FUNCTION bank_step_up(c bank_caller, p_otp text, p_action text, p_details jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v jsonb := bank_totp_verify(c.actor_id, p_otp);
BEGIN
  CASE v ->> 'verdict'
    WHEN 'ok' THEN
      RETURN NULL;
    WHEN 'not_enrolled' THEN
      RETURN bank_refuse(c, p_action, 403, 'STEP_UP_REQUIRED',
                         'this operation needs a TOTP code: enrol an authenticator first (POST /me/totp)',
                         p_details || jsonb_build_object('enrolmentRequired', true),
                         jsonb_build_object('enrolmentRequired', true));
    WHEN 'missing' THEN
      RETURN bank_refuse(c, p_action, 403, 'STEP_UP_REQUIRED', 'this operation needs a fresh TOTP code (otp)', p_details);
    WHEN 'blocked' THEN
      RETURN bank_refuse(c, p_action, 429, 'RATE_LIMITED', 'too many wrong codes; try again later',
                         p_details || jsonb_build_object('retryAfter', (v ->> 'retryAfter')::integer),
                         jsonb_build_object('retryAfter', (v ->> 'retryAfter')::integer));
    ELSE
      RETURN bank_refuse(c, p_action, 403, 'INVALID_OTP', 'the code is wrong or was already used', p_details);
  END CASE;
END
$$;
REVOKE ALL ON FUNCTION bank_step_up(bank_caller, text, text, jsonb) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
