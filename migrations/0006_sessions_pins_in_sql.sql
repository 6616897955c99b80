-- The database trusts no caller (sessions, PIN verdicts and hashes in the database).
-- Forward-only part: tables, roles, data conversions, and dropping every function signature of
-- 0001-0004 that migrations/functions/ replaces. The functions themselves are re-created from
-- migrations/functions/<name>.sql by the migration runner right after this file, in the same
-- transaction (re-applied whenever a file's checksum changes).

-- pgcrypto: crypt() and gen_salt('bf') compare and write PIN hashes inside the movement's own
-- transaction; gen_random_bytes() makes session ids. Available locally and on Aurora.
CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- bank_auth: the login-only role. It alone may read a password hash (to compare it, in the
-- auth-login function, where bcrypt scales out instead of loading the Aurora writer), and it may
-- do nothing else. Only auth-login holds its secret.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bank_auth') THEN
    CREATE ROLE bank_auth LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT CONNECTION LIMIT 200;
  END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO bank_auth;

-- Login sessions. The session id (the token's `sid`) is 32 random bytes, base64url; only its
-- SHA-256 is stored, so a read of this table gives nobody a usable session.
CREATE TABLE sessions (
  id_hash bytea PRIMARY KEY CHECK (length(id_hash) = 32),
  user_id uuid NOT NULL REFERENCES users (id),
  role text NOT NULL CHECK (role IN ('customer', 'teller', 'admin')),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  ended_at timestamptz,
  CHECK (expires_at > created_at AND expires_at <= created_at + interval '8 hours'),
  CHECK (ended_at IS NULL OR ended_at >= created_at)
);
CREATE INDEX sessions_user_idx ON sessions (user_id) WHERE ended_at IS NULL;
REVOKE ALL ON sessions FROM PUBLIC;

-- Every signature replaced or removed by migrations/functions/ (the replacements take a session
-- instead of an actor id, and a PIN instead of a "PIN verified" flag).
DROP FUNCTION IF EXISTS bank_move(jsonb, text, text, bigint, text, boolean, text, text);
DROP FUNCTION IF EXISTS bank_transfer(jsonb, text, text, bigint, text, boolean, text, text);
DROP FUNCTION IF EXISTS bank_pin_reserve(jsonb, text, text, integer, text, text, jsonb);
DROP FUNCTION IF EXISTS bank_pin_failed(jsonb, text, text, integer, jsonb);
DROP FUNCTION IF EXISTS bank_pin_settle_correct(bigint);
DROP FUNCTION IF EXISTS bank_login_begin(jsonb, text, integer, integer, integer);
DROP FUNCTION IF EXISTS bank_login_finish(jsonb, uuid, boolean);
DROP FUNCTION IF EXISTS bank_audit_record(jsonb, text, text, jsonb);
DROP FUNCTION IF EXISTS bank_me(jsonb);
DROP FUNCTION IF EXISTS bank_user_create(jsonb, text, text, text);
DROP FUNCTION IF EXISTS bank_create_user(text, text, text);
DROP FUNCTION IF EXISTS bank_users_list(jsonb, integer, bigint);
DROP FUNCTION IF EXISTS bank_account_create(jsonb, uuid, text, text);
DROP FUNCTION IF EXISTS bank_accounts_list(jsonb, uuid, integer, bigint);
DROP FUNCTION IF EXISTS bank_account_get(jsonb, text);
DROP FUNCTION IF EXISTS bank_account_history(jsonb, text, integer, bigint);
DROP FUNCTION IF EXISTS bank_account_lock(jsonb, text, text);
DROP FUNCTION IF EXISTS bank_account_unlock(jsonb, text);
DROP FUNCTION IF EXISTS bank_audit_list(jsonb, text, text, text, integer, bigint);
DROP FUNCTION IF EXISTS bank_caller(jsonb);
DROP FUNCTION IF EXISTS bank_audit(bank_caller, text, text, jsonb);
DROP FUNCTION IF EXISTS bank_refuse(bank_caller, text, integer, text, text, jsonb, jsonb);
DROP FUNCTION IF EXISTS bank_idem_claim(bank_caller, text, text, text);
DROP FUNCTION IF EXISTS bank_idem_store(bank_caller, text, jsonb);
DROP FUNCTION IF EXISTS bank_idem_release(bank_caller, text);
DROP FUNCTION IF EXISTS bank_require_tier(bank_caller, text[]);
DROP FUNCTION IF EXISTS bank_replay(bank_caller, text, jsonb, jsonb);

-- The caller now carries its session (hash), from which actor_id and actor are derived.
ALTER TYPE bank_caller ADD ATTRIBUTE session_hash bytea;

-- PINs are judged one at a time under the row lock, inside the movement: no reservations.
ALTER TABLE accounts DROP COLUMN pin_checks_in_flight, DROP COLUMN pin_checked_at;

-- pgcrypto verifies bcrypt only in $2a$ form ($2b$ is the same hash with the bug-fix marker
-- bcryptjs writes; PINs are ASCII digits, far below the 255-byte wrap that $2b$ fixed).
UPDATE accounts SET pin_hash = '$2a$' || substr(pin_hash, 5) WHERE pin_hash ~ '^\$2[by]\$';
ALTER TABLE accounts ADD CONSTRAINT accounts_pin_hash_2a
  CHECK (pin_hash ~ '^\$2a\$[0-9]{2}\$[./A-Za-z0-9]{53}$');
