CREATE OR REPLACE FUNCTION bank_idem_store(c bank_caller, p_key text, p_result jsonb) RETURNS void
LANGUAGE sql AS $$
  UPDATE idempotency_keys SET status_code = (p_result ->> 'status')::integer, response = p_result
  WHERE p_key IS NOT NULL AND user_id = c.actor_id AND key = p_key
$$;
REVOKE ALL ON FUNCTION bank_idem_store(bank_caller, text, jsonb) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
