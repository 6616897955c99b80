-- The full 64-bit id of a transaction from a row's 32-bit xmin, relative to a later full id
-- (the snapshot's xmax). Exact for any row younger than 2^32 transactions, which every row the
-- sealer sees for the first time is.
CREATE OR REPLACE FUNCTION bank_xid8(p_xmin xid, p_ref xid8) RETURNS xid8
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT ((p_ref::text::bigint)
          - (((p_ref::text::bigint & 4294967295) - p_xmin::text::bigint + 4294967296) % 4294967296))::text::xid8
$$;
REVOKE ALL ON FUNCTION bank_xid8(xid, xid8) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
