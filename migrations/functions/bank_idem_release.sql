-- A refused movement gives its key back, so a retry after the cause is fixed runs again.
CREATE OR REPLACE FUNCTION bank_idem_release(c bank_caller, p_key text) RETURNS void
LANGUAGE sql AS $$
  DELETE FROM idempotency_keys WHERE p_key IS NOT NULL AND user_id = c.actor_id AND key = p_key AND response IS NULL
$$;
REVOKE ALL ON FUNCTION bank_idem_release(bank_caller, text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
