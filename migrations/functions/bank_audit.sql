-- Every operation's event (its success or its refusal), in the operation's transaction. At most
-- one per request id (unique index, migration 0012): when the audit middleware has already
-- recorded this request as refused or failed, this insert fails and the operation rolls back
-- whole, so the event that stands says what happened. Refusals write theirs in bank_refuse,
-- which never fails on a taken request id (what a refusal counts must commit).
CREATE OR REPLACE FUNCTION bank_audit(c bank_caller, p_action text, p_outcome text, p_details jsonb) RETURNS uuid
LANGUAGE sql AS $$
  INSERT INTO audit_logs (actor, action, outcome, details, ip, user_agent, request_id)
  VALUES (coalesce(c.actor, 'anonymous'), p_action, p_outcome, coalesce(p_details, '{}'::jsonb),
          c.ip, c.user_agent, c.request_id)
  RETURNING id
$$;
REVOKE ALL ON FUNCTION bank_audit(bank_caller, text, text, jsonb) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
