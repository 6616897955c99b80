import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db';

/*
 * The SQL half of the security model (DESIGN.md "Security model: two layers"), with raw
 * PostgreSQL connections as each application role and nothing of the API in front: whatever a
 * handler does, the database refuses what the role's tier may not do, and nobody, the owner
 * included, rewrites the ledger or the audit trail.
 */

type Role = 'bank_customer' | 'bank_teller' | 'bank_admin' | 'bank_auth';
const appRoles: readonly Role[] = ['bank_customer', 'bank_teller', 'bank_admin', 'bank_auth'];

let db: TestDatabase;
const ids = { customerA: '', customerB: '', teller: '', admin: '' };
/** A live session id per user, opened through the login functions as bank_auth. */
const sids = { customerA: '', customerB: '', teller: '', admin: '' };
const password = 'sql-roles-password';
let accountA = '';
let accountB = '';

async function as<T>(role: Role | 'superuser', work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = db.client(role);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** The statement fails with SQLSTATE 42501 (insufficient_privilege); returns the message. */
async function expectDenied(role: Role | 'superuser', sql: string, params: unknown[] = []): Promise<string> {
  const error = await as(role, (c) => c.query(sql, params)).then(
    () => undefined,
    (e: unknown) => e as { code?: string; message?: string },
  );
  expect(error, `${role}: ${sql} should have been refused`).toBeDefined();
  expect({ sql, code: error?.code }).toEqual({ sql, code: '42501' });
  return error?.message ?? '';
}

const ctx = (sid: string): string =>
  JSON.stringify({
    sid,
    requestId: `sql-${randomBytes(4).toString('hex')}`,
    ip: '127.0.0.1',
    userAgent: 'vitest',
  });

async function scalar(role: Role | 'superuser', sql: string, params: unknown[] = []): Promise<unknown> {
  const rows = await as(role, (c) => c.query<{ v: unknown }>(sql, params));
  return rows.rows[0]?.v;
}

async function counts(): Promise<Record<string, string>> {
  const rows = await as('superuser', (c) =>
    c.query<Record<string, string>>(
      `SELECT (SELECT count(*) FROM history)::text AS history, (SELECT count(*) FROM audit_logs)::text AS audit,
              (SELECT string_agg(account_no || '=' || balance_minor, ',' ORDER BY id) FROM accounts) AS balances`,
    ),
  );
  return rows.rows[0] ?? {};
}

/** Logs in as the login function does (bank_auth), comparing the password here. */
async function openSession(username: string, hash: string): Promise<string> {
  // One request, two calls (as the login function makes them): one request id, at most one event.
  const login = JSON.stringify({
    requestId: `sql-login-${randomBytes(4).toString('hex')}`,
    ip: '127.0.0.1',
    userAgent: 'vitest',
  });
  const begin = (await scalar('bank_auth', 'SELECT bank_login_begin($1::jsonb, $2, 10, 50, 900) AS v', [
    login,
    username,
  ])) as { attemptId: string; passwordHash: string };
  expect(begin.passwordHash).toBe(hash);
  const finish = (await scalar('bank_auth', 'SELECT bank_login_finish($1::jsonb, $2::uuid, $3, NULL) AS v', [
    login,
    begin.attemptId,
    await bcrypt.compare(password, begin.passwordHash),
  ])) as { status: number; sid: string };
  expect(finish.status).toBe(200);
  return finish.sid;
}

beforeAll(async () => {
  // Prepare: two customers with one account each (100.00), a teller and an admin, all made
  // through the SQL entry points the handlers use.
  db = await createTestDatabase();
  const hash = await bcrypt.hash(password, 4);
  const suffix = randomBytes(3).toString('hex');
  await as('superuser', async (c) => {
    for (const [key, role] of [
      ['customerA', 'customer'],
      ['customerB', 'customer'],
      ['teller', 'teller'],
      ['admin', 'admin'],
    ] as const) {
      const username = `${key.toLowerCase()}-${suffix}`;
      await c.query('SELECT bank_create_user($1, $2, $3)', [username, hash, role]);
      const row = await c.query<{ id: string }>('SELECT id FROM users WHERE username = $1', [username]);
      ids[key] = row.rows[0]?.id ?? '';
      sids[key] = await openSession(username, hash);
    }
  });
  const open = async (ownerId: string): Promise<string> => {
    const result = (await scalar(
      'bank_teller',
      'SELECT bank_account_create($1::jsonb, $2::uuid, $3, $4) AS v',
      [ctx(sids.teller), ownerId, 'SQL roles', '4826'],
    )) as { status: number; body: { accountNo: string } };
    expect(result.status).toBe(201);
    const deposit = (await scalar(
      'bank_teller',
      "SELECT bank_move($1::jsonb, 'DEPOSIT', $2, 10000, NULL, NULL, NULL, NULL, NULL) AS v",
      [ctx(sids.teller), result.body.accountNo],
    )) as { status: number };
    expect(deposit.status).toBe(200);
    return result.body.accountNo;
  };
  accountA = await open(ids.customerA);
  accountB = await open(ids.customerB);
});

afterAll(async () => {
  await db?.drop();
});

describe('bank_customer', () => {
  it.each(['users', 'accounts', 'history', 'audit_logs', 'idempotency_keys', 'login_attempts', 'sessions'])(
    'cannot SELECT from %s',
    async (table) => {
      await expectDenied('bank_customer', `SELECT * FROM ${table} LIMIT 1`);
    },
  );

  it.each([
    ['bank_account_lock', 'SELECT bank_account_lock($1::jsonb, $2, $3)', 'lock'],
    ['bank_account_unlock', 'SELECT bank_account_unlock($1::jsonb, $2)', 'unlock'],
    ['bank_users_list', 'SELECT bank_users_list($1::jsonb, NULL, NULL, 20, NULL)', 'list'],
    [
      'bank_audit_list',
      'SELECT bank_audit_list($1::jsonb, NULL, NULL, NULL, NULL, NULL, NULL, 20, NULL)',
      'list',
    ],
    [
      'bank_user_create',
      "SELECT bank_user_create($1::jsonb, 'sneaky-user', '$2a$04$x', 'admin', NULL)",
      'list',
    ],
    ['bank_user_disable', "SELECT bank_user_disable($1::jsonb, gen_random_uuid(), 'x')", 'list'],
    [
      'bank_user_password_set',
      "SELECT bank_user_password_set($1::jsonb, gen_random_uuid(), '$2a$04$x')",
      'list',
    ],
    ['bank_account_create', "SELECT bank_account_create($1::jsonb, $2::uuid, 'Sneaky', '4826')", 'create'],
  ])('cannot call %s', async (_name, sql, shape) => {
    // Prepare
    const before = await counts();
    const params =
      shape === 'lock'
        ? [ctx(sids.customerA), accountA, 'mine']
        : shape === 'unlock'
          ? [ctx(sids.customerA), accountA]
          : shape === 'create'
            ? [ctx(sids.customerA), ids.customerA]
            : [ctx(sids.customerA)];
    // Act + Assess
    const message = await expectDenied('bank_customer', sql, params);
    expect(message).toMatch(/permission denied for function/);
    expect(await counts()).toEqual(before);
  });

  it('cannot INSERT into or UPDATE accounts', async () => {
    const before = await counts();
    await expectDenied(
      'bank_customer',
      "INSERT INTO accounts (account_no, name, user_id, pin_hash) VALUES ('400000000006', 'x', $1, '$2a$04$x')",
      [ids.customerA],
    );
    await expectDenied('bank_customer', 'UPDATE accounts SET balance_minor = balance_minor + 100000');
    await expectDenied('bank_customer', 'UPDATE accounts SET is_locked = false, failed_attempts = 0');
    expect(await counts()).toEqual(before);
  });

  it("gets NOT_FOUND moving money on another customer's account, and nothing moves", async () => {
    // Prepare
    const before = await counts();

    // Act: customer A's session on customer B's account (with B's PIN, even).
    const withdraw = await scalar(
      'bank_customer',
      "SELECT bank_move($1::jsonb, 'WITHDRAWAL', $2, 5000, NULL, '4826', NULL, NULL, NULL) AS v",
      [ctx(sids.customerA), accountB],
    );
    const transfer = await scalar(
      'bank_customer',
      "SELECT bank_transfer($1::jsonb, $2, $3, 5000, NULL, '4826', NULL, NULL, NULL) AS v",
      [ctx(sids.customerA), accountB, accountA],
    );
    const read = await scalar('bank_customer', 'SELECT bank_account_get($1::jsonb, $2) AS v', [
      ctx(sids.customerA),
      accountB,
    ]);
    const history = await scalar(
      'bank_customer',
      'SELECT bank_account_history($1::jsonb, $2, NULL, NULL, 20, NULL) AS v',
      [ctx(sids.customerA), accountB],
    );

    // Assess: refusals (returned, so their audit events commit), no money moved.
    for (const result of [withdraw, transfer, read, history]) {
      expect(result).toMatchObject({ status: 404, error: { code: 'NOT_FOUND' } });
    }
    const after = await counts();
    expect(after.balances).toBe(before.balances);
    expect(after.history).toBe(before.history);
    expect(Number(after.audit)).toBe(Number(before.audit) + 4);
  });

  it("is refused with a teller's or an admin's session, or with none at all", async () => {
    // Prepare
    const before = await counts();

    // Act + Assess
    for (const sid of [sids.teller, sids.admin]) {
      const message = await expectDenied(
        'bank_customer',
        "SELECT bank_move($1::jsonb, 'DEPOSIT', $2, 5000, NULL, '4826', NULL, NULL, NULL)",
        [ctx(sid), accountA],
      );
      expect(message).toMatch(/bank:UNAUTHENTICATED/);
    }
    const anonymous = await expectDenied(
      'bank_customer',
      "SELECT bank_move($1::jsonb, 'DEPOSIT', $2, 5000, NULL, '4826', NULL, NULL, NULL)",
      [JSON.stringify({ actorId: ids.customerA, actor: 'nobody-at-all', requestId: 'x' }), accountA],
    );
    expect(anonymous).toMatch(/bank:UNAUTHENTICATED/);
    expect(await counts()).toEqual(before);
  });
});

describe('bank_teller', () => {
  it('cannot read audit_logs or users, directly or through the admin functions', async () => {
    await expectDenied('bank_teller', 'SELECT * FROM audit_logs LIMIT 1');
    await expectDenied('bank_teller', 'SELECT id, username FROM users LIMIT 1');
    await expectDenied('bank_teller', 'SELECT * FROM accounts LIMIT 1');
    await expectDenied(
      'bank_teller',
      'SELECT bank_audit_list($1::jsonb, NULL, NULL, NULL, NULL, NULL, NULL, 20, NULL)',
      [ctx(sids.teller)],
    );
    for (const sql of [
      "SELECT bank_user_disable($1::jsonb, gen_random_uuid(), 'x')",
      'SELECT bank_user_enable($1::jsonb, gen_random_uuid())',
      "SELECT bank_totp_reset($1::jsonb, gen_random_uuid(), 'x')",
    ])
      await expectDenied('bank_teller', sql, [ctx(sids.teller)]);
  });

  it('lists customers only through bank_users_list (v1.1), never tellers or admins', async () => {
    const listed = await as('bank_teller', (c) =>
      c.query<{ v: { status: number; body: { items: Array<{ role: string }> } } }>(
        'SELECT bank_users_list($1::jsonb, NULL, NULL, 100, NULL) AS v',
        [ctx(sids.teller)],
      ),
    );
    const page = listed.rows[0]?.v;
    expect(page?.status).toBe(200);
    expect(page?.body.items.length).toBeGreaterThan(0);
    expect(new Set(page?.body.items.map((u) => u.role))).toEqual(new Set(['customer']));
  });
});

describe('bank_admin', () => {
  it('reads audit_logs and users(id, username, role, created_at)', async () => {
    const audit = await as('bank_admin', (c) => c.query('SELECT id, actor, action FROM audit_logs'));
    expect(audit.rows.length).toBeGreaterThan(0);
    const users = await as('bank_admin', (c) =>
      c.query<{ id: string }>('SELECT id, username, role, created_at FROM users'),
    );
    expect(users.rows.map((u) => u.id).sort()).toEqual(Object.values(ids).sort());
  });

  it('cannot read users.password_hash (nor SELECT * on users)', async () => {
    await expectDenied('bank_admin', 'SELECT password_hash FROM users');
    await expectDenied('bank_admin', 'SELECT * FROM users');
    await expectDenied('bank_admin', 'SELECT pin_hash FROM accounts');
  });
});

describe('the append-only ledger and audit trail', () => {
  const statements = (table: string): [string, string][] => [
    ['UPDATE', `UPDATE ${table} SET ${table === 'history' ? 'memo' : 'action'} = 'rewritten'`],
    ['DELETE', `DELETE FROM ${table}`],
    ['TRUNCATE', `TRUNCATE ${table}`],
  ];
  const cases = appRoles.flatMap((role) =>
    ['history', 'audit_logs'].flatMap((table) =>
      statements(table).map(([verb, sql]) => [role, verb, table, sql] as const),
    ),
  );

  it.each(cases)('%s cannot %s %s', async (role, _verb, _table, sql) => {
    // Prepare
    const before = await counts();
    // Act + Assess
    const message = await expectDenied(role, sql);
    expect(message).toMatch(/permission denied/);
    expect(await counts()).toEqual(before);
  });

  it.each(
    ['history', 'audit_logs'].flatMap((table) =>
      statements(table).map(([verb, sql]) => [verb, table, sql] as const),
    ),
  )('the superuser (owner) cannot %s %s either: the trigger refuses', async (verb, table, sql) => {
    // Prepare
    const before = await counts();
    expect(Number(table === 'history' ? before.history : before.audit)).toBeGreaterThan(0);
    // Act + Assess
    const message = await expectDenied('superuser', sql);
    expect(message).toBe(`bank:APPEND_ONLY ${verb} on ${table} is not allowed`);
    expect(await counts()).toEqual(before);
  });
});

describe('owner-only functions', () => {
  it.each(appRoles)('%s cannot call bank_set_role_password or bank_create_user', async (role) => {
    // Prepare
    const before = await counts();
    // Act + Assess
    for (const target of appRoles) {
      const message = await expectDenied(role, 'SELECT bank_set_role_password($1, $2)', [
        target,
        'a-new-password-of-enough-length',
      ]);
      expect(message).toMatch(/permission denied for function/);
    }
    const create = await expectDenied(role, "SELECT bank_create_user('intruder-admin', '$2a$04$x', 'admin')");
    expect(create).toMatch(/permission denied for function/);
    expect(await counts()).toEqual(before);
    const users = await as('superuser', (c) =>
      c.query("SELECT 1 FROM users WHERE username = 'intruder-admin'"),
    );
    expect(users.rowCount).toBe(0);
  });

  it.each(appRoles)('%s cannot call the internal helpers that write audit events', async (role) => {
    await expectDenied(
      role,
      "SELECT bank_audit(bank_caller($1::jsonb), 'users.create', 'success', '{}'::jsonb)",
      [ctx(role === 'bank_customer' ? sids.customerA : role === 'bank_teller' ? sids.teller : sids.admin)],
    );
  });
});

describe('the audit middleware door', () => {
  it('records refusals for any role but refuses to record a success', async () => {
    // Prepare
    const door = JSON.stringify({
      actor: 'someone',
      requestId: 'r-door',
      ip: '127.0.0.1',
      userAgent: 'test',
    });
    // Act
    const denied = await scalar(
      'bank_customer',
      "SELECT bank_audit_record($1::jsonb, 'users.list', 'denied', '{}'::jsonb) AS v",
      [door],
    );
    const forged = as('bank_customer', (c) =>
      c.query("SELECT bank_audit_record($1::jsonb, 'users.create', 'success', '{}'::jsonb)", [door]),
    );
    // Assess
    expect(denied).toMatch(/^[0-9a-f-]{36}$/);
    await expect(forged).rejects.toThrow(/bank:VALIDATION_FAILED/);
    const rows = await as('superuser', (c) =>
      c.query("SELECT actor, action, outcome FROM audit_logs WHERE request_id = 'r-door'"),
    );
    expect(rows.rows).toEqual([{ actor: 'someone', action: 'users.list', outcome: 'denied' }]);
  });
});
