-- Core tables. Money is integer minor units (cents) in bigint; never float, never numeric on the
-- hot path. Every table is closed to PUBLIC; application roles reach rows only through the
-- SECURITY DEFINER functions of 0004 (and bank_admin's read grants below).

CREATE TABLE users (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  username text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9._-]{3,32}$'),
  password_hash text NOT NULL CHECK (password_hash LIKE '$2%'),
  role text NOT NULL CHECK (role IN ('customer', 'teller', 'admin')),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE accounts (
  -- Rows are locked in ascending id order by every money movement (no A->B / B->A deadlock).
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_no text NOT NULL UNIQUE CHECK (account_no ~ '^[0-9]{12}$'),
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
  user_id uuid NOT NULL REFERENCES users (id),
  pin_hash text NOT NULL CHECK (pin_hash LIKE '$2%'),
  balance_minor bigint NOT NULL DEFAULT 0 CHECK (balance_minor >= 0),
  -- Consecutive wrong PINs (judged).
  failed_attempts integer NOT NULL DEFAULT 0 CHECK (failed_attempts BETWEEN 0 AND 1000),
  -- PIN comparisons reserved and not yet judged; attempts + these never exceed the limit.
  pin_checks_in_flight integer NOT NULL DEFAULT 0 CHECK (pin_checks_in_flight BETWEEN 0 AND 100),
  pin_checked_at timestamptz,
  is_locked boolean NOT NULL DEFAULT false,
  locked_reason text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX accounts_user_id_idx ON accounts (user_id, id DESC);

-- The append-only ledger. Each movement writes one entry per account touched, with the
-- balance after it, so balance = sum of signed entries for every account at all times.
CREATE TABLE history (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  account_id bigint NOT NULL REFERENCES accounts (id),
  type text NOT NULL CHECK (type IN ('DEPOSIT', 'WITHDRAWAL', 'TRANSFER_IN', 'TRANSFER_OUT')),
  amount_minor bigint NOT NULL CHECK (amount_minor > 0),
  balance_after_minor bigint NOT NULL CHECK (balance_after_minor >= 0),
  counterparty_account_id bigint REFERENCES accounts (id),
  transfer_id uuid,
  memo text,
  actor_id uuid NOT NULL REFERENCES users (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((type IN ('TRANSFER_IN', 'TRANSFER_OUT')) = (transfer_id IS NOT NULL AND counterparty_account_id IS NOT NULL))
);
CREATE INDEX history_account_idx ON history (account_id, seq DESC);

CREATE TABLE audit_logs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  actor text NOT NULL,
  action text NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('success', 'denied', 'failed')),
  details jsonb NOT NULL DEFAULT '{}'::jsonb,
  ip text,
  user_agent text,
  request_id text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_logs_actor_idx ON audit_logs (actor, seq DESC);
CREATE INDEX audit_logs_action_idx ON audit_logs (action, seq DESC);

-- Idempotency records: one per (user, key), bound to a hash of the request.
CREATE TABLE idempotency_keys (
  user_id uuid NOT NULL REFERENCES users (id),
  key text NOT NULL CHECK (length(key) BETWEEN 1 AND 100),
  route text NOT NULL,
  request_hash text NOT NULL,
  status_code integer,
  response jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- Login attempts for rate limiting; stored here so the limit holds across Lambda instances.
-- succeeded IS NULL while the password comparison is in flight (reserved, counted as a failure).
CREATE TABLE login_attempts (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  username text NOT NULL,
  ip text NOT NULL,
  succeeded boolean,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_username_idx ON login_attempts (username, created_at DESC);
CREATE INDEX login_attempts_ip_idx ON login_attempts (ip, created_at DESC);

-- Append-only: nobody, owners included, may rewrite the ledger or the audit trail.
CREATE FUNCTION bank_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'bank:APPEND_ONLY % on % is not allowed', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER history_append_only BEFORE UPDATE OR DELETE ON history
  FOR EACH ROW EXECUTE FUNCTION bank_refuse_change();
CREATE TRIGGER history_no_truncate BEFORE TRUNCATE ON history
  FOR EACH STATEMENT EXECUTE FUNCTION bank_refuse_change();
CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs
  FOR EACH ROW EXECUTE FUNCTION bank_refuse_change();
CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs
  FOR EACH STATEMENT EXECUTE FUNCTION bank_refuse_change();

REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM PUBLIC;

-- bank_admin reads users (never hashes) and the audit trail directly; nothing else is granted.
GRANT SELECT (id, seq, username, role, created_at) ON users TO bank_admin;
GRANT SELECT ON audit_logs TO bank_admin;
