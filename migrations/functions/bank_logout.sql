-- POST /auth/logout: ends the caller's own session (the one the token names); every later
-- call with a token of that session is refused, cached tokens included.
CREATE OR REPLACE FUNCTION bank_logout(p_ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
BEGIN
  PERFORM bank_require_tier(c, ARRAY['customer', 'teller', 'admin']);
  UPDATE sessions SET ended_at = now() WHERE id_hash = c.session_hash AND ended_at IS NULL;
  PERFORM bank_audit(c, 'auth.logout', 'success', '{}'::jsonb);
  RETURN jsonb_build_object('status', 204);
END
$$;
REVOKE ALL ON FUNCTION bank_logout(jsonb) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_logout(jsonb) TO bank_customer, bank_teller, bank_admin;
