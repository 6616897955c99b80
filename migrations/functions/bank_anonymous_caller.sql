-- A caller without a session (login, and refusals recorded by the audit middleware): the actor
-- is only a name to file the event under, never an identity anything is decided on. A name that
-- cannot be a username is recorded as 'anonymous'.
CREATE OR REPLACE FUNCTION bank_anonymous_caller(p_ctx jsonb, p_actor text) RETURNS bank_caller
LANGUAGE plpgsql STABLE AS $$
DECLARE
  c bank_caller;
BEGIN
  c.tier := bank_tier();
  c.request_id := left(p_ctx ->> 'requestId', 100);
  c.ip := left(p_ctx ->> 'ip', 64);
  c.user_agent := left(p_ctx ->> 'userAgent', 300);
  c.actor := CASE WHEN p_actor ~ '^[a-z0-9._-]{3,32}$' THEN p_actor ELSE 'anonymous' END;
  RETURN c;
END
$$;
REVOKE ALL ON FUNCTION bank_anonymous_caller(jsonb, text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
