-- The step-up rule of money movements, one call from bank_move and bank_transfer: a customer's
-- movement of at least BANK_STEP_UP_AMOUNT needs a fresh TOTP code. Called after the
-- idempotency claim, so a replay of an accepted movement needs no second code; a refusal gives
-- the claimed key back.
CREATE OR REPLACE FUNCTION bank_step_up_movement(c bank_caller, p_amount_minor bigint, p_otp text, p_idem_key text,
                                                 p_action text, p_details jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_refusal jsonb;
BEGIN
  IF c.tier <> 'customer' OR p_amount_minor < bank_setting('BANK_STEP_UP_AMOUNT') THEN
    RETURN NULL;
  END IF;
  v_refusal := bank_step_up(c, p_otp, p_action, p_details);
  IF v_refusal IS NOT NULL THEN
    PERFORM bank_idem_release(c, p_idem_key);
  END IF;
  RETURN v_refusal;
END
$$;
REVOKE ALL ON FUNCTION bank_step_up_movement(bank_caller, bigint, text, text, text, jsonb) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
