-- Batches sealed but not yet confirmed in the bucket, oldest first (at most p_max).
CREATE OR REPLACE FUNCTION bank_seal_pending(p_max integer) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF bank_tier() IS DISTINCT FROM 'admin' THEN
    RAISE EXCEPTION 'bank:FORBIDDEN only the sealer (admin tier) reads seals' USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN coalesce((
    SELECT jsonb_agg(jsonb_build_object('batchNo', s.batch_no, 'hash', s.batch_hash, 'body', u.body)
                     ORDER BY s.batch_no)
      FROM (SELECT * FROM seal_uploads ORDER BY batch_no LIMIT least(greatest(p_max, 1), 10)) u
      JOIN seal_batches s USING (batch_no)), '[]'::jsonb);
END
$$;
REVOKE ALL ON FUNCTION bank_seal_pending(integer) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_seal_pending(integer) TO bank_admin;
