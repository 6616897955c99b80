-- Entry points: one SECURITY DEFINER function per operation, so each operation is one Data API
-- call that does its checks, its writes and its audit event in one transaction. Every function
-- re-checks the caller's tier from session_user, whatever the API layer already decided.
-- Results are JSON: {"status", "body"} on success, {"status", "error": {"code", "detail", ...}}
-- for a refusal (already audited); unexpected conditions raise 'bank:CODE ...'.

-- ---------------------------------------------------------------------------------------------
-- Money movements
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION bank_move(p_ctx jsonb, p_kind text, p_account_no text, p_amount_minor bigint, p_memo text,
                          p_pin_verified boolean, p_idem_key text, p_idem_hash text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_action text := CASE p_kind WHEN 'DEPOSIT' THEN 'accounts.deposit' WHEN 'WITHDRAWAL' THEN 'accounts.withdraw' END;
  v_details jsonb;
  v_replay jsonb;
  v_result jsonb;
  a accounts;
  e history;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['customer', 'teller', 'admin']);
  IF v_action IS NULL THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED unknown movement kind';
  END IF;
  -- Limits of API.md: > 0 and at most 1,000,000,000.00 per operation.
  IF p_amount_minor IS NULL OR p_amount_minor <= 0 OR p_amount_minor > 100000000000 THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED amount out of range';
  END IF;
  IF c.tier = 'customer' AND p_pin_verified IS NOT TRUE THEN
    RAISE EXCEPTION 'bank:FORBIDDEN a customer movement needs a verified PIN' USING ERRCODE = 'insufficient_privilege';
  END IF;
  v_details := jsonb_build_object('accountNo', p_account_no, 'amount', bank_fmt(p_amount_minor));

  v_replay := bank_idem_claim(c, v_action, p_idem_key, p_idem_hash);
  IF v_replay IS NOT NULL THEN
    IF p_pin_verified THEN
      -- A duplicate that lost the race still settles its PIN check (the only row lock it takes).
      PERFORM bank_pin_settle_correct(id) FROM accounts WHERE account_no = p_account_no AND user_id = c.actor_id;
    END IF;
    RETURN bank_replay(c, v_action, v_details, v_replay);
  END IF;

  SELECT * INTO a FROM accounts WHERE account_no = p_account_no FOR UPDATE;
  IF NOT FOUND OR (c.tier = 'customer' AND a.user_id <> c.actor_id) THEN
    PERFORM bank_idem_release(c, p_idem_key);
    RETURN bank_refuse(c, v_action, 404, 'NOT_FOUND', 'no such account', v_details);
  END IF;
  IF p_pin_verified THEN
    PERFORM bank_pin_settle_correct(a.id);
  END IF;
  IF a.is_locked THEN
    PERFORM bank_idem_release(c, p_idem_key);
    RETURN bank_refuse(c, v_action, 423, 'ACCOUNT_LOCKED', 'the account is locked', v_details);
  END IF;
  IF p_kind = 'WITHDRAWAL' AND a.balance_minor < p_amount_minor THEN
    PERFORM bank_idem_release(c, p_idem_key);
    RETURN bank_refuse(c, v_action, 422, 'INSUFFICIENT_FUNDS', 'the balance is lower than the amount', v_details);
  END IF;

  UPDATE accounts
     SET balance_minor = balance_minor + CASE p_kind WHEN 'DEPOSIT' THEN p_amount_minor ELSE -p_amount_minor END
   WHERE id = a.id
  RETURNING * INTO a;
  INSERT INTO history (account_id, type, amount_minor, balance_after_minor, memo, actor_id)
  VALUES (a.id, p_kind, p_amount_minor, a.balance_minor, p_memo, c.actor_id)
  RETURNING * INTO e;

  v_result := jsonb_build_object('status', 200, 'body', jsonb_build_object(
    'entryId', e.id, 'accountNo', a.account_no, 'type', p_kind, 'amount', bank_fmt(p_amount_minor),
    'balanceAfter', bank_fmt(e.balance_after_minor), 'createdAt', bank_ts(e.created_at)));
  PERFORM bank_idem_store(c, p_idem_key, v_result);
  PERFORM bank_audit(c, v_action, 'success', v_details || jsonb_build_object('entryId', e.id));
  RETURN v_result;
