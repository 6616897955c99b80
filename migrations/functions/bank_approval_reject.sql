-- POST /approvals/{approvalId}/reject: a second person (never the maker, as the session says)
-- closes a pending approval with a reason; nothing moves.
CREATE OR REPLACE FUNCTION bank_approval_reject(p_ctx jsonb, p_approval_id uuid, p_reason text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_action constant text := 'approvals.reject';
  v_details jsonb := jsonb_build_object('approvalId', p_approval_id, 'reason', p_reason);
  ap approvals;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['teller', 'admin']);
  IF p_reason IS NULL OR length(p_reason) NOT BETWEEN 1 AND 200 THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED reason must be 1..200 characters';
  END IF;
  SELECT * INTO ap FROM approvals WHERE id = p_approval_id FOR UPDATE;
  IF NOT FOUND THEN
    RETURN bank_refuse(c, v_action, 404, 'NOT_FOUND', 'no such approval', v_details);
  END IF;
  v_details := v_details || jsonb_build_object('makerId', ap.maker_id, 'action', ap.action);
  IF ap.maker_id = c.actor_id THEN
    RETURN bank_refuse(c, v_action, 403, 'FORBIDDEN', 'nobody rejects their own movement', v_details);
  END IF;
  IF ap.status <> 'pending' THEN
    RETURN bank_refuse(c, v_action, 409, 'CONFLICT', format('the approval is already %s', ap.status), v_details);
  END IF;
  IF bank_approval_expired(ap.created_at) THEN
    RETURN bank_refuse(c, v_action, 409, 'CONFLICT', 'the approval has expired', v_details);
  END IF;
  UPDATE approvals SET status = 'rejected', checker_id = c.actor_id, decided_at = now(), reason = p_reason
   WHERE id = ap.id
  RETURNING * INTO ap;
  PERFORM bank_audit(c, v_action, 'success', v_details);
  RETURN jsonb_build_object('status', 200, 'body', bank_approval_json(ap));
END
$$;
REVOKE ALL ON FUNCTION bank_approval_reject(jsonb, uuid, text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_approval_reject(jsonb, uuid, text) TO bank_teller, bank_admin;
