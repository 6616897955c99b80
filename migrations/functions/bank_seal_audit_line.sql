-- A sealed line: jsonb text is canonical (keys by length, then bytes), so the verifier can
-- rebuild the same text from raw columns. Money and transaction ids are strings (exact in any
-- JSON reader); seqs and account ids are numbers.
CREATE OR REPLACE FUNCTION bank_seal_audit_line(a audit_logs, p_xid xid8) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'kind', 'audit', 'id', a.id, 'seq', a.seq, 'xid', p_xid::text, 'actor', a.actor,
    'action', a.action, 'outcome', a.outcome, 'details', a.details, 'ip', a.ip,
    'userAgent', a.user_agent, 'requestId', a.request_id, 'createdAt', bank_ts(a.created_at))::text
$$;
REVOKE ALL ON FUNCTION bank_seal_audit_line(audit_logs, xid8) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