END
$$;

CREATE FUNCTION bank_transfer(p_ctx jsonb, p_from text, p_to text, p_amount_minor bigint, p_memo text,
                              p_pin_verified boolean, p_idem_key text, p_idem_hash text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_action constant text := 'transfers.create';
  v_details jsonb;
  v_replay jsonb;
  v_result jsonb;
  v_transfer_id uuid := gen_random_uuid();
  r accounts;
  src accounts;
  dst accounts;
  e history;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['customer', 'teller', 'admin']);
  IF p_amount_minor IS NULL OR p_amount_minor <= 0 OR p_amount_minor > 100000000000 THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED amount out of range';
  END IF;
  IF p_from = p_to THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED a transfer needs two different accounts';
  END IF;
  IF c.tier = 'customer' AND p_pin_verified IS NOT TRUE THEN
    RAISE EXCEPTION 'bank:FORBIDDEN a customer movement needs a verified PIN' USING ERRCODE = 'insufficient_privilege';
  END IF;
  v_details := jsonb_build_object('fromAccountNo', p_from, 'toAccountNo', p_to, 'amount', bank_fmt(p_amount_minor));

  v_replay := bank_idem_claim(c, v_action, p_idem_key, p_idem_hash);
  IF v_replay IS NOT NULL THEN
    IF p_pin_verified THEN
      PERFORM bank_pin_settle_correct(id) FROM accounts WHERE account_no = p_from AND user_id = c.actor_id;
    END IF;
    RETURN bank_replay(c, v_action, v_details, v_replay);
  END IF;

  -- Lock both rows in ascending id order: A->B and B->A take the locks in the same order and
  -- so can never deadlock. (LockRows runs above the Sort, so rows are locked in this order.)
  FOR r IN SELECT * FROM accounts WHERE account_no IN (p_from, p_to) ORDER BY id FOR UPDATE LOOP
    IF r.account_no = p_from THEN src := r; ELSE dst := r; END IF;
  END LOOP;
  IF src.id IS NULL OR (c.tier = 'customer' AND src.user_id <> c.actor_id) THEN
    PERFORM bank_idem_release(c, p_idem_key);
    RETURN bank_refuse(c, v_action, 404, 'NOT_FOUND', 'no such source account', v_details);
  END IF;
  -- The PIN was right: its reserved attempt is cleared whatever happens next.
  IF p_pin_verified THEN
    PERFORM bank_pin_settle_correct(src.id);
  END IF;
  IF dst.id IS NULL THEN
    PERFORM bank_idem_release(c, p_idem_key);
    RETURN bank_refuse(c, v_action, 404, 'NOT_FOUND', 'no such destination account', v_details);
  END IF;
  IF src.is_locked OR dst.is_locked THEN
    PERFORM bank_idem_release(c, p_idem_key);
    RETURN bank_refuse(c, v_action, 423, 'ACCOUNT_LOCKED',
                       CASE WHEN src.is_locked THEN 'the source account is locked' ELSE 'the destination account is locked' END,
                       v_details);
  END IF;
  IF src.balance_minor < p_amount_minor THEN
    PERFORM bank_idem_release(c, p_idem_key);
    RETURN bank_refuse(c, v_action, 422, 'INSUFFICIENT_FUNDS', 'the balance is lower than the amount', v_details);
  END IF;

  UPDATE accounts SET balance_minor = balance_minor - p_amount_minor WHERE id = src.id RETURNING * INTO src;
  UPDATE accounts SET balance_minor = balance_minor + p_amount_minor WHERE id = dst.id RETURNING * INTO dst;
  INSERT INTO history (account_id, type, amount_minor, balance_after_minor, counterparty_account_id, transfer_id, memo, actor_id)
  VALUES (src.id, 'TRANSFER_OUT', p_amount_minor, src.balance_minor, dst.id, v_transfer_id, p_memo, c.actor_id)
  RETURNING * INTO e;
  INSERT INTO history (account_id, type, amount_minor, balance_after_minor, counterparty_account_id, transfer_id, memo, actor_id)
  VALUES (dst.id, 'TRANSFER_IN', p_amount_minor, dst.balance_minor, src.id, v_transfer_id, p_memo, c.actor_id);

  v_result := jsonb_build_object('status', 201, 'body', jsonb_build_object(
    'transferId', v_transfer_id, 'fromAccountNo', src.account_no, 'toAccountNo', dst.account_no,
    'amount', bank_fmt(p_amount_minor), 'fromBalanceAfter', bank_fmt(src.balance_minor),
    'createdAt', bank_ts(e.created_at)));
  PERFORM bank_idem_store(c, p_idem_key, v_result);
  PERFORM bank_audit(c, v_action, 'success', v_details || jsonb_build_object('transferId', v_transfer_id));
  RETURN v_result;
