CREATE OR REPLACE FUNCTION bank_accounts_list(p_ctx jsonb, p_owner_id uuid, p_limit integer, p_before bigint) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_limit integer := least(greatest(coalesce(p_limit, 20), 1), 100);
  v_owner uuid := p_owner_id;
  v_items jsonb;
  v_next bigint;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['customer', 'teller', 'admin']);
  IF c.tier = 'customer' THEN
    -- A customer sees their own accounts only; naming another owner yields nothing.
    IF v_owner IS NOT NULL AND v_owner <> c.actor_id THEN
      v_owner := '00000000-0000-0000-0000-000000000000';
    ELSE
      v_owner := c.actor_id;
    END IF;
  END IF;
  SELECT coalesce(jsonb_agg(bank_account_json(a) ORDER BY a.id DESC), '[]'::jsonb), min(a.id)
    INTO v_items, v_next
    FROM (SELECT * FROM accounts
           WHERE (v_owner IS NULL OR user_id = v_owner) AND (p_before IS NULL OR id < p_before)
           ORDER BY id DESC LIMIT v_limit) a;
  IF NOT EXISTS (SELECT 1 FROM accounts WHERE (v_owner IS NULL OR user_id = v_owner) AND id < v_next) THEN
    v_next := NULL;
  END IF;
  PERFORM bank_audit(c, 'accounts.list', 'success',
                     jsonb_build_object('ownerId', p_owner_id, 'count', jsonb_array_length(v_items)));
  RETURN jsonb_build_object('status', 200, 'body', jsonb_build_object('items', v_items), 'next', v_next);
END
$$;
REVOKE ALL ON FUNCTION bank_accounts_list(jsonb, uuid, integer, bigint) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_accounts_list(jsonb, uuid, integer, bigint) TO bank_customer, bank_teller, bank_admin;
