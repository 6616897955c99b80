-- POST /auth/refresh: a live session's user, for a new token of the same session.
CREATE OR REPLACE FUNCTION bank_session_refresh(p_ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  s sessions;
  u users;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['customer', 'teller', 'admin']);
  SELECT * INTO s FROM sessions WHERE id_hash = c.session_hash;
  SELECT * INTO u FROM users WHERE id = c.actor_id;
  PERFORM bank_audit(c, 'auth.refresh', 'success', '{}'::jsonb);
  RETURN jsonb_build_object('status', 200, 'body', bank_user_json(u), 'sessionExpiresAt', bank_ts(s.expires_at));
END
$$;
REVOKE ALL ON FUNCTION bank_session_refresh(jsonb) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_session_refresh(jsonb) TO bank_customer, bank_teller, bank_admin;
