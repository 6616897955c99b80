import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { LocalBank } from '../local/bank';
import { isValidAccountNo, luhnCheckDigit } from '../shared/account-no';

/**
 * Benchmark fixtures, written straight into the database as the owner role (1,000 accounts
 * through the API would take longer than the benchmark): a teller, customers owning the
 * accounts, each account funded by a DEPOSIT ledger entry so that balance = sum of entries.
 */

export interface BenchAccount {
  readonly id: number;
  readonly accountNo: string;
  readonly owner: string;
}

export interface Fixtures {
  readonly teller: { readonly id: string; readonly username: string; readonly password: string };
  readonly customerPassword: string;
  /** Customer usernames; customer i owns accounts [i * perCustomer, (i + 1) * perCustomer). */
  readonly customers: readonly { readonly username: string; readonly accountNos: readonly string[] }[];
  readonly accounts: readonly BenchAccount[];
  readonly pin: string;
  /** The cost the PIN and password hashes were made with (what bcrypt.compare pays per check). */
  readonly bcryptCost: number;
  readonly openingBalanceMinor: bigint;
}

export interface FixtureOptions {
  readonly accounts: number;
  readonly accountsPerCustomer: number;
  readonly bcryptCost: number;
}

/** 11-digit payload (9 then the index) and its Luhn check digit: deterministic and valid. */
export function benchAccountNo(index: number): string {
  const payload = `9${String(index).padStart(10, '0')}`;
  const accountNo = `${payload}${luhnCheckDigit(payload)}`;
  if (!isValidAccountNo(accountNo)) throw new Error(`bad fixture account number ${accountNo}`);
  return accountNo;
}

/** bank_pin_cost() in migrations/functions/bank_pin_cost.sql. */
export const pinBcryptCost = 4;

export async function createFixtures(bank: LocalBank, options: FixtureOptions): Promise<Fixtures> {
  const tellerPassword = randomBytes(12).toString('base64url');
  const customerPassword = randomBytes(12).toString('base64url');
  // Not all-same digits, not a straight sequence: a PIN the API accepts.
  const pin = '2580';
  const [tellerHash, customerHash, pinHash2b] = await Promise.all([
    bcrypt.hash(tellerPassword, options.bcryptCost),
    bcrypt.hash(customerPassword, options.bcryptCost),
    // PINs are compared by PostgreSQL (pgcrypto): the $2a$ form at the database's PIN cost, as
    // bank_pin_hash writes them ($2b$ and $2a$ are the same hash; pgcrypto reads only $2a$).
    bcrypt.hash(pin, pinBcryptCost),
  ]);
  const pinHash = `$2a$${pinHash2b.slice(4)}`;
  const customerCount = Math.ceil(options.accounts / options.accountsPerCustomer);
  const customerNames = Array.from(
    { length: customerCount },
    (_, i) => `bench-c${String(i).padStart(4, '0')}`,
  );
  const openingBalanceMinor = 100_000_000n; // 1,000,000.00 each

  const db = bank.postgres.client(bank.database);
  await db.connect();
  try {
    await db.query("SELECT bank_create_user('bench-teller', $1, 'teller')", [tellerHash]);
    await db.query("SELECT bank_create_user(name, $2, 'customer') FROM unnest($1::text[]) AS name", [
      customerNames,
      customerHash,
    ]);
    const teller = await db.query<{ id: string }>("SELECT id FROM users WHERE username = 'bench-teller'");
    const tellerId = teller.rows[0]?.id;
    if (tellerId === undefined) throw new Error('fixture teller was not created');

    const accountNos = Array.from({ length: options.accounts }, (_, i) => benchAccountNo(i));
    const owners = accountNos.map((_, i) => customerNames[Math.floor(i / options.accountsPerCustomer)] ?? '');
    const inserted = await db.query<{ id: string; account_no: string }>(
      `INSERT INTO accounts (account_no, name, user_id, pin_hash, balance_minor)
       SELECT a.no, 'bench ' || a.ord, u.id, $3, $4::bigint
         FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS a(no, owner, ord)
         JOIN users u ON u.username = a.owner
        ORDER BY a.ord
       RETURNING id, account_no`,
      [accountNos, owners, pinHash, openingBalanceMinor.toString()],
    );
    await db.query(
      `INSERT INTO history (account_id, type, amount_minor, balance_after_minor, memo, actor_id)
       SELECT id, 'DEPOSIT', balance_minor, balance_minor, 'bench opening balance', $1
         FROM accounts WHERE account_no = ANY($2::text[]) ORDER BY id`,
      [tellerId, accountNos],
    );
    await db.query('ANALYZE');
    const byNo = new Map(inserted.rows.map((r) => [r.account_no, Number(r.id)]));
    const accounts = accountNos.map((accountNo, i) => {
      const id = byNo.get(accountNo);
      if (id === undefined) throw new Error(`fixture account ${accountNo} was not created`);
      return { id, accountNo, owner: owners[i] ?? '' };
    });
    return {
      teller: { id: tellerId, username: 'bench-teller', password: tellerPassword },
      customerPassword,
      customers: customerNames.map((username, i) => ({
        username,
        accountNos: accountNos.slice(i * options.accountsPerCustomer, (i + 1) * options.accountsPerCustomer),
      })),
      accounts,
      pin,
      bcryptCost: options.bcryptCost,
      openingBalanceMinor,
    };
  } finally {
    await db.end();
  }
}

/** Logs in through the API and returns the access token. */
export async function login(url: string, username: string, password: string): Promise<string> {
  const response = await fetch(`${url}/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const body = (await response.json()) as { accessToken?: unknown };
  if (response.status !== 200 || typeof body.accessToken !== 'string') {
    throw new Error(`login of ${username} failed: HTTP ${response.status}`);
  }
  return body.accessToken;
}

export interface LedgerCheck {
  readonly accounts: number;
  readonly mismatched: number;
  readonly totalMinor: string;
  readonly negative: number;
}

/** Every account's balance equals the sum of its signed ledger entries; no balance below zero. */
export async function checkLedger(bank: LocalBank): Promise<LedgerCheck> {
  const db = bank.postgres.client(bank.database);
  await db.connect();
  try {
    const result = await db.query<{ accounts: string; mismatched: string; total: string; negative: string }>(
      `WITH sums AS (
         SELECT account_id,
                sum(CASE WHEN type IN ('DEPOSIT', 'TRANSFER_IN') THEN amount_minor ELSE -amount_minor END) AS s
           FROM history GROUP BY account_id)
       SELECT count(*)::text AS accounts,
              count(*) FILTER (WHERE a.balance_minor <> coalesce(s.s, 0))::text AS mismatched,
              coalesce(sum(a.balance_minor), 0)::text AS total,
              count(*) FILTER (WHERE a.balance_minor < 0)::text AS negative
         FROM accounts a LEFT JOIN sums s ON s.account_id = a.id`,
    );
    const row = result.rows[0];
    return {
      accounts: Number(row?.accounts ?? 0),
      mismatched: Number(row?.mismatched ?? 0),
      totalMinor: row?.total ?? '0',
      negative: Number(row?.negative ?? 0),
    };
  } finally {
    await db.end();
  }
}
