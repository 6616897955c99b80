-- Resolves the request context {sid, requestId, ip, userAgent} to the caller. The acting user
-- and role come from the session row named by sid, never from the caller: the session must be
-- live (not ended, not expired) and its role must be the tier of session_user (a customer's
-- session used with the teller password is refused). ip, user agent and request id are what
-- the API layer saw; they are recorded, never trusted for a decision.
CREATE OR REPLACE FUNCTION bank_caller(p_ctx jsonb) RETURNS bank_caller
LANGUAGE plpgsql STABLE AS $$
DECLARE
  c bank_caller;
  v_user_id uuid;
  v_session_role text;
  v_user_role text;
  v_live boolean;
  v_disabled boolean;
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
  -- One index lookup on every call (session and user together): this runs before every operation.
  SELECT s.user_id, s.role, u.username, u.role, s.ended_at IS NULL AND s.expires_at > now(),
         u.disabled_at IS NOT NULL
    INTO v_user_id, v_session_role, c.actor, v_user_role, v_live, v_disabled
    FROM sessions s JOIN users u ON u.id = s.user_id
   WHERE s.id_hash = c.session_hash;
  IF v_live IS NOT TRUE THEN
    RAISE EXCEPTION 'bank:UNAUTHENTICATED no live session' USING ERRCODE = 'insufficient_privilege';
  END IF;
  -- Disabling ends every session in the same transaction; this holds even for a session row a
  -- concurrent disable has not reached yet.
  IF v_disabled THEN
    RAISE EXCEPTION 'bank:UNAUTHENTICATED the user is disabled' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF v_session_role <> c.tier OR v_user_role <> c.tier THEN
    RAISE EXCEPTION 'bank:UNAUTHENTICATED the session is not of this tier' USING ERRCODE = 'insufficient_privilege';
  END IF;
  c.actor_id := v_user_id;
  RETURN c;
END
$$;
REVOKE ALL ON FUNCTION bank_caller(jsonb) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