END
$$;

-- ---------------------------------------------------------------------------------------------
-- PIN attempts: reserved under the row lock BEFORE the bcrypt comparison, so a burst of
-- concurrent guesses gets at most p_max_attempts comparisons (judged wrong ones plus checks in
-- flight never exceed it). A correct PIN is settled by the movement (count back to 0); a wrong
-- one by bank_pin_failed, which locks the account when the count reaches the limit.
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION bank_pin_reserve(p_ctx jsonb, p_action text, p_account_no text, p_max_attempts integer,
                                 p_idem_key text, p_idem_hash text, p_details jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_max integer := least(greatest(coalesce(p_max_attempts, 3), 1), 10);
  k idempotency_keys;
  a accounts;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['customer']);
  IF p_action NOT IN ('accounts.deposit', 'accounts.withdraw', 'transfers.create') THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED unknown action';
  END IF;
  -- A replay needs no PIN: the first request proved it, and the replay moves nothing.
  IF p_idem_key IS NOT NULL THEN
    SELECT * INTO k FROM idempotency_keys
     WHERE user_id = c.actor_id AND key = p_idem_key AND created_at >= now() - interval '24 hours';
    IF FOUND AND k.response IS NOT NULL THEN
      IF k.route <> p_action OR k.request_hash <> p_idem_hash THEN
        RETURN bank_refuse(c, p_action, 422, 'IDEMPOTENCY_KEY_REUSED',
                           'this Idempotency-Key was used with a different request', p_details);
      END IF;
      PERFORM bank_audit(c, p_action, CASE WHEN k.status_code < 400 THEN 'success' ELSE 'failed' END,
                         p_details || jsonb_build_object('idempotencyKeyReplay', true, 'status', k.status_code));
      RETURN k.response || jsonb_build_object('replayed', true);
    END IF;
  END IF;

  SELECT * INTO a FROM accounts WHERE account_no = p_account_no FOR UPDATE;
  IF NOT FOUND OR a.user_id <> c.actor_id THEN
    RETURN bank_refuse(c, p_action, 404, 'NOT_FOUND', 'no such account', p_details);
  END IF;
  IF a.is_locked THEN
    RETURN bank_refuse(c, p_action, 423, 'ACCOUNT_LOCKED', 'the account is locked', p_details);
  END IF;
  -- Checks reserved over a minute ago were never judged (the caller died): they count as wrong.
  IF a.pin_checks_in_flight > 0 AND a.pin_checked_at < now() - interval '60 seconds' THEN
    UPDATE accounts
       SET failed_attempts = failed_attempts + pin_checks_in_flight, pin_checks_in_flight = 0
     WHERE id = a.id
    RETURNING * INTO a;
  END IF;
  IF a.failed_attempts >= v_max THEN
    UPDATE accounts SET is_locked = true, locked_reason = 'too many wrong PINs' WHERE id = a.id;
    RETURN bank_refuse(c, p_action, 423, 'ACCOUNT_LOCKED', 'the account is locked', p_details);
  END IF;
  IF a.failed_attempts + a.pin_checks_in_flight >= v_max THEN
    -- Every remaining attempt is held by a check still running; they decide whether it locks.
    RETURN bank_refuse(c, p_action, 423, 'ACCOUNT_LOCKED',
                       'PIN checks are in progress on this account; try again shortly', p_details);
  END IF;
  UPDATE accounts SET pin_checks_in_flight = pin_checks_in_flight + 1, pin_checked_at = now() WHERE id = a.id;
  RETURN jsonb_build_object('status', 100, 'reserved', true, 'pinHash', a.pin_hash);
