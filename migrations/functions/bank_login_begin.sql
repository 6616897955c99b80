-- POST /auth/login, call 1 (bank_auth only): the rate limits (per username and per source IP,
-- here so they hold across Lambda instances), the attempt reserved (counted as a failure until
-- judged), and the password hash to compare. Only bank_auth, held by the login function alone,
-- can read a password hash: bcrypt runs in that function, where it scales out, not on the writer.
CREATE OR REPLACE FUNCTION bank_login_begin(p_ctx jsonb, p_username text, p_user_failures_max integer,
                                            p_ip_failures_max integer, p_window_s integer) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_anonymous_caller(p_ctx, p_username);
  -- Bounded as the configuration is (shared/config.ts); only bank_auth can pass them.
  v_user_max integer := least(greatest(coalesce(p_user_failures_max, 10), 1), 1000);
  v_ip_max integer := least(greatest(coalesce(p_ip_failures_max, 50), 1), 10000);
  v_window interval := make_interval(secs => least(greatest(coalesce(p_window_s, 900), 1), 86400));
  v_ip text := coalesce(c.ip, 'unknown');
  v_since timestamptz;
  v_user_failures integer;
  v_ip_failures integer;
  v_oldest timestamptz;
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
  -- Serialise attempts per username and per IP so a burst cannot overshoot the limits.
  PERFORM pg_advisory_xact_lock(1, hashtext(p_username));
  PERFORM pg_advisory_xact_lock(2, hashtext(v_ip));
  SELECT max(created_at) INTO v_since FROM login_attempts
   WHERE username = p_username AND succeeded AND created_at > now() - v_window;
  v_since := greatest(coalesce(v_since, '-infinity'::timestamptz), now() - v_window);
  SELECT count(*), min(created_at) INTO v_user_failures, v_oldest FROM login_attempts
   WHERE username = p_username AND succeeded IS NOT TRUE AND created_at > v_since;
  IF v_user_failures >= v_user_max THEN
    v_retry := greatest(1, ceil(extract(epoch FROM (v_oldest + v_window - now())))::integer);
  ELSE
    SELECT count(*), min(created_at) INTO v_ip_failures, v_oldest FROM login_attempts
     WHERE ip = v_ip AND succeeded IS NOT TRUE AND created_at > now() - v_window;
    IF v_ip_failures >= v_ip_max THEN
      v_retry := greatest(1, ceil(extract(epoch FROM (v_oldest + v_window - now())))::integer);
    END IF;
  END IF;
  IF v_retry IS NOT NULL THEN
    RETURN bank_refuse(c, 'auth.login', 429, 'RATE_LIMITED', 'too many failed logins; try again later',
                       jsonb_build_object('retryAfter', v_retry), jsonb_build_object('retryAfter', v_retry));
  END IF;
  INSERT INTO login_attempts (username, ip) VALUES (p_username, v_ip) RETURNING id INTO v_attempt;
  SELECT * INTO u FROM users WHERE username = p_username;
  RETURN jsonb_build_object('status', 100, 'attemptId', v_attempt, 'userExists', u.id IS NOT NULL,
                            'passwordHash', u.password_hash);
END
$$;
REVOKE ALL ON FUNCTION bank_login_begin(jsonb, text, integer, integer, integer) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_login_begin(jsonb, text, integer, integer, integer) TO bank_auth;
