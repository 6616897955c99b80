-- Credentials a bank can manage, and TOTP step-up (API.md v1.1 "Sessions and credentials",
-- "Step-up"). Forward-only part: columns, tables, settings, and dropping every function
-- signature that migrations/functions/ replaces with a wider one.

-- A disabled user: every session ended at once, login refused as if the user did not exist.
ALTER TABLE users
  ADD COLUMN disabled_at timestamptz,
  ADD COLUMN disabled_reason text CHECK (disabled_reason IS NULL OR length(disabled_reason) BETWEEN 1 AND 200),
  ADD CONSTRAINT users_disabled_reason CHECK ((disabled_at IS NULL) = (disabled_reason IS NULL));
-- GET /users?query= is a username prefix search.
CREATE INDEX users_username_prefix_idx ON users (username text_pattern_ops);

-- One authenticator per user (RFC 6238). The secret is held like a hash: no application role
-- may read this table, and the only functions that read the secret are the ones that verify a
-- code (bank_totp_judge, in PL/pgSQL with pgcrypto's hmac(), inside the operation's own
-- transaction under this row's lock) and the enrolment that hands a new secret to its owner once.
-- It is not additionally encrypted with a key kept in this same database: whoever can read the
-- table (the owner) could read that key too; storage encryption covers the disk.
CREATE TABLE user_totp (
  user_id uuid PRIMARY KEY REFERENCES users (id),
  secret bytea NOT NULL CHECK (length(secret) = 20),
  -- NULL while pending: a pending secret satisfies no step-up and no login.
  confirmed_at timestamptz,
  -- The last accepted 30-second time step: a code is accepted once only, and never an older one.
  last_step bigint,
  -- Consecutive wrong codes; the fifth blocks the user's codes until blocked_until.
  failures integer NOT NULL DEFAULT 0 CHECK (failures BETWEEN 0 AND 5),
  blocked_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON user_totp FROM PUBLIC;

-- Deployment settings the database itself enforces (money in minor units). Written only by the
-- owner (local start, the deploy-time migration runner) with bank_set_setting, so no caller can
-- raise its own threshold by passing a parameter. IF NOT EXISTS: the daily-limit and approval
-- settings use the same table, created by whichever migration runs first.
CREATE TABLE IF NOT EXISTS bank_settings (
  name text PRIMARY KEY,
  value_minor bigint NOT NULL CHECK (value_minor > 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON bank_settings FROM PUBLIC;

-- Signatures replaced by wider ones in migrations/functions/ (otp, filters).
DROP FUNCTION IF EXISTS bank_move(jsonb, text, text, bigint, text, text, text, text);
DROP FUNCTION IF EXISTS bank_transfer(jsonb, text, text, bigint, text, text, text, text);
DROP FUNCTION IF EXISTS bank_login_finish(jsonb, uuid, boolean);
DROP FUNCTION IF EXISTS bank_user_create(jsonb, text, text, text);
DROP FUNCTION IF EXISTS bank_users_list(jsonb, integer, bigint);
DROP FUNCTION IF EXISTS bank_account_history(jsonb, text, integer, bigint);
DROP FUNCTION IF EXISTS bank_audit_list(jsonb, text, text, text, integer, bigint);
