-- GET /users (teller: customers only; admin: everyone), newest first, optionally by username
-- prefix and role. A teller asking for another role is refused, not given an empty page.
CREATE OR REPLACE FUNCTION bank_users_list(p_ctx jsonb, p_query text, p_role text, p_limit integer, p_before bigint)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_limit integer := least(greatest(coalesce(p_limit, 20), 1), 100);
  v_details jsonb := jsonb_strip_nulls(jsonb_build_object('query', p_query, 'role', p_role));
  v_role text := p_role;
  v_items jsonb;
  v_next bigint;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['teller', 'admin']);
  IF c.tier = 'teller' THEN
    IF coalesce(p_role, 'customer') <> 'customer' THEN
      RETURN bank_refuse(c, 'users.list', 403, 'FORBIDDEN', 'a teller lists customers only', v_details);
    END IF;
    v_role := 'customer';
  END IF;
  -- A prefix compared with left(), not LIKE: no wildcard in the query can widen it.
  SELECT coalesce(jsonb_agg(bank_user_json(u) ORDER BY u.seq DESC), '[]'::jsonb), min(u.seq)
    INTO v_items, v_next
    FROM (SELECT * FROM users
           WHERE (p_before IS NULL OR seq < p_before) AND (v_role IS NULL OR role = v_role)
             AND (p_query IS NULL OR left(username, length(p_query)) = p_query)
           ORDER BY seq DESC LIMIT v_limit) u;
  IF NOT EXISTS (SELECT 1 FROM users WHERE seq < v_next AND (v_role IS NULL OR role = v_role)
                    AND (p_query IS NULL OR left(username, length(p_query)) = p_query)) THEN
    v_next := NULL;
  END IF;
  PERFORM bank_audit(c, 'users.list', 'success', v_details || jsonb_build_object('count', jsonb_array_length(v_items)));
  RETURN jsonb_build_object('status', 200, 'body', jsonb_build_object('items', v_items), 'next', v_next);
END
$$;
REVOKE ALL ON FUNCTION bank_users_list(jsonb, text, text, integer, bigint) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_users_list(jsonb, text, text, integer, bigint) TO bank_teller, bank_admin;
