import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareDatabase } from '../../local/bootstrap';
import type { LocalPostgres } from '../../local/postgres';
import { ConfigError } from '../../shared/config';
import { createTestDatabase, type TestDatabase } from '../helpers/db';

/*
 * The money settings of API.md v1.1 reach the database the way `npm start` writes them
 * (prepareDatabase, as the owner, from the environment), and the SQL rules read them there.
 */

let db: TestDatabase;
const names = ['BANK_STEP_UP_AMOUNT', 'BANK_DAILY_DEBIT_LIMIT', 'BANK_APPROVAL_AMOUNT'] as const;
const saved = Object.fromEntries(names.map((n) => [n, process.env[n]]));

/** The test database as the LocalPostgres that prepareDatabase expects (owner = superuser). */
function server(): Pick<LocalPostgres, 'client'> {
  return {
    client: (database?: string) =>
      new pg.Client({
        host: db.pg.host,
        port: db.pg.port,
        user: db.superuser.username,
        password: db.superuser.password,
        database: database ?? 'postgres',
      }),
  };
}

const passwords = () => ({
  bank_customer: db.roles.bank_customer.password,
  bank_teller: db.roles.bank_teller.password,
  bank_admin: db.roles.bank_admin.password,
  bank_auth: db.roles.bank_auth.password,
});

async function settings(): Promise<Record<string, string>> {
  const client = db.client();
  await client.connect();
  try {
    const rows = await client.query<{ name: string; v: string }>(
      `SELECT n AS name, bank_setting(n)::text AS v FROM unnest($1::text[]) AS n`,
      [names],
    );
    return Object.fromEntries(rows.rows.map((r) => [r.name, r.v]));
  } finally {
    await client.end();
  }
}

function setEnv(values: Partial<Record<(typeof names)[number], string>>): void {
  for (const n of names) delete process.env[n];
  Object.assign(process.env, values);
}

beforeAll(async () => {
  db = await createTestDatabase();
});

afterAll(async () => {
  for (const n of names) {
    const value = saved[n];
    if (value === undefined) delete process.env[n];
    else process.env[n] = value;
  }
  await db?.drop();
});

describe('money settings in the database', () => {
  it('holds the API.md defaults after a start without the variables', async () => {
    setEnv({});
    await prepareDatabase(server(), db.name, passwords());
    expect(await settings()).toEqual({
      BANK_STEP_UP_AMOUNT: '100000',
      BANK_DAILY_DEBIT_LIMIT: '500000',
      BANK_APPROVAL_AMOUNT: '5000000',
    });
  });

  it('follows the environment at every start, so the functions and the database agree', async () => {
    setEnv({ BANK_DAILY_DEBIT_LIMIT: '100.5', BANK_APPROVAL_AMOUNT: '1000000000.00' });
    await prepareDatabase(server(), db.name, passwords());
    expect(await settings()).toEqual({
      BANK_STEP_UP_AMOUNT: '100000',
      BANK_DAILY_DEBIT_LIMIT: '10050',
      BANK_APPROVAL_AMOUNT: '100000000000',
    });
    setEnv({});
    await prepareDatabase(server(), db.name, passwords());
    expect((await settings()).BANK_DAILY_DEBIT_LIMIT).toBe('500000');
  });

  it('refuses a malformed or out-of-range value in one line naming the variable, writing nothing', async () => {
    for (const [name, value, message] of [
      ['BANK_DAILY_DEBIT_LIMIT', '12.345', 'must be a decimal string like "1000.00"'],
      ['BANK_APPROVAL_AMOUNT', '0', 'must be greater than 0 and at most 1000000000.00'],
      ['BANK_STEP_UP_AMOUNT', '1000000000.01', 'must be greater than 0 and at most 1000000000.00'],
      ['BANK_DAILY_DEBIT_LIMIT', '-1', 'must be a decimal string like "1000.00"'],
    ] as const) {
      setEnv({ [name]: value });
      const error = await prepareDatabase(server(), db.name, passwords()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      expect(String((error as Error).message)).toBe(`invalid environment: ${name} ${message}`);
    }
    expect(await settings()).toEqual({
      BANK_STEP_UP_AMOUNT: '100000',
      BANK_DAILY_DEBIT_LIMIT: '500000',
      BANK_APPROVAL_AMOUNT: '5000000',
    });
  });
});
