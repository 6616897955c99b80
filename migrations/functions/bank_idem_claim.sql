-- Claims an idempotency key for this request. NULL: go ahead (no key, or key newly claimed; the
-- claim row is part of the caller's transaction). Otherwise the JSON to return: the stored
-- response (a replay) or the 422 for a key reused with another request. A concurrent duplicate
-- blocks on the unique index until the first commits, then replays it.
CREATE OR REPLACE FUNCTION bank_idem_claim(c bank_caller, p_route text, p_key text, p_hash text) RETURNS jsonb
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
REVOKE ALL ON FUNCTION bank_idem_claim(bank_caller, text, text, text) FROM PUBLIC, bank_customer, bank_teller, bank_admin, bank_auth;
