-- POST /accounts/{accountNo}/pin. A customer, on their own account: a fresh step-up code, then
-- the current PIN compared here under the account's row lock exactly as a movement compares it
-- (a wrong one counts and may lock the account). A teller or admin sets it without either. The
-- new PIN is hashed here (pgcrypto); the wrong-PIN count starts again; a lock stays.
CREATE OR REPLACE FUNCTION bank_account_pin(p_ctx jsonb, p_account_no text, p_current_pin text, p_new_pin text,
                                            p_otp text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_action constant text := 'accounts.pin';
  v_details jsonb := jsonb_build_object('accountNo', p_account_no);
  v_refusal jsonb;
  a accounts;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['customer', 'teller', 'admin']);
  IF p_new_pin IS NULL OR p_new_pin !~ '^[0-9]{4,6}$' THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED the new PIN must be 4 to 6 digits';
  END IF;
  IF c.tier <> 'customer' AND p_current_pin IS NOT NULL THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED tellers and admins act without a PIN';
  END IF;
  SELECT * INTO a FROM accounts WHERE account_no = p_account_no FOR UPDATE;
  IF NOT FOUND OR (c.tier = 'customer' AND a.user_id <> c.actor_id) THEN
    RETURN bank_refuse(c, v_action, 404, 'NOT_FOUND', 'no such account', v_details);
  END IF;
  IF c.tier = 'customer' THEN
    v_refusal := bank_step_up(c, p_otp, v_action, v_details);
    IF v_refusal IS NOT NULL THEN
      RETURN v_refusal;
    END IF;
    v_refusal := bank_pin_verify(c, a, p_current_pin, v_action, v_details);
    IF v_refusal IS NOT NULL THEN
      RETURN v_refusal;
    END IF;
  END IF;
  UPDATE accounts SET pin_hash = bank_pin_hash(p_new_pin), failed_attempts = 0 WHERE id = a.id;
  PERFORM bank_audit(c, v_action, 'success', v_details);
  RETURN jsonb_build_object('status', 204);
END
$$;
REVOKE ALL ON FUNCTION bank_account_pin(jsonb, text, text, text, text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_account_pin(jsonb, text, text, text, text) TO bank_customer, bank_teller, bank_admin;
