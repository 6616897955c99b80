-- POST /users/{userId}/disable (admin, not self): every session of the user ends in this
-- transaction and bank_caller refuses a disabled user's sessions, so a request that starts after
-- this commits is refused; one already past its bank_caller completes as if it came first.
-- Disabling a disabled user keeps the first time and reason.
CREATE OR REPLACE FUNCTION bank_user_disable(p_ctx jsonb, p_user_id uuid, p_reason text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  r record;
  u users;
  v_ended integer;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['admin']);
  IF p_reason IS NULL OR length(p_reason) NOT BETWEEN 1 AND 200 THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED reason must be 1..200 characters';
  END IF;
  r := bank_user_target(c, p_user_id, 'users.disable', true);
  IF r.refusal IS NOT NULL THEN
    RETURN r.refusal;
  END IF;
  UPDATE users SET disabled_at = coalesce(disabled_at, now()), disabled_reason = coalesce(disabled_reason, p_reason)
   WHERE id = p_user_id RETURNING * INTO u;
  UPDATE sessions SET ended_at = now() WHERE user_id = p_user_id AND ended_at IS NULL;
  GET DIAGNOSTICS v_ended = ROW_COUNT;
  PERFORM bank_audit(c, 'users.disable', 'success',
                     jsonb_build_object('userId', p_user_id, 'username', u.username, 'reason', p_reason,
                                        'sessionsEnded', v_ended));
  RETURN jsonb_build_object('status', 200, 'body', bank_user_json(u));
END
$$;
REVOKE ALL ON FUNCTION bank_user_disable(jsonb, uuid, text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_user_disable(jsonb, uuid, text) TO bank_admin;