END
$$;

CREATE FUNCTION bank_pin_failed(p_ctx jsonb, p_action text, p_account_no text, p_max_attempts integer,
                                p_details jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_max integer := least(greatest(coalesce(p_max_attempts, 3), 1), 10);
  v_remaining integer;
  a accounts;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['customer']);
  UPDATE accounts
     SET failed_attempts = failed_attempts + 1, pin_checks_in_flight = greatest(pin_checks_in_flight - 1, 0)
   WHERE account_no = p_account_no AND user_id = c.actor_id
  RETURNING * INTO a;
  IF a.id IS NULL THEN
    RETURN bank_refuse(c, p_action, 404, 'NOT_FOUND', 'no such account', p_details);
  END IF;
  IF a.failed_attempts >= v_max AND NOT a.is_locked THEN
    UPDATE accounts SET is_locked = true, locked_reason = 'too many wrong PINs' WHERE id = a.id;
  END IF;
  v_remaining := greatest(v_max - a.failed_attempts, 0);
  RETURN bank_refuse(c, p_action, 403, 'INVALID_PIN', 'the PIN is wrong',
                     p_details || jsonb_build_object('attemptsRemaining', v_remaining),
                     jsonb_build_object('attemptsRemaining', v_remaining));
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Login: rate limit and password hash in one call, the verdict in a second.
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION bank_login_begin(p_ctx jsonb, p_username text, p_user_failures_max integer,
                                 p_ip_failures_max integer, p_window_s integer) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx || jsonb_build_object('actor', p_username));
  v_window interval := make_interval(secs => least(greatest(p_window_s, 1), 86400));
  v_ip text := coalesce(c.ip, 'unknown');
  v_since timestamptz;
  v_user_failures integer;
  v_ip_failures integer;
  v_oldest timestamptz;
  v_retry integer;
  v_attempt uuid;
  u users;
