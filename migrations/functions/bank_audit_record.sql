-- The audit middleware's own record, for requests refused (or failed) before or outside an
-- operation. Only refusals: every success is recorded by its operation, in its transaction, so
-- this door (open to the least role, for anonymous callers) cannot forge a success. The actor
-- is the live session's user when the context names one; otherwise only the name the request
-- claimed (the token's username, or the username a login tried), which the database cannot
-- verify: such events record what was asked, never who acted.
--
-- One event per request (migration 0012): when the request already has its event, this writes
-- nothing and returns NULL. That is the case of an answer lost after the operation committed:
-- the handler saw an error, but the operation's own event (its success, or its refusal) says
-- what happened, and it stands. The unique index on request_id decides atomically: an event of
-- this request whose transaction is still running is waited for (written only if that rolls
-- back), and an operation of this request that comes later fails on the index and rolls back.
CREATE OR REPLACE FUNCTION bank_audit_record(p_ctx jsonb, p_action text, p_outcome text, p_details jsonb) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_anonymous_caller(p_ctx, p_ctx ->> 'actor');
  v_username text;
BEGIN
  IF p_outcome NOT IN ('denied', 'failed') OR p_action !~ '^[a-zA-Z.]{1,40}$' THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED bad audit event';
  END IF;
  -- The login role records refusals of logins only.
  IF session_user::text = 'bank_auth' AND p_action <> 'auth.login' THEN
    RAISE EXCEPTION 'bank:FORBIDDEN bank_auth records login events only' USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT u.username INTO v_username
    FROM sessions s JOIN users u ON u.id = s.user_id
   WHERE s.id_hash = bank_session_hash(p_ctx ->> 'sid') AND s.ended_at IS NULL AND s.expires_at > now();
  IF v_username IS NOT NULL THEN
    c.actor := v_username;
  END IF;
  RETURN bank_audit_if_new(c, p_action, p_outcome, p_details);
END
$$;
REVOKE ALL ON FUNCTION bank_audit_record(jsonb, text, text, jsonb) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
GRANT EXECUTE ON FUNCTION bank_audit_record(jsonb, text, text, jsonb) TO bank_customer, bank_teller, bank_admin, bank_auth;
