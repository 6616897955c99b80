-- The user an admin or teller acts on, locked (FOR UPDATE) for the rest of the transaction, with
-- the rules every credential route shares: the user must exist (404), a teller reaches
-- customers only (403), and "not self" where the route says so (403). NULL target and a refusal
-- when refused.
CREATE OR REPLACE FUNCTION bank_user_target(c bank_caller, p_user_id uuid, p_action text, p_not_self boolean,
                                            OUT target users, OUT refusal jsonb)
LANGUAGE plpgsql AS $$
DECLARE
  v_details jsonb := jsonb_build_object('userId', p_user_id);
BEGIN
  SELECT * INTO target FROM users WHERE id = p_user_id FOR UPDATE;
  IF target.id IS NULL THEN
    refusal := bank_refuse(c, p_action, 404, 'NOT_FOUND', 'no such user', v_details);
  ELSIF c.tier = 'teller' AND target.role <> 'customer' THEN
    refusal := bank_refuse(c, p_action, 403, 'FORBIDDEN', 'a teller acts on customers only', v_details);
  ELSIF p_not_self AND target.id = c.actor_id THEN
    refusal := bank_refuse(c, p_action, 403, 'FORBIDDEN', 'not on your own user', v_details);
  END IF;
  IF refusal IS NOT NULL THEN
    target := NULL;
  END IF;
END
$$;
REVOKE ALL ON FUNCTION bank_user_target(bank_caller, uuid, text, boolean) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