BEGIN
  IF c.tier <> 'customer' THEN
    RAISE EXCEPTION 'bank:FORBIDDEN login runs as bank_customer' USING ERRCODE = 'insufficient_privilege';
  END IF;
  -- Serialise attempts per username and per IP so a burst cannot overshoot the limits.
  PERFORM pg_advisory_xact_lock(1, hashtext(p_username));
  PERFORM pg_advisory_xact_lock(2, hashtext(v_ip));
  SELECT max(created_at) INTO v_since FROM login_attempts
   WHERE username = p_username AND succeeded AND created_at > now() - v_window;
  v_since := greatest(coalesce(v_since, '-infinity'::timestamptz), now() - v_window);
  SELECT count(*), min(created_at) INTO v_user_failures, v_oldest FROM login_attempts
   WHERE username = p_username AND succeeded IS NOT TRUE AND created_at > v_since;
  IF v_user_failures >= p_user_failures_max THEN
    v_retry := greatest(1, ceil(extract(epoch FROM (v_oldest + v_window - now())))::integer);
  ELSE
    SELECT count(*), min(created_at) INTO v_ip_failures, v_oldest FROM login_attempts
     WHERE ip = v_ip AND succeeded IS NOT TRUE AND created_at > now() - v_window;
    IF v_ip_failures >= p_ip_failures_max THEN
      v_retry := greatest(1, ceil(extract(epoch FROM (v_oldest + v_window - now())))::integer);
    END IF;
  END IF;
  IF v_retry IS NOT NULL THEN
    RETURN bank_refuse(c, 'auth.login', 429, 'RATE_LIMITED', 'too many failed logins; try again later',
                       jsonb_build_object('retryAfter', v_retry), jsonb_build_object('retryAfter', v_retry));
  END IF;
  INSERT INTO login_attempts (username, ip) VALUES (p_username, v_ip) RETURNING id INTO v_attempt;
  SELECT * INTO u FROM users WHERE username = p_username;
  RETURN jsonb_build_object('status', 100, 'attemptId', v_attempt,
                            'user', CASE WHEN u.id IS NULL THEN NULL ELSE bank_user_json(u) END,
                            'passwordHash', u.password_hash);
END
$$;

CREATE FUNCTION bank_login_finish(p_ctx jsonb, p_attempt_id uuid, p_success boolean) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_username text;
BEGIN
  IF c.tier <> 'customer' THEN
    RAISE EXCEPTION 'bank:FORBIDDEN login runs as bank_customer' USING ERRCODE = 'insufficient_privilege';
  END IF;
  UPDATE login_attempts SET succeeded = p_success WHERE id = p_attempt_id AND succeeded IS NULL
  RETURNING username INTO v_username;
  IF v_username IS NULL THEN
    RAISE EXCEPTION 'bank:INTERNAL unknown or finished login attempt';
  END IF;
  -- Same rule as bank_caller: a name that cannot be a username is recorded as 'anonymous'.
  c.actor := CASE WHEN v_username ~ '^[a-z0-9._-]{3,32}$' THEN v_username ELSE 'anonymous' END;
  IF p_success THEN
    PERFORM bank_audit(c, 'auth.login', 'success', '{}'::jsonb);
    RETURN jsonb_build_object('status', 200);
  END IF;
  RETURN bank_refuse(c, 'auth.login', 401, 'UNAUTHENTICATED', 'wrong username or password', '{}'::jsonb);
END
$$;

-- The audit middleware's own record, for requests refused (or failed) before or outside an
-- operation. Only refusals: every success is recorded by its operation, in its transaction, so
-- this door (open to the least role, for anonymous callers) cannot forge a success.
CREATE FUNCTION bank_audit_record(p_ctx jsonb, p_action text, p_outcome text, p_details jsonb) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
BEGIN
  IF p_outcome NOT IN ('denied', 'failed') OR p_action !~ '^[a-zA-Z.]{1,40}$' THEN
    RAISE EXCEPTION 'bank:VALIDATION_FAILED bad audit event';
  END IF;
  RETURN bank_audit(c, p_action, p_outcome, p_details);
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Users
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION bank_me(p_ctx jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  u users;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['customer', 'teller', 'admin']);
  SELECT * INTO u FROM users WHERE id = c.actor_id;
  PERFORM bank_audit(c, 'me.get', 'success', '{}'::jsonb);
  RETURN jsonb_build_object('status', 200, 'body', bank_user_json(u));
END
$$;

