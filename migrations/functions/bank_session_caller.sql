-- The caller of a bank_auth function that acts for a logged-in user (re-authentication with a
-- password: POST /me/password, POST /me/totp/disable). bank_auth has no tier of its own, so the
-- tier is the live session's role; the user comes from the session named by sid, never from
-- the caller, and must not be disabled.
CREATE OR REPLACE FUNCTION bank_session_caller(p_ctx jsonb) RETURNS bank_caller
LANGUAGE plpgsql STABLE AS $$
DECLARE
  c bank_caller;
  s sessions;
  u users;
BEGIN
  IF session_user::text <> 'bank_auth' THEN
    RAISE EXCEPTION 'bank:FORBIDDEN re-authentication runs as bank_auth' USING ERRCODE = 'insufficient_privilege';
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
  SELECT * INTO u FROM users WHERE id = s.user_id;
  IF u.disabled_at IS NOT NULL OR u.role <> s.role THEN
    RAISE EXCEPTION 'bank:UNAUTHENTICATED no live session' USING ERRCODE = 'insufficient_privilege';
  END IF;
  c.tier := s.role;
  c.actor_id := u.id;
  c.actor := u.username;
  RETURN c;
END
$$;
REVOKE ALL ON FUNCTION bank_session_caller(jsonb) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
