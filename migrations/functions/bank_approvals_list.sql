-- GET /approvals?status=: tellers and admins, newest first, paged by seq. `expired` and
-- `pending` split the stored pending rows by age (bank_approval_expired).
CREATE OR REPLACE FUNCTION bank_approvals_list(p_ctx jsonb, p_status text, p_limit integer, p_before bigint) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_limit integer := least(greatest(coalesce(p_limit, 20), 1), 100);
  v_items jsonb;
  v_next bigint;
  v_more boolean;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['teller', 'admin']);
  IF p_status IS NOT NULL AND p_status NOT IN ('pending', 'approved', 'rejected', 'expired') THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED unknown approval status';
  END IF;
  WITH matching AS (
    SELECT * FROM approvals ap
     WHERE (p_before IS NULL OR ap.seq < p_before)
       AND CASE p_status
             WHEN 'pending' THEN ap.status = 'pending' AND NOT bank_approval_expired(ap.created_at)
             WHEN 'expired' THEN ap.status = 'pending' AND bank_approval_expired(ap.created_at)
             WHEN 'approved' THEN ap.status = 'approved'
             WHEN 'rejected' THEN ap.status = 'rejected'
             ELSE true
           END
     ORDER BY ap.seq DESC
     LIMIT v_limit + 1
  ), page AS (
    SELECT * FROM matching ORDER BY seq DESC LIMIT v_limit
  )
  SELECT coalesce((SELECT jsonb_agg(bank_approval_json(page::approvals) ORDER BY page.seq DESC) FROM page), '[]'::jsonb),
         (SELECT min(seq) FROM page),
         (SELECT count(*) FROM matching) > v_limit
    INTO v_items, v_next, v_more;
  PERFORM bank_audit(c, 'approvals.list', 'success',
                     jsonb_build_object('status', p_status, 'count', jsonb_array_length(v_items)));
  RETURN jsonb_build_object('status', 200, 'body', jsonb_build_object('items', v_items),
                            'next', CASE WHEN v_more THEN v_next END);
END
$$;
REVOKE ALL ON FUNCTION bank_approvals_list(jsonb, text, integer, bigint) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_approvals_list(jsonb, text, integer, bigint) TO bank_teller, bank_admin;
