-- The daily debit limit (API.md v1.1): a customer's withdrawals plus outgoing transfers from one
-- account per UTC day. The caller holds the account's row lock and has made every other check,
-- so this is the last word before the money moves: the check and the addition are serial per
-- account, and a debit counted here always commits together with its movement. The limit is
-- read from bank_settings (owner-written), never taken from the caller.
-- Returns a refusal (422 LIMIT_EXCEEDED, the claimed key given back), or NULL once counted.
CREATE OR REPLACE FUNCTION bank_debit_limit_take(c bank_caller, p_account_id bigint, p_amount_minor bigint,
                                                 p_idem_key text, p_action text, p_details jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_limit_minor bigint;
  v_used_minor bigint;
  v_day date := (now() AT TIME ZONE 'UTC')::date;
BEGIN
  IF c.tier <> 'customer' THEN
    RETURN NULL;
  END IF;
  v_limit_minor := bank_setting('BANK_DAILY_DEBIT_LIMIT');
  IF v_limit_minor IS NULL OR v_limit_minor <= 0 OR p_amount_minor IS NULL OR p_amount_minor <= 0 THEN
    RAISE EXCEPTION 'bank:INTERNAL daily debit limit or amount not positive';
  END IF;
  SELECT debited_minor INTO v_used_minor FROM customer_debits_daily WHERE account_id = p_account_id AND day = v_day;
  v_used_minor := coalesce(v_used_minor, 0);
  IF v_used_minor + p_amount_minor > v_limit_minor THEN
    PERFORM bank_idem_release(c, p_idem_key);
    RETURN bank_refuse(c, p_action, 422, 'LIMIT_EXCEEDED', 'the amount would exceed the daily debit limit of this account',
                       p_details, jsonb_build_object('limit', bank_fmt(v_limit_minor),
                                                     'remaining', bank_fmt(greatest(v_limit_minor - v_used_minor, 0))));
  END IF;
  INSERT INTO customer_debits_daily (account_id, day, debited_minor) VALUES (p_account_id, v_day, p_amount_minor)
  ON CONFLICT (account_id, day) DO UPDATE SET debited_minor = customer_debits_daily.debited_minor + excluded.debited_minor;
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION bank_debit_limit_take(bank_caller, bigint, bigint, text, text, jsonb) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
