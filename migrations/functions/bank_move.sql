-- POST /accounts/{accountNo}/deposit and /withdraw: one Data API call for every tier. The
-- acting user comes from the session; a customer's PIN is compared here, under the account's
-- row lock, before anything else about the request is answered (an idempotent replay included,
-- so a replay is no PIN oracle).
CREATE OR REPLACE FUNCTION bank_move(p_ctx jsonb, p_kind text, p_account_no text, p_amount_minor bigint,
                                     p_memo text, p_pin text, p_otp text, p_idem_key text, p_idem_hash text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_action text := CASE p_kind WHEN 'DEPOSIT' THEN 'accounts.deposit' WHEN 'WITHDRAWAL' THEN 'accounts.withdraw' END;
  v_details jsonb;
  v_replay jsonb;
  v_refusal jsonb;
  v_result jsonb;
  a accounts;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['customer', 'teller', 'admin']);
  IF v_action IS NULL THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED unknown movement kind';
  END IF;
  -- Limits of API.md: > 0 and at most 1,000,000,000.00 per operation.
  IF p_amount_minor IS NULL OR p_amount_minor <= 0 OR p_amount_minor > 100000000000 THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED amount out of range';
  END IF;
  IF c.tier <> 'customer' AND p_pin IS NOT NULL THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED tellers and admins act without a PIN';
  END IF;
  v_details := jsonb_build_object('accountNo', p_account_no, 'amount', bank_fmt(p_amount_minor));

  IF c.tier = 'customer' THEN
    SELECT * INTO a FROM accounts WHERE account_no = p_account_no FOR UPDATE;
    IF NOT FOUND OR a.user_id <> c.actor_id THEN
      RETURN bank_refuse(c, v_action, 404, 'NOT_FOUND', 'no such account', v_details);
    END IF;
    v_refusal := bank_pin_verify(c, a, p_pin, v_action, v_details);
    IF v_refusal IS NOT NULL THEN
      RETURN v_refusal;
    END IF;
    v_replay := bank_idem_claim(c, v_action, p_idem_key, p_idem_hash);
    IF v_replay IS NOT NULL THEN
      RETURN bank_replay(c, v_action, v_details, v_replay);
    END IF;
    v_refusal := bank_step_up_movement(c, p_amount_minor, p_otp, p_idem_key, v_action, v_details);
    IF v_refusal IS NOT NULL THEN
      RETURN v_refusal;
    END IF;
  ELSE
    v_replay := bank_idem_claim(c, v_action, p_idem_key, p_idem_hash);
    IF v_replay IS NOT NULL THEN
      RETURN bank_replay(c, v_action, v_details, v_replay);
    END IF;
    SELECT * INTO a FROM accounts WHERE account_no = p_account_no FOR UPDATE;
    IF NOT FOUND THEN
      PERFORM bank_idem_release(c, p_idem_key);
      RETURN bank_refuse(c, v_action, 404, 'NOT_FOUND', 'no such account', v_details);
    END IF;
  END IF;
  -- Maker-checker: a teller's large movement waits for a second person (bank_approval_create).
  IF c.tier = 'teller' AND p_amount_minor >= bank_setting('BANK_APPROVAL_AMOUNT') THEN
    RETURN bank_approval_create(c, v_action, jsonb_build_object('accountNo', a.account_no,
                                'amount', bank_fmt(p_amount_minor), 'memo', p_memo),
                                a.account_no, NULL, p_amount_minor, p_memo, p_idem_key, v_details);
  END IF;
  IF a.is_locked THEN
    PERFORM bank_idem_release(c, p_idem_key);
    RETURN bank_refuse(c, v_action, 423, 'ACCOUNT_LOCKED', 'the account is locked', v_details);
  END IF;
  IF p_kind = 'WITHDRAWAL' AND a.balance_minor < p_amount_minor THEN
    PERFORM bank_idem_release(c, p_idem_key);
    RETURN bank_refuse(c, v_action, 422, 'INSUFFICIENT_FUNDS', 'the balance is lower than the amount', v_details);
  END IF;
  -- Last check (it counts the debit): a customer's daily debit limit, under this row lock.
  IF p_kind = 'WITHDRAWAL' THEN
    v_refusal := bank_debit_limit_take(c, a.id, p_amount_minor, p_idem_key, v_action, v_details);
    IF v_refusal IS NOT NULL THEN
      RETURN v_refusal;
    END IF;
  END IF;

  v_result := bank_apply_move(a.id, p_kind, p_amount_minor, p_memo, c.actor_id);
  PERFORM bank_idem_store(c, p_idem_key, v_result);
  PERFORM bank_audit(c, v_action, 'success', v_details || jsonb_build_object('entryId', v_result -> 'body' -> 'entryId'));
  RETURN v_result;
END
$$;
REVOKE ALL ON FUNCTION bank_move(jsonb, text, text, bigint, text, text, text, text, text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_move(jsonb, text, text, bigint, text, text, text, text, text)
  TO bank_customer, bank_teller, bank_admin;
