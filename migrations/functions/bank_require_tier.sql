CREATE OR REPLACE FUNCTION bank_require_tier(c bank_caller, p_tiers text[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT (c.tier = ANY (p_tiers)) THEN
    RAISE EXCEPTION 'bank:FORBIDDEN tier % may not do this', c.tier USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF c.actor_id IS NULL THEN
    RAISE EXCEPTION 'bank:UNAUTHENTICATED no actor' USING ERRCODE = 'insufficient_privilege';
  END IF;
END
$$;
REVOKE ALL ON FUNCTION bank_require_tier(bank_caller, text[]) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
