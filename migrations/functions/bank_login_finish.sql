-- POST /auth/login, call 2 (bank_auth only): the verdict of the password comparison that
-- auth-login made with the hash of call 1, then the TOTP code of an enrolled user, judged here.
-- On success it opens the session (8 hours; only the SHA-256 of its id is stored) and returns
-- the id once, for the token's sid claim. The attempt must be one that call 1 reserved in the
-- last minute and nobody judged yet. A missing or wrong code leaves the attempt a failure.
CREATE OR REPLACE FUNCTION bank_login_finish(p_ctx jsonb, p_attempt_id uuid, p_success boolean, p_otp text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller;
  v_attempt login_attempts;
  v_sid text;
  v_totp jsonb;
  s sessions;
  u users;
BEGIN
  IF session_user::text <> 'bank_auth' THEN
    RAISE EXCEPTION 'bank:FORBIDDEN login runs as bank_auth' USING ERRCODE = 'insufficient_privilege';
  END IF;
  UPDATE login_attempts SET succeeded = p_success IS TRUE
   WHERE id = p_attempt_id AND succeeded IS NULL AND created_at > now() - interval '60 seconds'
  RETURNING * INTO v_attempt;
  IF v_attempt.id IS NULL THEN
    RAISE EXCEPTION 'bank:INTERNAL unknown or finished login attempt';
  END IF;
  c := bank_anonymous_caller(p_ctx, v_attempt.username);
  SELECT * INTO u FROM users WHERE username = v_attempt.username AND disabled_at IS NULL;
  IF p_success IS TRUE AND u.id IS NOT NULL THEN
    v_totp := bank_totp_verify(u.id, p_otp);
    IF v_totp ->> 'verdict' NOT IN ('ok', 'not_enrolled') THEN
      UPDATE login_attempts SET succeeded = false WHERE id = v_attempt.id;
      CASE v_totp ->> 'verdict'
        WHEN 'missing' THEN
          RETURN bank_refuse(c, 'auth.login', 401, 'OTP_REQUIRED', 'this user logs in with a TOTP code (otp)', '{}'::jsonb);
        WHEN 'blocked' THEN
          RETURN bank_refuse(c, 'auth.login', 429, 'RATE_LIMITED', 'too many wrong codes; try again later',
                             jsonb_build_object('retryAfter', (v_totp ->> 'retryAfter')::integer),
                             jsonb_build_object('retryAfter', (v_totp ->> 'retryAfter')::integer));
        ELSE
          RETURN bank_refuse(c, 'auth.login', 401, 'UNAUTHENTICATED', 'wrong username, password or code', '{}'::jsonb);
      END CASE;
    END IF;
    v_sid := bank_session_token();
    INSERT INTO sessions (id_hash, user_id, role, expires_at)
    VALUES (bank_session_hash(v_sid), u.id, u.role, now() + interval '8 hours')
    RETURNING * INTO s;
    PERFORM bank_audit(c, 'auth.login', 'success', '{}'::jsonb);
    RETURN jsonb_build_object('status', 200, 'sid', v_sid, 'user', bank_user_json(u),
                              'sessionExpiresAt', bank_ts(s.expires_at));
  END IF;
  IF p_success IS TRUE THEN
    UPDATE login_attempts SET succeeded = false WHERE id = v_attempt.id;
  END IF;
  RETURN bank_refuse(c, 'auth.login', 401, 'UNAUTHENTICATED', 'wrong username or password', '{}'::jsonb);
END
$$;
REVOKE ALL ON FUNCTION bank_login_finish(jsonb, uuid, boolean, text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_login_finish(jsonb, uuid, boolean, text) TO bank_auth;
