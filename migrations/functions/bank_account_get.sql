CREATE OR REPLACE FUNCTION bank_account_get(p_ctx jsonb, p_account_no text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_details jsonb := jsonb_build_object('accountNo', p_account_no);
  a accounts;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['customer', 'teller', 'admin']);
  SELECT * INTO a FROM accounts WHERE account_no = p_account_no;
  IF NOT FOUND OR (c.tier = 'customer' AND a.user_id <> c.actor_id) THEN
    RETURN bank_refuse(c, 'accounts.get', 404, 'NOT_FOUND', 'no such account', v_details);
  END IF;
  PERFORM bank_audit(c, 'accounts.get', 'success', v_details);
  RETURN jsonb_build_object('status', 200, 'body', bank_account_json(a));
END
$$;
REVOKE ALL ON FUNCTION bank_account_get(jsonb, text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_account_get(jsonb, text) TO bank_customer, bank_teller, bank_admin;
