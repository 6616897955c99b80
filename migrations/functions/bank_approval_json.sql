-- API.md `approval`. A pending approval older than 24 hours is shown as expired: expiry is a
-- fact of the clock, not of a job that has to run.
CREATE OR REPLACE FUNCTION bank_approval_json(ap approvals) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'approvalId', ap.id, 'action', ap.action, 'request', ap.request,
    'status', CASE WHEN ap.status = 'pending' AND bank_approval_expired(ap.created_at) THEN 'expired' ELSE ap.status END,
    'makerId', ap.maker_id, 'checkerId', ap.checker_id, 'reason', ap.reason, 'result', ap.result,
    'createdAt', bank_ts(ap.created_at), 'decidedAt', CASE WHEN ap.decided_at IS NULL THEN NULL ELSE bank_ts(ap.decided_at) END)
$$;
REVOKE ALL ON FUNCTION bank_approval_json(approvals) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
