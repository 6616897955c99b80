-- The bucket has this batch: its kept text is no longer needed.
CREATE OR REPLACE FUNCTION bank_seal_uploaded(p_batch_no bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF bank_tier() IS DISTINCT FROM 'admin' THEN
    RAISE EXCEPTION 'bank:FORBIDDEN only the sealer (admin tier) confirms uploads' USING ERRCODE = 'insufficient_privilege';
  END IF;
  DELETE FROM seal_uploads WHERE batch_no = p_batch_no;
END
$$;
REVOKE ALL ON FUNCTION bank_seal_uploaded(bigint) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_seal_uploaded(bigint) TO bank_admin;
