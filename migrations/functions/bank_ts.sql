-- ISO 8601 UTC with milliseconds.
CREATE OR REPLACE FUNCTION bank_ts(p_at timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT AS $$
  SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;
REVOKE ALL ON FUNCTION bank_ts(timestamptz) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
