-- A sealed line: jsonb text is canonical (keys by length, then bytes), so the verifier can
-- rebuild the same text from raw columns. Money and transaction ids are strings (exact in any
-- JSON reader); seqs and account ids are numbers.
CREATE OR REPLACE FUNCTION bank_seal_history_line(h history, p_xid xid8) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'kind', 'history', 'id', h.id, 'seq', h.seq, 'xid', p_xid::text, 'accountId', h.account_id,
    'type', h.type, 'amountMinor', h.amount_minor::text, 'balanceAfterMinor', h.balance_after_minor::text,
    'counterpartyAccountId', h.counterparty_account_id, 'transferId', h.transfer_id, 'memo', h.memo,
    'actorId', h.actor_id, 'createdAt', bank_ts(h.created_at))::text
$$;
REVOKE ALL ON FUNCTION bank_seal_history_line(history, xid8) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
