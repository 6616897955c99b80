CREATE OR REPLACE FUNCTION bank_users_list(p_ctx jsonb, p_limit integer, p_before bigint) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_limit integer := least(greatest(coalesce(p_limit, 20), 1), 100);
  v_items jsonb;
  v_next bigint;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['admin']);
  SELECT coalesce(jsonb_agg(bank_user_json(u) ORDER BY u.seq DESC), '[]'::jsonb), min(u.seq)
    INTO v_items, v_next
    FROM (SELECT * FROM users WHERE p_before IS NULL OR seq < p_before ORDER BY seq DESC LIMIT v_limit) u;
  -- The cursor is the last position of this page, only when an older row exists.
  IF NOT EXISTS (SELECT 1 FROM users WHERE seq < v_next) THEN
    v_next := NULL;
  END IF;
  PERFORM bank_audit(c, 'users.list', 'success', jsonb_build_object('count', jsonb_array_length(v_items)));
  RETURN jsonb_build_object('status', 200, 'body', jsonb_build_object('items', v_items), 'next', v_next);
END
$$;
REVOKE ALL ON FUNCTION bank_users_list(jsonb, integer, bigint) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_users_list(jsonb, integer, bigint) TO bank_admin;
