-- Internal helpers used by the SECURITY DEFINER entry points of 0004. None is granted to an
-- application role: they run only inside an entry point, as its owner.

-- Decimal text of minor units, always two fraction digits ("12.50"); exact, no floats.
CREATE FUNCTION bank_fmt(p_minor bigint) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT ((p_minor::numeric) / 100)::numeric(22, 2)::text
$$;

-- ISO 8601 UTC with milliseconds.
CREATE FUNCTION bank_ts(p_at timestamptz) RETURNS text
LANGUAGE sql STABLE STRICT AS $$
  SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;

-- Luhn check digit for a string of digits (the account number without its last digit).
CREATE FUNCTION bank_luhn_digit(p_payload text) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT ((10 - (sum(
           CASE WHEN (length(p_payload) - i) % 2 = 0
                THEN CASE WHEN d * 2 > 9 THEN d * 2 - 9 ELSE d * 2 END
                ELSE d END) % 10)) % 10)::integer
  FROM (SELECT i, substr(p_payload, i, 1)::integer AS d FROM generate_series(1, length(p_payload)) AS i) AS digits
$$;

-- The caller's tier is the PostgreSQL login role of the session (the secret the Lambda used),
-- never something the caller says about itself.
CREATE FUNCTION bank_tier() RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE session_user::text
           WHEN 'bank_customer' THEN 'customer'
           WHEN 'bank_teller' THEN 'teller'
           WHEN 'bank_admin' THEN 'admin'
         END
$$;

CREATE TYPE bank_caller AS (
  tier text,
  actor_id uuid,
  actor text,
  request_id text,
  ip text,
  user_agent text
);

-- Resolves the request context ({actorId?, actor?, requestId, ip, userAgent}). An actorId must
-- name a user whose role is the session's tier: a customer session cannot act as a teller.
CREATE FUNCTION bank_caller(p_ctx jsonb) RETURNS bank_caller
LANGUAGE plpgsql STABLE AS $$
DECLARE
  c bank_caller;
  v_role text;
  v_actor text;
BEGIN
  c.tier := bank_tier();
  IF c.tier IS NULL THEN
    RAISE EXCEPTION 'bank:FORBIDDEN session role % is not an application role', session_user
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  c.request_id := left(p_ctx ->> 'requestId', 100);
  c.ip := left(p_ctx ->> 'ip', 64);
  c.user_agent := left(p_ctx ->> 'userAgent', 300);
  IF p_ctx ? 'actorId' THEN
    SELECT u.username, u.role INTO v_actor, v_role FROM users u WHERE u.id = (p_ctx ->> 'actorId')::uuid;
    IF NOT FOUND OR v_role <> c.tier THEN
      RAISE EXCEPTION 'bank:UNAUTHENTICATED actor does not match the session tier'
        USING ERRCODE = 'insufficient_privilege';
    END IF;
    c.actor_id := (p_ctx ->> 'actorId')::uuid;
    c.actor := v_actor;
  ELSE
    v_actor := p_ctx ->> 'actor';
    c.actor := CASE WHEN v_actor ~ '^[a-z0-9._-]{3,32}$' THEN v_actor ELSE 'anonymous' END;
  END IF;
  RETURN c;
END
$$;

CREATE FUNCTION bank_audit(c bank_caller, p_action text, p_outcome text, p_details jsonb) RETURNS uuid
LANGUAGE sql AS $$
  INSERT INTO audit_logs (actor, action, outcome, details, ip, user_agent, request_id)
  VALUES (coalesce(c.actor, 'anonymous'), p_action, p_outcome, coalesce(p_details, '{}'::jsonb),
          c.ip, c.user_agent, c.request_id)
  RETURNING id
$$;

