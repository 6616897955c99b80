-- Maker-checker (API.md v1.1): a teller's movement of at least BANK_APPROVAL_AMOUNT moves nothing
-- yet. It becomes a pending approval, answered 202 and stored under the maker's Idempotency-Key
-- (a replay answers the same 202). The threshold is read here from bank_settings, never taken
-- from the caller. Called by bank_move and bank_transfer after the account(s) were found.
CREATE OR REPLACE FUNCTION bank_approval_create(c bank_caller, p_action text, p_request jsonb, p_account_no text,
                                                p_to_account_no text, p_amount_minor bigint, p_memo text,
                                                p_idem_key text, p_details jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  ap approvals;
  v_result jsonb;
BEGIN
  IF c.tier <> 'teller' OR p_amount_minor < bank_setting('BANK_APPROVAL_AMOUNT') THEN
    RAISE EXCEPTION 'bank:INTERNAL bank_approval_create: not a movement that waits for approval';
  END IF;
  INSERT INTO approvals (action, request, account_no, to_account_no, amount_minor, memo, maker_id)
  VALUES (p_action, jsonb_strip_nulls(p_request), p_account_no, p_to_account_no, p_amount_minor, p_memo, c.actor_id)
  RETURNING * INTO ap;
  v_result := jsonb_build_object('status', 202, 'body', bank_approval_json(ap));
  PERFORM bank_idem_store(c, p_idem_key, v_result);
  PERFORM bank_audit(c, p_action, 'success', p_details || jsonb_build_object('approvalId', ap.id, 'approvalStatus', 'pending'));
  RETURN v_result;
END
$$;
REVOKE ALL ON FUNCTION bank_approval_create(bank_caller, text, jsonb, text, text, bigint, text, text, jsonb) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