CREATE FUNCTION bank_user_create(p_ctx jsonb, p_username text, p_password_hash text, p_role text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_details jsonb := jsonb_build_object('username', p_username, 'role', p_role);
  u users;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['teller', 'admin']);
  IF c.tier = 'teller' AND p_role <> 'customer' THEN
    RETURN bank_refuse(c, 'users.create', 403, 'FORBIDDEN', 'a teller may create customers only', v_details);
  END IF;
  INSERT INTO users (username, password_hash, role) VALUES (p_username, p_password_hash, p_role)
  ON CONFLICT (username) DO NOTHING
  RETURNING * INTO u;
  IF u.id IS NULL THEN
    RETURN bank_refuse(c, 'users.create', 409, 'CONFLICT', 'the username is taken', v_details);
  END IF;
  PERFORM bank_audit(c, 'users.create', 'success', v_details || jsonb_build_object('userId', u.id));
  RETURN jsonb_build_object('status', 201, 'body', bank_user_json(u));
END
$$;

-- Bootstrap of the first admin (local start, `npm run admin:create`): owner role only.
CREATE FUNCTION bank_create_user(p_username text, p_password_hash text, p_role text) RETURNS boolean
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
  v_id uuid;
BEGIN
  INSERT INTO users (username, password_hash, role) VALUES (p_username, p_password_hash, p_role)
  ON CONFLICT (username) DO NOTHING
  RETURNING id INTO v_id;
  IF v_id IS NOT NULL THEN
    INSERT INTO audit_logs (actor, action, outcome, details)
    VALUES ('system', 'users.bootstrap', 'success', jsonb_build_object('username', p_username, 'role', p_role, 'userId', v_id));
  END IF;
  RETURN v_id IS NOT NULL;
END
$$;

CREATE FUNCTION bank_users_list(p_ctx jsonb, p_limit integer, p_before bigint) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_limit integer := least(greatest(coalesce(p_limit, 20), 1), 100);
  v_items jsonb;
  v_next bigint;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['admin']);
  SELECT coalesce(jsonb_agg(bank_user_json(u) ORDER BY u.seq DESC), '[]'::jsonb), min(u.seq)
    INTO v_items, v_next
    FROM (SELECT * FROM users WHERE p_before IS NULL OR seq < p_before ORDER BY seq DESC LIMIT v_limit) u;
  -- The cursor is the last position of this page, only when an older row exists.
  IF NOT EXISTS (SELECT 1 FROM users WHERE seq < v_next) THEN
    v_next := NULL;
  END IF;
  PERFORM bank_audit(c, 'users.list', 'success', jsonb_build_object('count', jsonb_array_length(v_items)));
  RETURN jsonb_build_object('status', 200, 'body', jsonb_build_object('items', v_items), 'next', v_next);
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Accounts
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION bank_account_create(p_ctx jsonb, p_owner_id uuid, p_name text, p_pin_hash text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_details jsonb := jsonb_build_object('ownerId', p_owner_id, 'name', p_name);
  v_payload text;
  v_try integer := 0;
  a accounts;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['teller', 'admin']);
  PERFORM 1 FROM users WHERE id = p_owner_id AND role = 'customer';
  IF NOT FOUND THEN
    RETURN bank_refuse(c, 'accounts.create', 404, 'NOT_FOUND', 'no such customer', v_details);
  END IF;
  -- 11 random digits (no leading zero) and a Luhn check digit; retry on the rare collision.
  LOOP
    v_try := v_try + 1;
    IF v_try > 20 THEN
      RAISE EXCEPTION 'bank:INTERNAL could not allocate an account number';
    END IF;
    v_payload := (1 + floor(random() * 9))::integer::text || lpad(floor(random() * 10000000000)::bigint::text, 10, '0');
    INSERT INTO accounts (account_no, name, user_id, pin_hash)
    VALUES (v_payload || bank_luhn_digit(v_payload)::text, p_name, p_owner_id, p_pin_hash)
    ON CONFLICT (account_no) DO NOTHING
    RETURNING * INTO a;
    EXIT WHEN a.id IS NOT NULL;
  END LOOP;
  PERFORM bank_audit(c, 'accounts.create', 'success', v_details || jsonb_build_object('accountNo', a.account_no));
  RETURN jsonb_build_object('status', 201, 'body', bank_account_json(a));
END
$$;

