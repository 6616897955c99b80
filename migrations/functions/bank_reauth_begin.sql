-- POST /me/password and POST /me/totp/disable, call 1 (bank_auth only): a logged-in user gives
-- their password again. As at login: the login limits of the session's username and source IP,
-- the attempt reserved (a failure until judged), and the hash for the function to compare.
CREATE OR REPLACE FUNCTION bank_reauth_begin(p_ctx jsonb, p_action text, p_user_failures_max integer,
                                             p_ip_failures_max integer, p_window_s integer) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_session_caller(p_ctx);
  v_ip text := coalesce(c.ip, 'unknown');
  v_retry integer;
  v_attempt uuid;
BEGIN
  IF p_action IS NULL OR p_action NOT IN ('me.password', 'me.totp.disable') THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED unknown re-authentication';
  END IF;
  v_retry := bank_login_retry_after(c.actor, v_ip, p_user_failures_max, p_ip_failures_max, p_window_s);
  IF v_retry IS NOT NULL THEN
    RETURN bank_refuse(c, p_action, 429, 'RATE_LIMITED', 'too many failed password checks; try again later',
                       jsonb_build_object('retryAfter', v_retry), jsonb_build_object('retryAfter', v_retry));
  END IF;
  INSERT INTO login_attempts (username, ip) VALUES (c.actor, v_ip) RETURNING id INTO v_attempt;
  RETURN jsonb_build_object('status', 100, 'attemptId', v_attempt,
                            'passwordHash', (SELECT password_hash FROM users WHERE id = c.actor_id));
END
$$;
REVOKE ALL ON FUNCTION bank_reauth_begin(jsonb, text, integer, integer, integer) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_reauth_begin(jsonb, text, integer, integer, integer) TO bank_auth;
