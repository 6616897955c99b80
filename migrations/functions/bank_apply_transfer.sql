-- The ledger half of a transfer, shared by bank_transfer and an approved approval: the caller
-- holds both rows' locks (ascending id) and has made every check (locks, funds, limit).
CREATE OR REPLACE FUNCTION bank_apply_transfer(p_src_id bigint, p_dst_id bigint, p_amount_minor bigint, p_memo text,
                                               p_actor_id uuid) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  v_transfer_id uuid := gen_random_uuid();
  src accounts;
  dst accounts;
  e history;
BEGIN
  IF p_amount_minor IS NULL OR p_amount_minor <= 0 OR p_src_id = p_dst_id THEN
    RAISE EXCEPTION 'bank:INTERNAL bank_apply_transfer: bad amount or accounts';
  END IF;
  UPDATE accounts SET balance_minor = balance_minor - p_amount_minor WHERE id = p_src_id RETURNING * INTO src;
  UPDATE accounts SET balance_minor = balance_minor + p_amount_minor WHERE id = p_dst_id RETURNING * INTO dst;
  IF src.id IS NULL OR dst.id IS NULL THEN
    RAISE EXCEPTION 'bank:INTERNAL bank_apply_transfer: no such account';
  END IF;
  INSERT INTO history (account_id, type, amount_minor, balance_after_minor, counterparty_account_id, transfer_id, memo, actor_id)
  VALUES (src.id, 'TRANSFER_OUT', p_amount_minor, src.balance_minor, dst.id, v_transfer_id, p_memo, p_actor_id)
  RETURNING * INTO e;
  INSERT INTO history (account_id, type, amount_minor, balance_after_minor, counterparty_account_id, transfer_id, memo, actor_id)
  VALUES (dst.id, 'TRANSFER_IN', p_amount_minor, dst.balance_minor, src.id, v_transfer_id, p_memo, p_actor_id);
  RETURN jsonb_build_object('status', 201, 'body', jsonb_build_object(
    'transferId', v_transfer_id, 'fromAccountNo', src.account_no, 'toAccountNo', dst.account_no,
    'amount', bank_fmt(p_amount_minor), 'fromBalanceAfter', bank_fmt(src.balance_minor),
    'createdAt', bank_ts(e.created_at)));
END
$$;
REVOKE ALL ON FUNCTION bank_apply_transfer(bigint, bigint, bigint, text, uuid) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
