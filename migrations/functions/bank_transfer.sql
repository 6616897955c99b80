-- POST /transfers: one Data API call for every tier. Both rows are locked first (ascending id:
-- A->B and B->A never deadlock); a customer's PIN for the source account is then compared under
-- that lock, before an idempotent replay is answered (no PIN oracle).
CREATE OR REPLACE FUNCTION bank_transfer(p_ctx jsonb, p_from text, p_to text, p_amount_minor bigint, p_memo text,
                                         p_pin text, p_otp text, p_idem_key text, p_idem_hash text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_action constant text := 'transfers.create';
  v_details jsonb;
  v_replay jsonb;
  v_refusal jsonb;
  v_result jsonb;
  r accounts;
  src accounts;
  dst accounts;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['customer', 'teller', 'admin']);
  IF p_amount_minor IS NULL OR p_amount_minor <= 0 OR p_amount_minor > 100000000000 THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED amount out of range';
  END IF;
  IF p_from = p_to THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED a transfer needs two different accounts';
  END IF;
  IF c.tier <> 'customer' AND p_pin IS NOT NULL THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED tellers and admins act without a PIN';
  END IF;
  v_details := jsonb_build_object('fromAccountNo', p_from, 'toAccountNo', p_to, 'amount', bank_fmt(p_amount_minor));

  IF c.tier <> 'customer' THEN
    v_replay := bank_idem_claim(c, v_action, p_idem_key, p_idem_hash);
    IF v_replay IS NOT NULL THEN
      RETURN bank_replay(c, v_action, v_details, v_replay);
    END IF;
  END IF;

  -- (LockRows runs above the Sort, so rows are locked in this order.)
  FOR r IN SELECT * FROM accounts WHERE account_no IN (p_from, p_to) ORDER BY id FOR UPDATE LOOP
    IF r.account_no = p_from THEN src := r; ELSE dst := r; END IF;
  END LOOP;
  IF src.id IS NULL OR (c.tier = 'customer' AND src.user_id <> c.actor_id) THEN
    PERFORM bank_idem_release(c, p_idem_key);
    RETURN bank_refuse(c, v_action, 404, 'NOT_FOUND', 'no such source account', v_details);
  END IF;
  IF c.tier = 'customer' THEN
    v_refusal := bank_pin_verify(c, src, p_pin, v_action, v_details);
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
  END IF;
  IF dst.id IS NULL THEN
    PERFORM bank_idem_release(c, p_idem_key);
    RETURN bank_refuse(c, v_action, 404, 'NOT_FOUND', 'no such destination account', v_details);
  END IF;
  -- Maker-checker: a teller's large transfer waits for a second person (bank_approval_create).
  IF c.tier = 'teller' AND p_amount_minor >= bank_setting('BANK_APPROVAL_AMOUNT') THEN
    RETURN bank_approval_create(c, v_action, jsonb_build_object('fromAccountNo', src.account_no,
                                'toAccountNo', dst.account_no, 'amount', bank_fmt(p_amount_minor), 'memo', p_memo),
                                src.account_no, dst.account_no, p_amount_minor, p_memo, p_idem_key, v_details);
  END IF;
  IF src.is_locked OR dst.is_locked THEN
    PERFORM bank_idem_release(c, p_idem_key);
    RETURN bank_refuse(c, v_action, 423, 'ACCOUNT_LOCKED',
                       CASE WHEN src.is_locked THEN 'the source account is locked' ELSE 'the destination account is locked' END,
                       v_details);
  END IF;
  IF src.balance_minor < p_amount_minor THEN
    PERFORM bank_idem_release(c, p_idem_key);
    RETURN bank_refuse(c, v_action, 422, 'INSUFFICIENT_FUNDS', 'the balance is lower than the amount', v_details);
  END IF;
  -- Last check (it counts the debit): a customer's daily debit limit, under the source row lock.
  v_refusal := bank_debit_limit_take(c, src.id, p_amount_minor, p_idem_key, v_action, v_details);
  IF v_refusal IS NOT NULL THEN
    RETURN v_refusal;
  END IF;

  v_result := bank_apply_transfer(src.id, dst.id, p_amount_minor, p_memo, c.actor_id);
  PERFORM bank_idem_store(c, p_idem_key, v_result);
  PERFORM bank_audit(c, v_action, 'success', v_details || jsonb_build_object('transferId', v_result -> 'body' -> 'transferId'));
  RETURN v_result;
END
$$;
REVOKE ALL ON FUNCTION bank_transfer(jsonb, text, text, bigint, text, text, text, text, text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_transfer(jsonb, text, text, bigint, text, text, text, text, text)
  TO bank_customer, bank_teller, bank_admin;
