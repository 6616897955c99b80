CREATE OR REPLACE FUNCTION bank_account_json(a accounts) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('accountNo', a.account_no, 'name', a.name, 'ownerId', a.user_id,
                            'balance', bank_fmt(a.balance_minor), 'isLocked', a.is_locked,
                            'createdAt', bank_ts(a.created_at))
$$;
REVOKE ALL ON FUNCTION bank_account_json(accounts) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
