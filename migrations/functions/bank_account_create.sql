CREATE OR REPLACE FUNCTION bank_account_create(p_ctx jsonb, p_owner_id uuid, p_name text, p_pin text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_details jsonb := jsonb_build_object('ownerId', p_owner_id, 'name', p_name);
  v_payload text;
  v_try integer := 0;
  v_pin_hash text;
  a accounts;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['teller', 'admin']);
  PERFORM 1 FROM users WHERE id = p_owner_id AND role = 'customer';
  IF NOT FOUND THEN
    RETURN bank_refuse(c, 'accounts.create', 404, 'NOT_FOUND', 'no such customer', v_details);
  END IF;
  -- The PIN is hashed here, so the hash is written in the form this database verifies.
  v_pin_hash := bank_pin_hash(p_pin);
  -- 11 random digits (no leading zero) and a Luhn check digit; retry on the rare collision.
  LOOP
    v_try := v_try + 1;
    IF v_try > 20 THEN
      RAISE EXCEPTION 'bank:INTERNAL could not allocate an account number';
    END IF;
    v_payload := (1 + floor(random() * 9))::integer::text || lpad(floor(random() * 10000000000)::bigint::text, 10, '0');
    INSERT INTO accounts (account_no, name, user_id, pin_hash)
    VALUES (v_payload || bank_luhn_digit(v_payload)::text, p_name, p_owner_id, v_pin_hash)
    ON CONFLICT (account_no) DO NOTHING
    RETURNING * INTO a;
    EXIT WHEN a.id IS NOT NULL;
  END LOOP;
  PERFORM bank_audit(c, 'accounts.create', 'success', v_details || jsonb_build_object('accountNo', a.account_no));
  RETURN jsonb_build_object('status', 201, 'body', bank_account_json(a));
END
$$;
REVOKE ALL ON FUNCTION bank_account_create(jsonb, uuid, text, text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_account_create(jsonb, uuid, text, text) TO bank_teller, bank_admin;
