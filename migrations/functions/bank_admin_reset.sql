-- Offline recovery (`npm run admin:reset`, locally or against the stack): owner role only. Sets
-- a user's password hash (made by the script with the API's bcrypt rules), enables the user and
-- ends every session of theirs. Returns false when there is no such user.
CREATE OR REPLACE FUNCTION bank_admin_reset(p_username text, p_password_hash text) RETURNS boolean
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  u users;
  v_ended integer;
BEGIN
  IF p_password_hash IS NULL OR p_password_hash !~ '^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$' THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED not a bcrypt hash';
  END IF;
  UPDATE users SET password_hash = p_password_hash, disabled_at = NULL, disabled_reason = NULL
   WHERE username = p_username RETURNING * INTO u;
  IF u.id IS NULL THEN
    RETURN false;
  END IF;
  UPDATE sessions SET ended_at = now() WHERE user_id = u.id AND ended_at IS NULL;
  GET DIAGNOSTICS v_ended = ROW_COUNT;
  INSERT INTO audit_logs (actor, action, outcome, details)
  VALUES ('system', 'users.passwordReset', 'success',
          jsonb_build_object('username', u.username, 'userId', u.id, 'sessionsEnded', v_ended));
  RETURN true;
END
$$;
REVOKE ALL ON FUNCTION bank_admin_reset(text, text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