-- A refusal: audited, and returned (not raised) so that what it must keep (the audit event, a
-- PIN counter) commits. 401/403/423/429 are denials; the rest are failures.
CREATE FUNCTION bank_refuse(c bank_caller, p_action text, p_status integer, p_code text, p_detail text,
                            p_details jsonb, p_extra jsonb DEFAULT '{}'::jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM bank_audit(c, p_action,
                     CASE WHEN p_status IN (401, 403, 423, 429) THEN 'denied' ELSE 'failed' END,
                     coalesce(p_details, '{}'::jsonb) || jsonb_build_object('status', p_status, 'code', p_code));
  RETURN jsonb_build_object('status', p_status,
                            'error', jsonb_build_object('code', p_code, 'detail', p_detail) || p_extra);
END
$$;

CREATE FUNCTION bank_user_json(u users) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', u.id, 'username', u.username, 'role', u.role, 'createdAt', bank_ts(u.created_at))
$$;

CREATE FUNCTION bank_account_json(a accounts) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('accountNo', a.account_no, 'name', a.name, 'ownerId', a.user_id,
                            'balance', bank_fmt(a.balance_minor), 'isLocked', a.is_locked,
                            'createdAt', bank_ts(a.created_at))
$$;

-- Claims an idempotency key for this request. NULL: go ahead (no key, or key newly claimed; the
-- claim row is part of the caller's transaction). Otherwise the JSON to return: the stored
-- response (a replay) or the 422 for a key reused with another request. A concurrent duplicate
-- blocks on the unique index until the first commits, then replays it.
CREATE FUNCTION bank_idem_claim(c bank_caller, p_route text, p_key text, p_hash text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  r idempotency_keys;
BEGIN
  IF p_key IS NULL THEN
    RETURN NULL;
  END IF;
  INSERT INTO idempotency_keys (user_id, key, route, request_hash)
  VALUES (c.actor_id, p_key, p_route, p_hash)
  ON CONFLICT (user_id, key) DO NOTHING;
  IF FOUND THEN
    RETURN NULL;
  END IF;
  SELECT * INTO r FROM idempotency_keys WHERE user_id = c.actor_id AND key = p_key FOR UPDATE;
  IF r.created_at < now() - interval '24 hours' THEN
    DELETE FROM idempotency_keys WHERE user_id = c.actor_id AND key = p_key;
    INSERT INTO idempotency_keys (user_id, key, route, request_hash) VALUES (c.actor_id, p_key, p_route, p_hash);
    RETURN NULL;
  END IF;
  IF r.route <> p_route OR r.request_hash <> p_hash THEN
    RETURN jsonb_build_object('status', 422, 'error', jsonb_build_object(
      'code', 'IDEMPOTENCY_KEY_REUSED', 'detail', 'this Idempotency-Key was used with a different request'));
  END IF;
  IF r.response IS NULL THEN
    -- Only possible inside the transaction that claimed it; treat as a conflict, never as success.
    RAISE EXCEPTION 'bank:INTERNAL idempotency record without a response';
  END IF;
  RETURN r.response || jsonb_build_object('replayed', true);
END
$$;

CREATE FUNCTION bank_idem_store(c bank_caller, p_key text, p_result jsonb) RETURNS void
LANGUAGE sql AS $$
  UPDATE idempotency_keys SET status_code = (p_result ->> 'status')::integer, response = p_result
  WHERE p_key IS NOT NULL AND user_id = c.actor_id AND key = p_key
$$;

-- A refused movement gives its key back, so a retry after the cause is fixed runs again.
CREATE FUNCTION bank_idem_release(c bank_caller, p_key text) RETURNS void
LANGUAGE sql AS $$
  DELETE FROM idempotency_keys WHERE p_key IS NOT NULL AND user_id = c.actor_id AND key = p_key AND response IS NULL
$$;

CREATE FUNCTION bank_require_tier(c bank_caller, p_tiers text[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT (c.tier = ANY (p_tiers)) THEN
    RAISE EXCEPTION 'bank:FORBIDDEN tier % may not do this', c.tier USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF c.actor_id IS NULL THEN
    RAISE EXCEPTION 'bank:UNAUTHENTICATED no actor' USING ERRCODE = 'insufficient_privilege';
  END IF;
END
$$;

-- Settles one reserved PIN check of a customer's account as correct: the wrong-PIN count
-- starts again. Called under the account's row lock (or as the only lock held).
CREATE FUNCTION bank_pin_settle_correct(p_account_id bigint) RETURNS void
LANGUAGE sql AS $$
  UPDATE accounts SET failed_attempts = 0, pin_checks_in_flight = greatest(pin_checks_in_flight - 1, 0)
  WHERE id = p_account_id
$$;

-- An idempotent replay (or a key reused with another request), audited as such.
CREATE FUNCTION bank_replay(c bank_caller, p_action text, p_details jsonb, p_replay jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM bank_audit(c, p_action, CASE WHEN (p_replay ->> 'status')::integer < 400 THEN 'success' ELSE 'failed' END,
                     p_details || jsonb_build_object('idempotencyKeyReplay', p_replay ? 'replayed',
                                                     'status', (p_replay ->> 'status')::integer));
  RETURN p_replay;
END
$$;
