-- Resolves the request context {sid, requestId, ip, userAgent} to the caller. The acting user
-- and role come from the session row named by sid, never from the caller: the session must be
-- live (not ended, not expired) and its role must be the tier of session_user (a customer's
-- session used with the teller password is refused). ip, user agent and request id are what
-- the API layer saw; they are recorded, never trusted for a decision.
CREATE OR REPLACE FUNCTION bank_caller(p_ctx jsonb) RETURNS bank_caller
LANGUAGE plpgsql STABLE AS $$
DECLARE
  c bank_caller;
  s sessions;
  v_username text;
  v_user_role text;
  v_disabled_at timestamptz;
BEGIN
  c.tier := bank_tier();
  IF c.tier IS NULL THEN
    RAISE EXCEPTION 'bank:FORBIDDEN session role % is not an application role', session_user
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  c.request_id := left(p_ctx ->> 'requestId', 100);
  c.ip := left(p_ctx ->> 'ip', 64);
  c.user_agent := left(p_ctx ->> 'userAgent', 300);
  c.session_hash := bank_session_hash(p_ctx ->> 'sid');
  IF c.session_hash IS NOT NULL THEN
    SELECT * INTO s FROM sessions WHERE id_hash = c.session_hash;
  END IF;
  IF s.id_hash IS NULL OR s.ended_at IS NOT NULL OR s.expires_at <= now() THEN
    RAISE EXCEPTION 'bank:UNAUTHENTICATED no live session' USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT u.username, u.role, u.disabled_at INTO v_username, v_user_role, v_disabled_at FROM users u WHERE u.id = s.user_id;
  -- Disabling ends every session in the same transaction; this holds even for a session row a
  -- concurrent disable has not reached yet.
  IF v_disabled_at IS NOT NULL THEN
    RAISE EXCEPTION 'bank:UNAUTHENTICATED the user is disabled' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF s.role <> c.tier OR v_user_role IS DISTINCT FROM c.tier THEN
    RAISE EXCEPTION 'bank:UNAUTHENTICATED the session is not of this tier' USING ERRCODE = 'insufficient_privilege';
  END IF;
  c.actor_id := s.user_id;
  c.actor := v_username;
  RETURN c;
END
$$;
REVOKE ALL ON FUNCTION bank_caller(jsonb) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
