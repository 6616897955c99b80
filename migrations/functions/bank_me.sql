CREATE OR REPLACE FUNCTION bank_me(p_ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  u users;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['customer', 'teller', 'admin']);
  SELECT * INTO u FROM users WHERE id = c.actor_id;
  PERFORM bank_audit(c, 'me.get', 'success', '{}'::jsonb);
  RETURN jsonb_build_object('status', 200, 'body', bank_user_json(u));
END
$$;
REVOKE ALL ON FUNCTION bank_me(jsonb) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_me(jsonb) TO bank_customer, bank_teller, bank_admin;