CREATE FUNCTION bank_accounts_list(p_ctx jsonb, p_owner_id uuid, p_limit integer, p_before bigint) RETURNS jsonb
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

CREATE FUNCTION bank_account_get(p_ctx jsonb, p_account_no text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_details jsonb := jsonb_build_object('accountNo', p_account_no);
  a accounts;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['customer', 'teller', 'admin']);
  SELECT * INTO a FROM accounts WHERE account_no = p_account_no;
  IF NOT FOUND OR (c.tier = 'customer' AND a.user_id <> c.actor_id) THEN
    RETURN bank_refuse(c, 'accounts.get', 404, 'NOT_FOUND', 'no such account', v_details);
  END IF;
  PERFORM bank_audit(c, 'accounts.get', 'success', v_details);
  RETURN jsonb_build_object('status', 200, 'body', bank_account_json(a));
END
$$;

CREATE FUNCTION bank_account_history(p_ctx jsonb, p_account_no text, p_limit integer, p_before bigint) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_limit integer := least(greatest(coalesce(p_limit, 20), 1), 100);
  v_details jsonb := jsonb_build_object('accountNo', p_account_no);
  v_items jsonb;
  v_next bigint;
  a accounts;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['customer', 'teller', 'admin']);
  SELECT * INTO a FROM accounts WHERE account_no = p_account_no;
  IF NOT FOUND OR (c.tier = 'customer' AND a.user_id <> c.actor_id) THEN
    RETURN bank_refuse(c, 'accounts.history', 404, 'NOT_FOUND', 'no such account', v_details);
  END IF;
  SELECT coalesce(jsonb_agg(jsonb_build_object(
           'entryId', h.id, 'type', h.type, 'amount', bank_fmt(h.amount_minor),
           'balanceAfter', bank_fmt(h.balance_after_minor), 'counterpartyAccountNo', cp.account_no,
           'memo', h.memo, 'transferId', h.transfer_id, 'createdAt', bank_ts(h.created_at))
           ORDER BY h.seq DESC), '[]'::jsonb), min(h.seq)
    INTO v_items, v_next
    FROM (SELECT * FROM history WHERE account_id = a.id AND (p_before IS NULL OR seq < p_before)
           ORDER BY seq DESC LIMIT v_limit) h
    LEFT JOIN accounts cp ON cp.id = h.counterparty_account_id;
  IF NOT EXISTS (SELECT 1 FROM history WHERE account_id = a.id AND seq < v_next) THEN
    v_next := NULL;
  END IF;
  PERFORM bank_audit(c, 'accounts.history', 'success', v_details || jsonb_build_object('count', jsonb_array_length(v_items)));
  RETURN jsonb_build_object('status', 200, 'body', jsonb_build_object('items', v_items), 'next', v_next);
END
$$;

CREATE FUNCTION bank_account_lock(p_ctx jsonb, p_account_no text, p_reason text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_details jsonb := jsonb_build_object('accountNo', p_account_no, 'reason', p_reason);
  a accounts;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['teller', 'admin']);
  UPDATE accounts SET is_locked = true, locked_reason = p_reason WHERE account_no = p_account_no RETURNING * INTO a;
  IF a.id IS NULL THEN
    RETURN bank_refuse(c, 'accounts.lock', 404, 'NOT_FOUND', 'no such account', v_details);
  END IF;
  PERFORM bank_audit(c, 'accounts.lock', 'success', v_details);
  RETURN jsonb_build_object('status', 200, 'body', bank_account_json(a));
END
$$;

