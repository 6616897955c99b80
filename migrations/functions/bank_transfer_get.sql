-- GET /transfers/{transferId}: a customer sees it when either side is their own account;
-- otherwise, and when there is no such transfer, 404 (a foreign transfer id is not confirmed).
-- fromBalanceAfter is the payer's balance after the transfer: the payer's business, not the
-- payee's. A customer who does not own the from-account gets null; tellers, admins and the payer
-- get the figure.
CREATE OR REPLACE FUNCTION bank_transfer_get(p_ctx jsonb, p_transfer_id uuid) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_details jsonb := jsonb_build_object('transferId', p_transfer_id);
  e history;
  src accounts;
  dst accounts;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['customer', 'teller', 'admin']);
  SELECT * INTO e FROM history WHERE transfer_id = p_transfer_id AND type = 'TRANSFER_OUT';
  IF e.id IS NOT NULL THEN
    SELECT * INTO src FROM accounts WHERE id = e.account_id;
    SELECT * INTO dst FROM accounts WHERE id = e.counterparty_account_id;
  END IF;
  IF e.id IS NULL OR (c.tier = 'customer' AND src.user_id <> c.actor_id AND dst.user_id <> c.actor_id) THEN
    RETURN bank_refuse(c, 'transfers.get', 404, 'NOT_FOUND', 'no such transfer', v_details);
  END IF;
  PERFORM bank_audit(c, 'transfers.get', 'success', v_details);
  RETURN jsonb_build_object('status', 200, 'body', jsonb_build_object(
    'transferId', p_transfer_id, 'fromAccountNo', src.account_no, 'toAccountNo', dst.account_no,
    'amount', bank_fmt(e.amount_minor),
    'fromBalanceAfter', CASE WHEN c.tier = 'customer' AND src.user_id IS DISTINCT FROM c.actor_id THEN NULL
                             ELSE bank_fmt(e.balance_after_minor) END,
    'createdAt', bank_ts(e.created_at)));
END
$$;
REVOKE ALL ON FUNCTION bank_transfer_get(jsonb, uuid) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_transfer_get(jsonb, uuid) TO bank_customer, bank_teller, bank_admin;
