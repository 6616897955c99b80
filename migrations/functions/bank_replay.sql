-- An idempotent replay (or a key reused with another request), audited as such.
CREATE OR REPLACE FUNCTION bank_replay(c bank_caller, p_action text, p_details jsonb, p_replay jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM bank_audit(c, p_action, CASE WHEN (p_replay ->> 'status')::integer < 400 THEN 'success' ELSE 'failed' END,
                     p_details || jsonb_build_object('idempotencyKeyReplay', p_replay ? 'replayed',
                                                     'status', (p_replay ->> 'status')::integer));
  RETURN p_replay;
END
$$;
REVOKE ALL ON FUNCTION bank_replay(bank_caller, text, jsonb, jsonb) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
