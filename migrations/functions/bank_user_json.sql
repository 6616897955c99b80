CREATE OR REPLACE FUNCTION bank_user_json(u users) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', u.id, 'username', u.username, 'role', u.role, 'createdAt', bank_ts(u.created_at),
                            'disabled', u.disabled_at IS NOT NULL,
                            'totpEnabled', EXISTS (SELECT 1 FROM user_totp t
                                                    WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL))
$$;
REVOKE ALL ON FUNCTION bank_user_json(users) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
