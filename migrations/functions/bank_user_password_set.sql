-- POST /users/{userId}/password (teller: customers only; admin: any user): a new password hash
-- (bcrypt, made by the function); every session of that user ends.
CREATE OR REPLACE FUNCTION bank_user_password_set(p_ctx jsonb, p_user_id uuid, p_new_hash text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  r record;
  v_ended integer;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['teller', 'admin']);
  IF p_new_hash IS NULL OR p_new_hash !~ '^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$' THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED not a bcrypt hash';
  END IF;
  r := bank_user_target(c, p_user_id, 'users.password', false);
  IF r.refusal IS NOT NULL THEN
    RETURN r.refusal;
  END IF;
  UPDATE users SET password_hash = p_new_hash WHERE id = p_user_id;
  UPDATE sessions SET ended_at = now() WHERE user_id = p_user_id AND ended_at IS NULL;
  GET DIAGNOSTICS v_ended = ROW_COUNT;
  PERFORM bank_audit(c, 'users.password', 'success',
                     jsonb_build_object('userId', p_user_id, 'username', (r.target).username, 'sessionsEnded', v_ended));
  RETURN jsonb_build_object('status', 204);
END
$$;
REVOKE ALL ON FUNCTION bank_user_password_set(jsonb, uuid, text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_user_password_set(jsonb, uuid, text) TO bank_teller, bank_admin;
