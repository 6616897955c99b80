-- POST /me/totp: a new 20-byte secret (pgcrypto's random bytes), pending until confirmed with a
-- code; it replaces a pending one. The secret is handed to its owner this once (base32, for the
-- authenticator app) and is never returned again. An enrolled user must disable first.
CREATE OR REPLACE FUNCTION bank_totp_enrol(p_ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_secret bytea := gen_random_bytes(20);
  t user_totp;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['customer', 'teller', 'admin']);
  SELECT * INTO t FROM user_totp WHERE user_id = c.actor_id FOR UPDATE;
  IF t.confirmed_at IS NOT NULL THEN
    RETURN bank_refuse(c, 'me.totp.enrol', 409, 'CONFLICT', 'an authenticator is enrolled; disable it first', '{}'::jsonb);
  END IF;
  -- A replaced pending secret keeps its wrong-code count and block: re-enrolling is no way around them.
  INSERT INTO user_totp (user_id, secret) VALUES (c.actor_id, v_secret)
  ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, last_step = NULL, created_at = now();
  PERFORM bank_audit(c, 'me.totp.enrol', 'success', '{}'::jsonb);
  RETURN jsonb_build_object('status', 201, 'body', jsonb_build_object('secret', bank_base32(v_secret)),
                            'username', c.actor);
END
$$;
REVOKE ALL ON FUNCTION bank_totp_enrol(jsonb) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_totp_enrol(jsonb) TO bank_customer, bank_teller, bank_admin;
