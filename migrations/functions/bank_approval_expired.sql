-- API.md v1.1: pending approvals expire after 24 hours. The one place that says how long.
CREATE OR REPLACE FUNCTION bank_approval_expired(p_created_at timestamptz) RETURNS boolean
LANGUAGE sql STABLE STRICT AS $$
  SELECT p_created_at <= now() - interval '24 hours'
$$;
REVOKE ALL ON FUNCTION bank_approval_expired(timestamptz) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
