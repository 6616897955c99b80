-- Records the verdict of a re-authentication attempt reserved by bank_reauth_begin for this
-- session's user in the last minute; NULL when the password was right, else the 401 (audited;
-- the attempt stays a failure and counts toward the login limits).
CREATE OR REPLACE FUNCTION bank_reauth_judge(c bank_caller, p_attempt_id uuid, p_success boolean, p_action text)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_id uuid;
BEGIN
  UPDATE login_attempts SET succeeded = p_success IS TRUE
   WHERE id = p_attempt_id AND username = c.actor AND succeeded IS NULL AND created_at > now() - interval '60 seconds'
  RETURNING id INTO v_id;
  IF v_id IS NULL THEN
    RAISE EXCEPTION 'bank:INTERNAL unknown or finished re-authentication attempt';
  END IF;
  IF p_success IS NOT TRUE THEN
    RETURN bank_refuse(c, p_action, 401, 'UNAUTHENTICATED', 'the password is wrong', '{}'::jsonb);
  END IF;
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION bank_reauth_judge(bank_caller, uuid, boolean, text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