CREATE FUNCTION bank_account_unlock(p_ctx jsonb, p_account_no text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_details jsonb := jsonb_build_object('accountNo', p_account_no);
  a accounts;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['teller', 'admin']);
  UPDATE accounts SET is_locked = false, locked_reason = NULL, failed_attempts = 0, pin_checks_in_flight = 0
   WHERE account_no = p_account_no RETURNING * INTO a;
  IF a.id IS NULL THEN
    RETURN bank_refuse(c, 'accounts.unlock', 404, 'NOT_FOUND', 'no such account', v_details);
  END IF;
  PERFORM bank_audit(c, 'accounts.unlock', 'success', v_details);
  RETURN jsonb_build_object('status', 200, 'body', bank_account_json(a));
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Audit trail (admins)
-- ---------------------------------------------------------------------------------------------

CREATE FUNCTION bank_audit_list(p_ctx jsonb, p_actor text, p_action text, p_outcome text,
                                p_limit integer, p_before bigint) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  c bank_caller := bank_caller(p_ctx);
  v_limit integer := least(greatest(coalesce(p_limit, 20), 1), 100);
  v_items jsonb;
  v_next bigint;
BEGIN
  PERFORM bank_require_tier(c, ARRAY['admin']);
  SELECT coalesce(jsonb_agg(jsonb_build_object(
           'id', l.id, 'actor', l.actor, 'action', l.action, 'outcome', l.outcome, 'details', l.details,
           'ip', l.ip, 'userAgent', l.user_agent, 'requestId', l.request_id, 'createdAt', bank_ts(l.created_at))
           ORDER BY l.seq DESC), '[]'::jsonb), min(l.seq)
    INTO v_items, v_next
    FROM (SELECT * FROM audit_logs
           WHERE (p_actor IS NULL OR actor = p_actor) AND (p_action IS NULL OR action = p_action)
             AND (p_outcome IS NULL OR outcome = p_outcome) AND (p_before IS NULL OR seq < p_before)
           ORDER BY seq DESC LIMIT v_limit) l;
  IF NOT EXISTS (SELECT 1 FROM audit_logs
                  WHERE (p_actor IS NULL OR actor = p_actor) AND (p_action IS NULL OR action = p_action)
                    AND (p_outcome IS NULL OR outcome = p_outcome) AND seq < v_next) THEN
    v_next := NULL;
  END IF;
  -- Recorded after the read, so a page never contains its own request.
  PERFORM bank_audit(c, 'auditLogs.list', 'success',
                     jsonb_strip_nulls(jsonb_build_object('actor', p_actor, 'action', p_action, 'outcome', p_outcome)));
  RETURN jsonb_build_object('status', 200, 'body', jsonb_build_object('items', v_items), 'next', v_next);
END
$$;

-- ---------------------------------------------------------------------------------------------
-- Grants: the SQL half of the RBAC table (shared/auth/policy.ts is the API half).
-- ---------------------------------------------------------------------------------------------
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;

GRANT EXECUTE ON FUNCTION
  bank_login_begin(jsonb, text, integer, integer, integer),
  bank_login_finish(jsonb, uuid, boolean),
  bank_pin_reserve(jsonb, text, text, integer, text, text, jsonb),
  bank_pin_failed(jsonb, text, text, integer, jsonb)
TO bank_customer;

GRANT EXECUTE ON FUNCTION
  bank_audit_record(jsonb, text, text, jsonb),
  bank_me(jsonb),
  bank_accounts_list(jsonb, uuid, integer, bigint),
  bank_account_get(jsonb, text),
  bank_account_history(jsonb, text, integer, bigint),
  bank_move(jsonb, text, text, bigint, text, boolean, text, text),
  bank_transfer(jsonb, text, text, bigint, text, boolean, text, text)
TO bank_customer, bank_teller, bank_admin;

GRANT EXECUTE ON FUNCTION
  bank_user_create(jsonb, text, text, text),
  bank_account_create(jsonb, uuid, text, text),
  bank_account_lock(jsonb, text, text),
  bank_account_unlock(jsonb, text)
TO bank_teller, bank_admin;

GRANT EXECUTE ON FUNCTION
  bank_users_list(jsonb, integer, bigint),
  bank_audit_list(jsonb, text, text, text, integer, bigint)
TO bank_admin;
