-- POST /me/password, call 2 (bank_auth only, like the login verdict): the current password's
-- verdict, then the step-up code (judged here, in this transaction), then the new hash; every
-- other session of the user ends, this one stays.
CREATE OR REPLACE FUNCTION bank_password_change(p_ctx jsonb, p_attempt_id uuid, p_current_ok boolean,
                                                p_new_hash text, p_otp text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_session_caller(p_ctx);
  v_refusal jsonb;
  v_ended integer;
BEGIN
  v_refusal := bank_reauth_judge(c, p_attempt_id, p_current_ok, 'me.password');
  IF v_refusal IS NOT NULL THEN
    RETURN v_refusal;
  END IF;
  v_refusal := bank_step_up(c, p_otp, 'me.password', '{}'::jsonb);
  IF v_refusal IS NOT NULL THEN
    RETURN v_refusal;
  END IF;
  IF p_new_hash IS NULL OR p_new_hash !~ '^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$' THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED not a bcrypt hash';
  END IF;
  UPDATE users SET password_hash = p_new_hash WHERE id = c.actor_id;
  UPDATE sessions SET ended_at = now()
   WHERE user_id = c.actor_id AND ended_at IS NULL AND id_hash <> c.session_hash;
  GET DIAGNOSTICS v_ended = ROW_COUNT;
  PERFORM bank_audit(c, 'me.password', 'success', jsonb_build_object('sessionsEnded', v_ended));
  RETURN jsonb_build_object('status', 204);
END
$$;
REVOKE ALL ON FUNCTION bank_password_change(jsonb, uuid, boolean, text, text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_password_change(jsonb, uuid, boolean, text, text) TO bank_auth;
