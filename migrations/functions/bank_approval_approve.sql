-- POST /approvals/{approvalId}/approve: a second person (teller or admin, never the maker, as the
-- session says) executes a pending movement, in this one transaction, with every check made
-- again under the accounts' row locks. The approval row is locked first (then the accounts, in
-- ascending id), so concurrent approvals of one approval queue here and it executes once; no
-- path takes an account lock before an approval lock, so this never deadlocks a movement.
-- A refusal (404, 423, 422) is returned, not raised: the approval stays pending and its audit
-- event commits.
CREATE OR REPLACE FUNCTION bank_approval_approve(p_ctx jsonb, p_approval_id uuid) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_action constant text := 'approvals.approve';
  v_details jsonb := jsonb_build_object('approvalId', p_approval_id);
  v_result jsonb;
  ap approvals;
  r accounts;
  src accounts;
  dst accounts;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['teller', 'admin']);
  SELECT * INTO ap FROM approvals WHERE id = p_approval_id FOR UPDATE;
  IF NOT FOUND THEN
    RETURN bank_refuse(c, v_action, 404, 'NOT_FOUND', 'no such approval', v_details);
  END IF;
  v_details := v_details || jsonb_build_object('makerId', ap.maker_id, 'action', ap.action,
                                                'amount', bank_fmt(ap.amount_minor));
  IF ap.maker_id = c.actor_id THEN
    RETURN bank_refuse(c, v_action, 403, 'FORBIDDEN', 'nobody approves their own movement', v_details);
  END IF;
  IF ap.status <> 'pending' THEN
    RETURN bank_refuse(c, v_action, 409, 'CONFLICT', format('the approval is already %s', ap.status), v_details);
  END IF;
  IF bank_approval_expired(ap.created_at) THEN
    RETURN bank_refuse(c, v_action, 409, 'CONFLICT', 'the approval has expired', v_details);
  END IF;

  IF ap.action = 'transfers.create' THEN
    -- (LockRows runs above the Sort, so rows are locked in this order.)
    FOR r IN SELECT * FROM accounts WHERE account_no IN (ap.account_no, ap.to_account_no) ORDER BY id FOR UPDATE LOOP
      IF r.account_no = ap.account_no THEN src := r; ELSE dst := r; END IF;
    END LOOP;
    IF src.id IS NULL OR dst.id IS NULL THEN
      RETURN bank_refuse(c, v_action, 404, 'NOT_FOUND', 'no such account', v_details);
    END IF;
    IF src.is_locked OR dst.is_locked THEN
      RETURN bank_refuse(c, v_action, 423, 'ACCOUNT_LOCKED',
                         CASE WHEN src.is_locked THEN 'the source account is locked' ELSE 'the destination account is locked' END,
                         v_details);
    END IF;
    IF src.balance_minor < ap.amount_minor THEN
      RETURN bank_refuse(c, v_action, 422, 'INSUFFICIENT_FUNDS', 'the balance is lower than the amount', v_details);
    END IF;
    -- The maker is a teller: no customer debit limit applies (bank_debit_limit_take is for
    -- customers' own debits).
    v_result := bank_apply_transfer(src.id, dst.id, ap.amount_minor, ap.memo, ap.maker_id);
  ELSE
    SELECT * INTO src FROM accounts WHERE account_no = ap.account_no FOR UPDATE;
    IF NOT FOUND THEN
      RETURN bank_refuse(c, v_action, 404, 'NOT_FOUND', 'no such account', v_details);
    END IF;
    IF src.is_locked THEN
      RETURN bank_refuse(c, v_action, 423, 'ACCOUNT_LOCKED', 'the account is locked', v_details);
    END IF;
    IF ap.action = 'accounts.withdraw' AND src.balance_minor < ap.amount_minor THEN
      RETURN bank_refuse(c, v_action, 422, 'INSUFFICIENT_FUNDS', 'the balance is lower than the amount', v_details);
    END IF;
    v_result := bank_apply_move(src.id, CASE ap.action WHEN 'accounts.deposit' THEN 'DEPOSIT' ELSE 'WITHDRAWAL' END,
                                ap.amount_minor, ap.memo, ap.maker_id);
  END IF;

  UPDATE approvals SET status = 'approved', checker_id = c.actor_id, decided_at = now(), result = v_result -> 'body'
   WHERE id = ap.id
  RETURNING * INTO ap;
  PERFORM bank_audit(c, v_action, 'success',
                     v_details || jsonb_strip_nulls(jsonb_build_object('entryId', v_result -> 'body' -> 'entryId',
                                                                       'transferId', v_result -> 'body' -> 'transferId')));
  RETURN jsonb_build_object('status', 200, 'body', bank_approval_json(ap));
END
$$;
REVOKE ALL ON FUNCTION bank_approval_approve(jsonb, uuid) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_approval_approve(jsonb, uuid) TO bank_teller, bank_admin;
