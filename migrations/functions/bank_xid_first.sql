-- Trigger (BEFORE INSERT ... FOR EACH STATEMENT on audit_logs and history, made by 0007): a row's
-- transaction id is assigned before its seq is drawn, because this runs before the statement
-- evaluates any column default (nextval). Without it a statement could draw its seq before the
-- sealer read the high-water mark and get its transaction id after the sealer's snapshot, which
-- the verifier would read as a late insert. (This holds for rows written by the top-level
-- transaction; the bank's functions write audit_logs and history outside any EXCEPTION block, so
-- no row gets a subtransaction's id.)
CREATE OR REPLACE FUNCTION bank_xid_first() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_current_xact_id();
  RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION bank_xid_first() FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
