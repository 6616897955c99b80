CREATE OR REPLACE FUNCTION bank_account_unlock(p_ctx jsonb, p_account_no text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_details jsonb := jsonb_build_object('accountNo', p_account_no);
  a accounts;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['teller', 'admin']);
  UPDATE accounts SET is_locked = false, locked_reason = NULL, failed_attempts = 0
   WHERE account_no = p_account_no RETURNING * INTO a;
  IF a.id IS NULL THEN
    RETURN bank_refuse(c, 'accounts.unlock', 404, 'NOT_FOUND', 'no such account', v_details);
  END IF;
  PERFORM bank_audit(c, 'accounts.unlock', 'success', v_details);
  RETURN jsonb_build_object('status', 200, 'body', bank_account_json(a));
END
$$;
REVOKE ALL ON FUNCTION bank_account_unlock(jsonb, text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_account_unlock(jsonb, text) TO bank_teller, bank_admin;
