-- POST /auth/login, call 1 (bank_auth only): the rate limits (per username and per source IP,
-- here so they hold across Lambda instances), the attempt reserved (counted as a failure until
-- judged), and the password hash to compare. Only bank_auth, held by the functions that check
-- a password, can read a password hash: bcrypt runs in that function, where it scales out, not
-- on the writer.
CREATE OR REPLACE FUNCTION bank_login_begin(p_ctx jsonb, p_username text, p_user_failures_max integer,
                                            p_ip_failures_max integer, p_window_s integer) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_anonymous_caller(p_ctx, p_username);
  v_ip text := coalesce(c.ip, 'unknown');
  v_retry integer;
  v_attempt uuid;
  u users;
BEGIN
  IF session_user::text <> 'bank_auth' THEN
    RAISE EXCEPTION 'bank:FORBIDDEN login runs as bank_auth' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF p_username IS NULL OR length(p_username) > 256 THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED bad username';
  END IF;
  v_retry := bank_login_retry_after(p_username, v_ip, p_user_failures_max, p_ip_failures_max, p_window_s);
  IF v_retry IS NOT NULL THEN
    RETURN bank_refuse(c, 'auth.login', 429, 'RATE_LIMITED', 'too many failed logins; try again later',
                       jsonb_build_object('retryAfter', v_retry), jsonb_build_object('retryAfter', v_retry));
  END IF;
  INSERT INTO login_attempts (username, ip) VALUES (p_username, v_ip) RETURNING id INTO v_attempt;
  -- A disabled user looks exactly like an unknown one: no hash, so the login function burns the
  -- same bcrypt comparison as for an unknown username, and call 2 answers the same 401.
  SELECT * INTO u FROM users WHERE username = p_username AND disabled_at IS NULL;
  RETURN jsonb_build_object('status', 100, 'attemptId', v_attempt, 'userExists', u.id IS NOT NULL,
                            'passwordHash', u.password_hash);
END
$$;
REVOKE ALL ON FUNCTION bank_login_begin(jsonb, text, integer, integer, integer) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_login_begin(jsonb, text, integer, integer, integer) TO bank_auth;
