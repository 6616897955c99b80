-- The ledger half of a deposit or withdrawal, shared by bank_move and an approved approval: the
-- caller holds the account's row lock and has made every check (lock, funds, limit).
CREATE OR REPLACE FUNCTION bank_apply_move(p_account_id bigint, p_kind text, p_amount_minor bigint, p_memo text,
                                           p_actor_id uuid) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  a accounts;
  e history;
BEGIN
  IF p_kind NOT IN ('DEPOSIT', 'WITHDRAWAL') OR p_amount_minor IS NULL OR p_amount_minor <= 0 THEN
    RAISE EXCEPTION 'bank:INTERNAL bank_apply_move: bad kind or amount';
  END IF;
  UPDATE accounts
     SET balance_minor = balance_minor + CASE p_kind WHEN 'DEPOSIT' THEN p_amount_minor ELSE -p_amount_minor END
   WHERE id = p_account_id
  RETURNING * INTO a;
  IF a.id IS NULL THEN
    RAISE EXCEPTION 'bank:INTERNAL bank_apply_move: no account %', p_account_id;
  END IF;
  INSERT INTO history (account_id, type, amount_minor, balance_after_minor, memo, actor_id)
  VALUES (a.id, p_kind, p_amount_minor, a.balance_minor, p_memo, p_actor_id)
  RETURNING * INTO e;
  RETURN jsonb_build_object('status', 200, 'body', jsonb_build_object(
    'entryId', e.id, 'accountNo', a.account_no, 'type', p_kind, 'amount', bank_fmt(p_amount_minor),
    'balanceAfter', bank_fmt(e.balance_after_minor), 'createdAt', bank_ts(e.created_at)));
END
$$;
REVOKE ALL ON FUNCTION bank_apply_move(bigint, text, bigint, text, uuid) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
