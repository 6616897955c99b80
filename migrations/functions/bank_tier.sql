-- The caller's tier is the PostgreSQL login role of the connection (the secret the Lambda used),
-- never something the caller says about itself. bank_auth has no tier: it only logs in.
CREATE OR REPLACE FUNCTION bank_tier() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE session_user::text
           WHEN 'bank_customer' THEN 'customer'
           WHEN 'bank_teller' THEN 'teller'
           WHEN 'bank_admin' THEN 'admin'
         END
$$;
REVOKE ALL ON FUNCTION bank_tier() FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
