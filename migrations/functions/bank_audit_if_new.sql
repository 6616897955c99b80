-- bank_audit's insert, skipped when the request already has its event (one event per request id,
-- migration 0012): returns NULL then. An event of this request whose transaction is still running
-- is waited for; this writes only if that one rolls back. No conflict target: the index's
-- predicate may name a seq (see 0012), and the only other unique keys (id, seq) are generated.
CREATE OR REPLACE FUNCTION bank_audit_if_new(c bank_caller, p_action text, p_outcome text, p_details jsonb) RETURNS uuid
LANGUAGE sql AS $$
  INSERT INTO audit_logs (actor, action, outcome, details, ip, user_agent, request_id)
  VALUES (coalesce(c.actor, 'anonymous'), p_action, p_outcome, coalesce(p_details, '{}'::jsonb),
          c.ip, c.user_agent, c.request_id)
  ON CONFLICT DO NOTHING
  RETURNING id
$$;
REVOKE ALL ON FUNCTION bank_audit_if_new(bank_caller, text, text, jsonb) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
