-- Daily debit limits and maker-checker approvals (API.md v1.1 "Limits and approvals",
-- "Settings"). Forward-only part: tables only; the functions are in migrations/functions/.

-- Deployment settings the database itself enforces (money in minor units). Written only by the
-- owner (local start, the deploy-time migration runner) with bank_set_setting, so no caller can
-- raise its own limit by passing a parameter. (IF NOT EXISTS: the step-up work creates the same
-- table; whichever migration runs first creates it.)
CREATE TABLE IF NOT EXISTS bank_settings (
  name text PRIMARY KEY,
  value_minor bigint NOT NULL CHECK (value_minor > 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON bank_settings FROM PUBLIC;

-- What a customer has debited from an account on one UTC day (withdrawals plus outgoing
-- transfers). One row per account and day, written only under that account's row lock inside
-- the movement, so the check-and-add is serial per account: concurrent debits can never pass
-- the limit together, and the check is one index lookup however many debits the day has seen.
CREATE TABLE customer_debits_daily (
  account_id bigint NOT NULL REFERENCES accounts (id),
  day date NOT NULL,
  debited_minor bigint NOT NULL CHECK (debited_minor > 0),
  PRIMARY KEY (account_id, day)
);
REVOKE ALL ON customer_debits_daily FROM PUBLIC;

-- A teller's movement of at least BANK_APPROVAL_AMOUNT waits here for a second person.
-- `expired` is not stored: a pending row older than 24 hours is expired (bank_approval_json),
-- so no job has to run for it to happen at the right moment.
CREATE TABLE approvals (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  action text NOT NULL CHECK (action IN ('accounts.deposit', 'accounts.withdraw', 'transfers.create')),
  -- The request as the API shows it (accountNo or fromAccountNo/toAccountNo, amount, memo).
  request jsonb NOT NULL,
  account_no text NOT NULL,
  to_account_no text,
  amount_minor bigint NOT NULL CHECK (amount_minor > 0 AND amount_minor <= 100000000000),
  memo text,
  maker_id uuid NOT NULL REFERENCES users (id),
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
  checker_id uuid REFERENCES users (id),
  reason text CHECK (reason IS NULL OR length(reason) BETWEEN 1 AND 200),
  result jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  decided_at timestamptz,
  CHECK ((action = 'transfers.create') = (to_account_no IS NOT NULL)),
  -- Maker-checker, as a fact of the data: nobody decides their own approval.
  CHECK (checker_id IS NULL OR checker_id <> maker_id),
  CHECK ((status = 'pending') = (checker_id IS NULL AND decided_at IS NULL)),
  CHECK ((status = 'approved') = (result IS NOT NULL)),
  CHECK ((status = 'rejected') = (reason IS NOT NULL))
);
CREATE INDEX approvals_status_idx ON approvals (status, seq DESC);
REVOKE ALL ON approvals FROM PUBLIC;
