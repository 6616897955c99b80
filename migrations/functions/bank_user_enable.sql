-- POST /users/{userId}/enable (admin): the user may log in again (no session comes back).
CREATE OR REPLACE FUNCTION bank_user_enable(p_ctx jsonb, p_user_id uuid) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  r record;
  u users;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['admin']);
  r := bank_user_target(c, p_user_id, 'users.enable', false);
  IF r.refusal IS NOT NULL THEN
    RETURN r.refusal;
  END IF;
  UPDATE users SET disabled_at = NULL, disabled_reason = NULL WHERE id = p_user_id RETURNING * INTO u;
  PERFORM bank_audit(c, 'users.enable', 'success', jsonb_build_object('userId', p_user_id, 'username', u.username));
  RETURN jsonb_build_object('status', 200, 'body', bank_user_json(u));
END
$$;
REVOKE ALL ON FUNCTION bank_user_enable(jsonb, uuid) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_user_enable(jsonb, uuid) TO bank_admin;
