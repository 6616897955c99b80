CREATE OR REPLACE FUNCTION bank_account_history(p_ctx jsonb, p_account_no text, p_from timestamptz, p_to timestamptz,
                                                p_limit integer, p_before bigint) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_limit integer := least(greatest(coalesce(p_limit, 20), 1), 100);
  v_details jsonb := jsonb_build_object('accountNo', p_account_no);
  v_items jsonb;
  v_next bigint;
  a accounts;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['customer', 'teller', 'admin']);
  SELECT * INTO a FROM accounts WHERE account_no = p_account_no;
  IF NOT FOUND OR (c.tier = 'customer' AND a.user_id <> c.actor_id) THEN
    RETURN bank_refuse(c, 'accounts.history', 404, 'NOT_FOUND', 'no such account', v_details);
  END IF;
  SELECT coalesce(jsonb_agg(jsonb_build_object(
           'entryId', h.id, 'type', h.type, 'amount', bank_fmt(h.amount_minor),
           'balanceAfter', bank_fmt(h.balance_after_minor), 'counterpartyAccountNo', cp.account_no,
           'memo', h.memo, 'transferId', h.transfer_id, 'createdAt', bank_ts(h.created_at))
           ORDER BY h.seq DESC), '[]'::jsonb), min(h.seq)
    INTO v_items, v_next
    FROM (SELECT * FROM history WHERE account_id = a.id AND (p_before IS NULL OR seq < p_before)
             AND (p_from IS NULL OR created_at >= p_from) AND (p_to IS NULL OR created_at < p_to)
           ORDER BY seq DESC LIMIT v_limit) h
    LEFT JOIN accounts cp ON cp.id = h.counterparty_account_id;
  IF NOT EXISTS (SELECT 1 FROM history WHERE account_id = a.id AND seq < v_next
                   AND (p_from IS NULL OR created_at >= p_from) AND (p_to IS NULL OR created_at < p_to)) THEN
    v_next := NULL;
  END IF;
  PERFORM bank_audit(c, 'accounts.history', 'success', v_details || jsonb_build_object('count', jsonb_array_length(v_items)));
  RETURN jsonb_build_object('status', 200, 'body', jsonb_build_object('items', v_items), 'next', v_next);
END
$$;
REVOKE ALL ON FUNCTION bank_account_history(jsonb, text, timestamptz, timestamptz, integer, bigint) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_account_history(jsonb, text, timestamptz, timestamptz, integer, bigint) TO bank_customer, bank_teller, bank_admin;
