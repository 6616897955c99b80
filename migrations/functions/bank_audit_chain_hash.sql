-- The seal chain's hash (docs/audit-format.md):
-- hash(batch) = sha256(prev_hash || "\n" || line_1 || "\n" || ... || line_n), hex.
CREATE OR REPLACE FUNCTION bank_audit_chain_hash(p_prev_hash text, p_lines text[]) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT encode(sha256(convert_to(p_prev_hash || E'\n' || array_to_string(p_lines, E'\n'), 'UTF8')), 'hex')
$$;
REVOKE ALL ON FUNCTION bank_audit_chain_hash(text, text[]) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
