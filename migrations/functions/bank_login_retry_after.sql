-- The login limits (API.md): the seconds to wait when the username or the source IP has reached
-- its failures within the window, else NULL. Serialises attempts per username and per IP (for
-- the rest of the caller's transaction) so a burst cannot overshoot. Shared by the login and by
-- the re-authentications of a logged-in user (POST /me/password, POST /me/totp/disable), whose
-- wrong passwords count toward the same limits.
CREATE OR REPLACE FUNCTION bank_login_retry_after(p_username text, p_ip text, p_user_max integer,
                                                  p_ip_max integer, p_window_s integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  -- Bounded as the configuration is (shared/config.ts); only bank_auth can pass them.
  v_user_max integer := least(greatest(coalesce(p_user_max, 10), 1), 1000);
  v_ip_max integer := least(greatest(coalesce(p_ip_max, 50), 1), 10000);
  v_window interval := make_interval(secs => least(greatest(coalesce(p_window_s, 900), 1), 86400));
  v_since timestamptz;
  v_failures integer;
  v_oldest timestamptz;
BEGIN
  PERFORM pg_advisory_xact_lock(1, hashtext(p_username));
  PERFORM pg_advisory_xact_lock(2, hashtext(p_ip));
  SELECT max(created_at) INTO v_since FROM login_attempts
   WHERE username = p_username AND succeeded AND created_at > now() - v_window;
  v_since := greatest(coalesce(v_since, '-infinity'::timestamptz), now() - v_window);
  SELECT count(*), min(created_at) INTO v_failures, v_oldest FROM login_attempts
   WHERE username = p_username AND succeeded IS NOT TRUE AND created_at > v_since;
  IF v_failures >= v_user_max THEN
    RETURN greatest(1, ceil(extract(epoch FROM (v_oldest + v_window - now())))::integer);
  END IF;
  SELECT count(*), min(created_at) INTO v_failures, v_oldest FROM login_attempts
   WHERE ip = p_ip AND succeeded IS NOT TRUE AND created_at > now() - v_window;
  IF v_failures >= v_ip_max THEN
    RETURN greatest(1, ceil(extract(epoch FROM (v_oldest + v_window - now())))::integer);
  END IF;
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION bank_login_retry_after(text, text, integer, integer, integer) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
