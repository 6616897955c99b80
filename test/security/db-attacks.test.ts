import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db';

/*
 * The database trusts no caller. An attacker here holds one database password (each
 * application role in turn, connecting with its own) and nothing else: no signing key, no
 * session of the victim. Whatever they send (another user's id, a verdict such as "PIN
 * verified" or "login succeeded", a session of another tier, an ended one), no money moves, no
 * password or PIN hash and no other customer's data comes back, and no audit event is written
 * in the victim's name.
 *
 * Every function a role may EXECUTE is read from pg_proc, and the suite fails when that list
 * differs from the one attacked below: a new function cannot escape it.
 */

type Role = 'bank_customer' | 'bank_teller' | 'bank_admin' | 'bank_auth';
const roles: readonly Role[] = ['bank_customer', 'bank_teller', 'bank_admin', 'bank_auth'];

let db: TestDatabase;
const password = 'attack-suite-password';
const pin = '4826';
const users = { victim: '', other: '', teller: '', teller2: '', admin: '' };
const names = { victim: '', other: '', teller: '', teller2: '', admin: '' };
const sids = { victim: '', other: '', teller: '', teller2: '', admin: '', ended: '', expired: '' };
let victimAccount = '';
let otherAccount = '';
/** A pending approval: the teller's deposit of the approval amount into otherAccount. */
let approvalId = '';

async function as<T>(role: Role | 'superuser', work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = db.client(role);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

interface Outcome {
  readonly value?: unknown;
  readonly error?: { readonly code?: string; readonly message?: string };
}

/** Runs one statement whose single column is `v`; never throws. */
async function attempt(role: Role | 'superuser', sql: string, params: unknown[] = []): Promise<Outcome> {
  try {
    const rows = await as(role, (c) => c.query<{ v: unknown }>(sql, params));
    return { value: rows.rows[0]?.v };
  } catch (e) {
    return { error: e as { code?: string; message?: string } };
  }
}

async function value(role: Role | 'superuser', sql: string, params: unknown[] = []): Promise<unknown> {
  const outcome = await attempt(role, sql, params);
  expect(outcome.error, `${role}: ${sql}`).toBeUndefined();
  return outcome.value;
}

const ctxOf = (fields: Record<string, unknown>): string =>
  JSON.stringify({
    requestId: `atk-${randomBytes(4).toString('hex')}`,
    ip: '203.0.113.66',
    userAgent: 'forged-agent',
    ...fields,
  });
const ctx = (sid: string): string => ctxOf({ sid });

interface World {
  readonly balances: string;
  readonly history: number;
  readonly audit: number;
  readonly successes: number;
  readonly sessions: number;
  readonly attempts: string;
  readonly pinState: string;
  readonly victimEvents: number;
  readonly approvals: string;
  readonly debits: string;
  readonly settings: string;
}

/** Everything an attack could change, read as the superuser. */
async function world(): Promise<World> {
  const row = await value(
    'superuser',
    `SELECT jsonb_build_object(
       'balances', (SELECT string_agg(account_no || '=' || balance_minor, ',' ORDER BY id) FROM accounts),
       'history', (SELECT count(*) FROM history),
       'audit', (SELECT count(*) FROM audit_logs),
       'successes', (SELECT count(*) FROM audit_logs WHERE outcome = 'success'),
       'sessions', (SELECT count(*) FROM sessions WHERE ended_at IS NULL),
       'attempts', (SELECT coalesce(string_agg(username || ':' || coalesce(succeeded::text, 'open'), ',' ORDER BY created_at, id), '') FROM login_attempts),
       'pinState', (SELECT string_agg(account_no || ':' || failed_attempts || ':' || is_locked || ':' || pin_hash, ',' ORDER BY id) FROM accounts),
       'victimEvents', (SELECT count(*) FROM audit_logs WHERE actor = $1),
       'approvals', (SELECT coalesce(string_agg(id || ':' || status || ':' || maker_id || ':' || coalesce(checker_id::text, '-'), ',' ORDER BY seq), '') FROM approvals),
       'debits', (SELECT coalesce(string_agg(account_id || ':' || day || ':' || debited_minor, ',' ORDER BY account_id, day), '') FROM customer_debits_daily),
       'settings', (SELECT coalesce(string_agg(name || '=' || value_minor, ',' ORDER BY name), '') FROM bank_settings)) AS v`,
    [names.victim],
  );
  return row as World;
}

/** Login as the login function does (bank_auth), comparing the password here. */
async function login(username: string): Promise<string> {
  const begin = (await value('bank_auth', 'SELECT bank_login_begin($1::jsonb, $2, 10, 50, 900) AS v', [
    ctxOf({}),
    username,
  ])) as { attemptId: string; passwordHash: string };
  const ok = await bcrypt.compare(password, begin.passwordHash);
  const finish = (await value('bank_auth', 'SELECT bank_login_finish($1::jsonb, $2::uuid, $3, NULL) AS v', [
    ctxOf({}),
    begin.attemptId,
    ok,
  ])) as { status: number; sid: string };
  expect(finish.status).toBe(200);
  return finish.sid;
}

const hashPattern = /\$2[aby]\$\d\d\$/;

beforeAll(async () => {
  db = await createTestDatabase();
  const hash = await bcrypt.hash(password, 4);
  const suffix = randomBytes(3).toString('hex');
  await as('superuser', async (c) => {
    for (const [key, role] of [
      ['victim', 'customer'],
      ['other', 'customer'],
      ['teller', 'teller'],
      ['teller2', 'teller'],
      ['admin', 'admin'],
    ] as const) {
      const username = `${key}-${suffix}`;
      await c.query('SELECT bank_create_user($1, $2, $3)', [username, hash, role]);
      const row = await c.query<{ id: string }>('SELECT id FROM users WHERE username = $1', [username]);
      users[key] = row.rows[0]?.id ?? '';
      names[key] = username;
    }
  });
  for (const key of ['victim', 'other', 'teller', 'teller2', 'admin'] as const)
    sids[key] = await login(names[key]);
  // An ended session (logged out) and an expired one, both of the victim.
  sids.ended = await login(names.victim);
  expect(await value('bank_customer', 'SELECT bank_logout($1::jsonb) AS v', [ctx(sids.ended)])).toEqual({
    status: 204,
  });
  sids.expired = await login(names.victim);
  await as('superuser', (c) =>
    c.query(
      `UPDATE sessions SET created_at = now() - interval '9 hours', expires_at = now() - interval '1 hour'
        WHERE id_hash = sha256(convert_to($1, 'UTF8'))`,
      [sids.expired],
    ),
  );
  const open = async (ownerId: string): Promise<string> => {
    const created = (await value(
      'bank_teller',
      "SELECT bank_account_create($1::jsonb, $2::uuid, 'Attack suite', $3) AS v",
      [ctx(sids.teller), ownerId, pin],
    )) as { status: number; body: { accountNo: string } };
    expect(created.status).toBe(201);
    const deposit = (await value(
      'bank_teller',
      "SELECT bank_move($1::jsonb, 'DEPOSIT', $2, 100000, NULL, NULL, NULL, NULL, NULL) AS v",
      [ctx(sids.teller), created.body.accountNo],
    )) as { status: number };
    expect(deposit.status).toBe(200);
    return created.body.accountNo;
  };
  victimAccount = await open(users.victim);
  otherAccount = await open(users.other);
  const pending = (await value(
    'bank_teller',
    "SELECT bank_move($1::jsonb, 'DEPOSIT', $2, 5000000, NULL, NULL, NULL, NULL, NULL) AS v",
    [ctx(sids.teller), otherAccount],
  )) as { status: number; body: { approvalId: string; status: string } };
  expect(pending).toMatchObject({ status: 202, body: { status: 'pending' } });
  approvalId = pending.body.approvalId;
});

afterAll(async () => {
  await db?.drop();
});

/**
 * The functions each role may execute, and one attack per function with every forged context:
 * the victim's user id (the old actorId), a made-up session id, the session of another tier,
 * the victim's ended and expired sessions. `args` are the arguments after the context.
 */
interface FunctionAttack {
  readonly call: (ctxParam: string) => { sql: string; params: unknown[] };
}

const attacks: Record<string, FunctionAttack> = {
  'bank_move(jsonb,text,text,bigint,text,text,text,text,text)': {
    call: (c) => ({
      sql: "SELECT bank_move($1::jsonb, 'DEPOSIT', $2, 100000000000, NULL, $3, NULL, NULL, NULL) AS v",
      params: [c, victimAccount, pin],
    }),
  },
  'bank_transfer(jsonb,text,text,bigint,text,text,text,text,text)': {
    call: (c) => ({
      sql: 'SELECT bank_transfer($1::jsonb, $2, $3, 25000, NULL, $4, NULL, NULL, NULL) AS v',
      params: [c, victimAccount, otherAccount, pin],
    }),
  },
  'bank_me(jsonb)': { call: (c) => ({ sql: 'SELECT bank_me($1::jsonb) AS v', params: [c] }) },
  'bank_accounts_list(jsonb,uuid,integer,bigint)': {
    call: (c) => ({
      sql: 'SELECT bank_accounts_list($1::jsonb, $2::uuid, 100, NULL) AS v',
      params: [c, users.victim],
    }),
  },
  'bank_account_get(jsonb,text)': {
    call: (c) => ({ sql: 'SELECT bank_account_get($1::jsonb, $2) AS v', params: [c, victimAccount] }),
  },
  'bank_account_history(jsonb,text,timestamp with time zone,timestamp with time zone,integer,bigint)': {
    call: (c) => ({
      sql: 'SELECT bank_account_history($1::jsonb, $2, NULL, NULL, 100, NULL) AS v',
      params: [c, victimAccount],
    }),
  },
  'bank_logout(jsonb)': { call: (c) => ({ sql: 'SELECT bank_logout($1::jsonb) AS v', params: [c] }) },
  'bank_session_refresh(jsonb)': {
    call: (c) => ({ sql: 'SELECT bank_session_refresh($1::jsonb) AS v', params: [c] }),
  },
  'bank_user_create(jsonb,text,text,text,text)': {
    call: (c) => ({
      sql: "SELECT bank_user_create($1::jsonb, 'forged-admin', $2, 'admin', NULL) AS v",
      params: [c, '$2a$04$abcdefghijklmnopqrstuu5Yo8WRHBwa0/QgBiBtrGD5qZ5aJ3Xq6'],
    }),
  },
  'bank_account_create(jsonb,uuid,text,text)': {
    call: (c) => ({
      sql: "SELECT bank_account_create($1::jsonb, $2::uuid, 'Forged', '4826') AS v",
      params: [c, users.victim],
    }),
  },
  'bank_account_lock(jsonb,text,text)': {
    call: (c) => ({
      sql: "SELECT bank_account_lock($1::jsonb, $2, 'forged') AS v",
      params: [c, victimAccount],
    }),
  },
  'bank_account_unlock(jsonb,text)': {
    call: (c) => ({ sql: 'SELECT bank_account_unlock($1::jsonb, $2) AS v', params: [c, victimAccount] }),
  },
  'bank_users_list(jsonb,text,text,integer,bigint)': {
    call: (c) => ({ sql: 'SELECT bank_users_list($1::jsonb, NULL, NULL, 100, NULL) AS v', params: [c] }),
  },
  'bank_audit_list(jsonb,text,text,text,text,timestamp with time zone,timestamp with time zone,integer,bigint)':
    {
      call: (c) => ({
        sql: 'SELECT bank_audit_list($1::jsonb, NULL, NULL, NULL, NULL, NULL, NULL, 100, NULL) AS v',
        params: [c],
      }),
    },
  'bank_account_pin(jsonb,text,text,text,text)': {
    call: (c) => ({
      sql: "SELECT bank_account_pin($1::jsonb, $2, $3, '9173', NULL) AS v",
      params: [c, victimAccount, pin],
    }),
  },
  'bank_transfer_get(jsonb,uuid)': {
    call: (c) => ({ sql: 'SELECT bank_transfer_get($1::jsonb, gen_random_uuid()) AS v', params: [c] }),
  },
  'bank_totp_enrol(jsonb)': { call: (c) => ({ sql: 'SELECT bank_totp_enrol($1::jsonb) AS v', params: [c] }) },
  'bank_totp_confirm(jsonb,text)': {
    call: (c) => ({ sql: "SELECT bank_totp_confirm($1::jsonb, '123456') AS v", params: [c] }),
  },
  'bank_user_password_set(jsonb,uuid,text)': {
    call: (c) => ({
      sql: 'SELECT bank_user_password_set($1::jsonb, $2::uuid, $3) AS v',
      params: [c, users.victim, '$2a$04$abcdefghijklmnopqrstuu5Yo8WRHBwa0/QgBiBtrGD5qZ5aJ3Xq6'],
    }),
  },
  'bank_user_disable(jsonb,uuid,text)': {
    call: (c) => ({
      sql: "SELECT bank_user_disable($1::jsonb, $2::uuid, 'forged') AS v",
      params: [c, users.victim],
    }),
  },
  'bank_user_enable(jsonb,uuid)': {
    call: (c) => ({ sql: 'SELECT bank_user_enable($1::jsonb, $2::uuid) AS v', params: [c, users.victim] }),
  },
  'bank_totp_reset(jsonb,uuid,text)': {
    call: (c) => ({
      sql: "SELECT bank_totp_reset($1::jsonb, $2::uuid, 'forged') AS v",
      params: [c, users.victim],
    }),
  },
  'bank_approvals_list(jsonb,text,integer,bigint)': {
    call: (c) => ({ sql: "SELECT bank_approvals_list($1::jsonb, 'pending', 100, NULL) AS v", params: [c] }),
  },
  'bank_approval_approve(jsonb,uuid)': {
    call: (c) => ({ sql: 'SELECT bank_approval_approve($1::jsonb, $2::uuid) AS v', params: [c, approvalId] }),
  },
  'bank_approval_reject(jsonb,uuid,text)': {
    call: (c) => ({
      sql: "SELECT bank_approval_reject($1::jsonb, $2::uuid, 'forged') AS v",
      params: [c, approvalId],
    }),
  },
};

/** Per role: what it may execute beyond the session-checked operations above (asserted exactly). */
const expected: Record<Role, readonly string[]> = {
  bank_customer: [
    'bank_account_pin(jsonb,text,text,text,text)',
    'bank_totp_confirm(jsonb,text)',
    'bank_totp_enrol(jsonb)',
    'bank_transfer_get(jsonb,uuid)',
    'bank_account_get(jsonb,text)',
    'bank_account_history(jsonb,text,timestamp with time zone,timestamp with time zone,integer,bigint)',
    'bank_accounts_list(jsonb,uuid,integer,bigint)',
    'bank_audit_record(jsonb,text,text,jsonb)',
    'bank_logout(jsonb)',
    'bank_me(jsonb)',
    'bank_move(jsonb,text,text,bigint,text,text,text,text,text)',
    'bank_session_refresh(jsonb)',
    'bank_transfer(jsonb,text,text,bigint,text,text,text,text,text)',
  ],
  bank_teller: [
    'bank_account_pin(jsonb,text,text,text,text)',
    'bank_totp_confirm(jsonb,text)',
    'bank_totp_enrol(jsonb)',
    'bank_transfer_get(jsonb,uuid)',
    'bank_user_password_set(jsonb,uuid,text)',
    'bank_users_list(jsonb,text,text,integer,bigint)',
    'bank_account_create(jsonb,uuid,text,text)',
    'bank_account_get(jsonb,text)',
    'bank_account_history(jsonb,text,timestamp with time zone,timestamp with time zone,integer,bigint)',
    'bank_account_lock(jsonb,text,text)',
    'bank_account_unlock(jsonb,text)',
    'bank_accounts_list(jsonb,uuid,integer,bigint)',
    'bank_approval_approve(jsonb,uuid)',
    'bank_approval_reject(jsonb,uuid,text)',
    'bank_approvals_list(jsonb,text,integer,bigint)',
    'bank_audit_record(jsonb,text,text,jsonb)',
    'bank_logout(jsonb)',
    'bank_me(jsonb)',
    'bank_move(jsonb,text,text,bigint,text,text,text,text,text)',
    'bank_session_refresh(jsonb)',
    'bank_transfer(jsonb,text,text,bigint,text,text,text,text,text)',
    'bank_user_create(jsonb,text,text,text,text)',
  ],
  bank_admin: [
    'bank_account_pin(jsonb,text,text,text,text)',
    'bank_totp_confirm(jsonb,text)',
    'bank_totp_enrol(jsonb)',
    'bank_transfer_get(jsonb,uuid)',
    'bank_user_password_set(jsonb,uuid,text)',
    'bank_user_disable(jsonb,uuid,text)',
    'bank_user_enable(jsonb,uuid)',
    'bank_totp_reset(jsonb,uuid,text)',
    'bank_account_create(jsonb,uuid,text,text)',
    'bank_account_get(jsonb,text)',
    'bank_account_history(jsonb,text,timestamp with time zone,timestamp with time zone,integer,bigint)',
    'bank_account_lock(jsonb,text,text)',
    'bank_account_unlock(jsonb,text)',
    'bank_accounts_list(jsonb,uuid,integer,bigint)',
    'bank_approval_approve(jsonb,uuid)',
    'bank_approval_reject(jsonb,uuid,text)',
    'bank_approvals_list(jsonb,text,integer,bigint)',
    'bank_audit_list(jsonb,text,text,text,text,timestamp with time zone,timestamp with time zone,integer,bigint)',
    'bank_audit_record(jsonb,text,text,jsonb)',
    'bank_seal_next(integer,integer)',
    'bank_seal_pending(integer)',
    'bank_seal_uploaded(bigint)',
    'bank_logout(jsonb)',
    'bank_me(jsonb)',
    'bank_move(jsonb,text,text,bigint,text,text,text,text,text)',
    'bank_session_refresh(jsonb)',
    'bank_transfer(jsonb,text,text,bigint,text,text,text,text,text)',
    'bank_user_create(jsonb,text,text,text,text)',
    'bank_users_list(jsonb,text,text,integer,bigint)',
  ],
  bank_auth: [
    'bank_reauth_begin(jsonb,text,integer,integer,integer)',
    'bank_password_change(jsonb,uuid,boolean,text,text)',
    'bank_totp_disable(jsonb,uuid,boolean,text)',
    'bank_audit_record(jsonb,text,text,jsonb)',
    'bank_login_begin(jsonb,text,integer,integer,integer)',
    'bank_login_finish(jsonb,uuid,boolean,text)',
  ],
};

/** Functions attacked by their own tests below rather than through `attacks`. */
const attackedElsewhere = new Set([
  // bank_auth's re-authentications: see 'lets bank_auth re-authenticate only a live session'.
  ...[
    'bank_reauth_begin(jsonb,text,integer,integer,integer)',
    'bank_password_change(jsonb,uuid,boolean,text,text)',
    'bank_totp_disable(jsonb,uuid,boolean,text)',
  ],
  'bank_audit_record(jsonb,text,text,jsonb)',
  'bank_login_begin(jsonb,text,integer,integer,integer)',
  'bank_login_finish(jsonb,uuid,boolean,text)',
  // The sealer's functions take no caller context: they check the admin tier and return only
  // audit and ledger lines and balances (no hashes); attacked in test/security/audit-tamper.test.ts.
  'bank_seal_next(integer,integer)',
  'bank_seal_pending(integer)',
  'bank_seal_uploaded(bigint)',
]);

async function executable(role: Role): Promise<string[]> {
  const rows = await as('superuser', (c) =>
    c.query<{ f: string }>(
      `SELECT p.proname || '(' || coalesce(string_agg(format_type(t.type, NULL), ',' ORDER BY t.ord), '') || ')' AS f
         FROM pg_proc p
         LEFT JOIN LATERAL unnest(p.proargtypes::oid[]) WITH ORDINALITY AS t(type, ord) ON true
        WHERE has_function_privilege($1, p.oid, 'EXECUTE')
          AND p.pronamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
        GROUP BY p.oid, p.proname`,
      [role],
    ),
  );
  return rows.rows.map((r) => r.f.replace(/integer/g, 'integer')).sort();
}

describe('what each role may execute', () => {
  it.each(roles)('%s may execute exactly the functions this suite attacks', async (role) => {
    const list = await executable(role);
    expect(list).toEqual([...expected[role]].sort());
    for (const f of list) expect(attacks[f] !== undefined || attackedElsewhere.has(f), f).toBe(true);
  });
});

describe('every executable function, with forged identities', () => {
  const forgeries = (): Array<[string, string]> => [
    ['the victim user id as actorId', ctxOf({ actorId: users.victim, actor: names.victim })],
    ['a made-up session id', ctx(randomBytes(32).toString('base64url'))],
    ['a malformed session id', ctxOf({ sid: "x' OR true --" })],
    ["the victim's ended session", ctx(sids.ended)],
    ["the victim's expired session", ctx(sids.expired)],
  ];

  const cases = roles.flatMap((role) =>
    expected[role].filter((f) => attacks[f] !== undefined).map((f) => [role, f] as const),
  );

  it.each(cases)('%s: %s moves nothing, reveals nothing, forges nothing', async (role, f) => {
    const attack = attacks[f];
    if (!attack) throw new Error(`no attack for ${f}`);
    // Forgeries plus a live session of a tier that is not this role's (or of another user).
    const wrongTier = role === 'bank_customer' ? sids.teller : sids.victim;
    const before = await world();
    for (const [label, forged] of [
      ...forgeries(),
      ['a session of another tier', ctx(wrongTier)] as [string, string],
    ]) {
      const { sql, params } = attack.call(forged);
      // Act
      const outcome = await attempt(role, sql, params);
      // Assess: refused by the database before it did anything.
      expect({ label, code: outcome.error?.code }).toEqual({ label, code: '42501' });
      expect(outcome.error?.message, label).toMatch(/^bank:UNAUTHENTICATED/);
      expect(JSON.stringify(outcome.value ?? null)).not.toMatch(hashPattern);
    }
    expect(await world()).toEqual(before);
  });
});

describe('the attacks of the issue, with the bank_customer password only', () => {
  it("moves nothing out of another customer's account, even with their id, their PIN and a forged verdict", async () => {
    const before = await world();
    // The old attack: actorId of the victim and pinVerified = true.
    const forged = await attempt(
      'bank_customer',
      "SELECT bank_transfer($1::jsonb, $2, $3, 25000, '', 'true', NULL, NULL, NULL) AS v",
      [ctxOf({ actorId: users.victim }), victimAccount, otherAccount],
    );
    expect(forged.error?.code).toBe('42501');
    // The attacker's own live session, naming the victim's account: not theirs.
    const own = await value(
      'bank_customer',
      'SELECT bank_transfer($1::jsonb, $2, $3, 25000, NULL, $4, NULL, NULL, NULL) AS v',
      [ctx(sids.other), victimAccount, otherAccount, pin],
    );
    expect(own).toMatchObject({ status: 404, error: { code: 'NOT_FOUND' } });
    const after = await world();
    expect(after.balances).toBe(before.balances);
    expect(after.history).toBe(before.history);
    expect(after.victimEvents).toBe(before.victimEvents);
    expect(after.successes).toBe(before.successes);
  });

  it('creates no money: a customer deposit needs the PIN, compared by the database', async () => {
    const before = await world();
    const verdicts = ['true', '', 't', "' OR 1=1 --"];
    for (const verdict of verdicts) {
      const outcome = await attempt(
        'bank_customer',
        "SELECT bank_move($1::jsonb, 'DEPOSIT', $2, 100000000000, NULL, $3, NULL, NULL, NULL) AS v",
        [ctx(sids.victim), victimAccount, verdict],
      );
      expect(outcome.error?.message, verdict).toMatch(/^bank:VALIDATION_FAILED/);
    }
    const noPin = await attempt(
      'bank_customer',
      "SELECT bank_move($1::jsonb, 'DEPOSIT', $2, 100000000000, NULL, NULL, NULL, NULL, NULL) AS v",
      [ctx(sids.victim), victimAccount],
    );
    expect(noPin.error?.message).toMatch(/^bank:VALIDATION_FAILED/);
    expect(await world()).toEqual(before);
  });

  it('returns no password hash and no PIN hash to any role but the login role, and that one only the password hash', async () => {
    for (const role of roles) {
      for (const sql of ['SELECT password_hash AS v FROM users', 'SELECT pin_hash AS v FROM accounts']) {
        const outcome = await attempt(role, sql);
        expect({ role, sql, code: outcome.error?.code }).toEqual({ role, sql, code: '42501' });
      }
      if (role !== 'bank_auth') {
        const begin = await attempt(role, 'SELECT bank_login_begin($1::jsonb, $2, 10, 50, 900) AS v', [
          ctxOf({}),
          names.victim,
        ]);
        expect({ role, code: begin.error?.code }).toEqual({ role, code: '42501' });
      }
    }
    // bank_pin_reserve, which returned any account's PIN hash, is gone.
    const gone = await value(
      'superuser',
      "SELECT count(*)::int AS v FROM pg_proc WHERE proname IN ('bank_pin_reserve', 'bank_pin_failed')",
    );
    expect(gone).toBe(0);
    // Every live session answer of every readable function carries no hash.
    for (const f of [
      'bank_me(jsonb)',
      'bank_account_get(jsonb,text)',
      'bank_account_history(jsonb,text,timestamp with time zone,timestamp with time zone,integer,bigint)',
      'bank_accounts_list(jsonb,uuid,integer,bigint)',
    ]) {
      const attack = attacks[f];
      if (!attack) throw new Error(f);
      const { sql, params } = attack.call(ctx(sids.victim));
      expect(JSON.stringify(await value('bank_customer', sql, params))).not.toMatch(hashPattern);
    }
    const { sql, params } = (
      attacks['bank_users_list(jsonb,text,text,integer,bigint)'] as FunctionAttack
    ).call(ctx(sids.admin));
    expect(JSON.stringify(await value('bank_admin', sql, params))).not.toMatch(hashPattern);
  });

  it('cannot write a successful login, nor finish an attempt it did not begin, with any tier password', async () => {
    const before = await world();
    for (const role of ['bank_customer', 'bank_teller', 'bank_admin'] as const) {
      const finish = await attempt(role, 'SELECT bank_login_finish($1::jsonb, $2::uuid, true, NULL) AS v', [
        ctxOf({}),
        '00000000-0000-4000-8000-000000000000',
      ]);
      expect({ role, code: finish.error?.code }).toEqual({ role, code: '42501' });
      const record = await attempt(
        role,
        "SELECT bank_audit_record($1::jsonb, 'auth.login', 'success', '{}'::jsonb) AS v",
        [ctxOf({ actor: names.admin })],
      );
      expect(record.error?.message).toMatch(/^bank:VALIDATION_FAILED/);
    }
    // Even bank_auth cannot finish an attempt nobody began.
    const unknown = await attempt(
      'bank_auth',
      'SELECT bank_login_finish($1::jsonb, $2::uuid, true, NULL) AS v',
      [ctxOf({}), '00000000-0000-4000-8000-000000000000'],
    );
    expect(unknown.error?.message).toMatch(/^bank:INTERNAL/);
    expect(await world()).toEqual(before);
  });

  it('lets bank_auth do nothing but log in: no table, no operation, no other audit action', async () => {
    const before = await world();
    for (const table of [
      'users',
      'accounts',
      'history',
      'audit_logs',
      'sessions',
      'login_attempts',
      'idempotency_keys',
    ]) {
      const read = await attempt('bank_auth', `SELECT count(*) AS v FROM ${table}`);
      expect({ table, code: read.error?.code }).toEqual({ table, code: '42501' });
    }
    const other = await attempt(
      'bank_auth',
      "SELECT bank_audit_record($1::jsonb, 'transfers.create', 'denied', '{}'::jsonb) AS v",
      [ctxOf({ actor: names.victim })],
    );
    expect(other.error?.code).toBe('42501');
    expect(await world()).toEqual(before);
  });

  it('does not reset a wrong-PIN count with a forged verdict or a transfer to a nonexistent account', async () => {
    // Prepare: two wrong PINs on the victim's account.
    for (const expectedRemaining of [2, 1]) {
      const wrong = await value(
        'bank_customer',
        "SELECT bank_move($1::jsonb, 'WITHDRAWAL', $2, 100, NULL, '9173', NULL, NULL, NULL) AS v",
        [ctx(sids.victim), victimAccount],
      );
      expect(wrong).toMatchObject({
        status: 403,
        error: { code: 'INVALID_PIN', attemptsRemaining: expectedRemaining },
      });
    }
    const before = await world();
    // Act: the old reset, a "verified" transfer to an account that does not exist.
    const forged = await attempt(
      'bank_customer',
      "SELECT bank_transfer($1::jsonb, $2, '400000000006', 100, NULL, 'true', NULL, NULL, NULL) AS v",
      [ctx(sids.victim), victimAccount],
    );
    // Assess
    expect(forged.error?.message).toMatch(/^bank:VALIDATION_FAILED/);
    expect(await world()).toEqual(before);
    const count = await value(
      'superuser',
      'SELECT failed_attempts AS v FROM accounts WHERE account_no = $1',
      [victimAccount],
    );
    expect(count).toBe(2);
    // The right PIN (only the owner knows it) resets it; clean up for the other tests.
    const right = await value(
      'bank_customer',
      "SELECT bank_transfer($1::jsonb, $2, '400000000006', 100, NULL, $3, NULL, NULL, NULL) AS v",
      [ctx(sids.victim), victimAccount, pin],
    );
    expect(right).toMatchObject({ status: 404, error: { code: 'NOT_FOUND' } });
    expect(
      await value('superuser', 'SELECT failed_attempts AS v FROM accounts WHERE account_no = $1', [
        victimAccount,
      ]),
    ).toBe(0);
  });

  it("makes a teller's or an admin's session act as its own user only, whatever the context says", async () => {
    // Prepare
    const before = await world();
    // Act: teller2's password-holder, with teller's session, naming teller2 as actor.
    const locked = (await value('bank_teller', "SELECT bank_account_lock($1::jsonb, $2, 'audit me') AS v", [
      ctxOf({ sid: sids.teller, actorId: users.teller2, actor: names.teller2 }),
      otherAccount,
    ])) as { status: number };
    expect(locked.status).toBe(200);
    const unlocked = (await value('bank_teller', 'SELECT bank_account_unlock($1::jsonb, $2) AS v', [
      ctxOf({ sid: sids.teller, actorId: users.teller2 }),
      otherAccount,
    ])) as { status: number };
    expect(unlocked.status).toBe(200);
    // Assess: both events name the session's user.
    const actors = await as('superuser', (c) =>
      c.query<{ actor: string; action: string }>(
        "SELECT actor, action FROM audit_logs WHERE action IN ('accounts.lock', 'accounts.unlock') AND details ->> 'accountNo' = $1 ORDER BY seq DESC LIMIT 2",
        [otherAccount],
      ),
    );
    expect(actors.rows).toEqual([
      { actor: names.teller, action: 'accounts.unlock' },
      { actor: names.teller, action: 'accounts.lock' },
    ]);
    // An admin session is refused with the teller password, and a teller session with the admin one.
    expect(
      (await attempt('bank_teller', 'SELECT bank_me($1::jsonb) AS v', [ctx(sids.admin)])).error?.code,
    ).toBe('42501');
    expect(
      (await attempt('bank_admin', 'SELECT bank_me($1::jsonb) AS v', [ctx(sids.teller)])).error?.code,
    ).toBe('42501');
    const after = await world();
    expect(after.balances).toBe(before.balances);
  });

  it('answers an idempotent replay with a wrong PIN as a wrong PIN: counted, and nothing of the first response', async () => {
    // Prepare: a withdrawal under a key, with the right PIN.
    const key = `atk-${randomBytes(4).toString('hex')}`;
    const first = await value(
      'bank_customer',
      "SELECT bank_move($1::jsonb, 'WITHDRAWAL', $2, 100, NULL, $3, NULL, $4, 'h1') AS v",
      [ctx(sids.victim), victimAccount, pin, key],
    );
    expect(first).toMatchObject({ status: 200 });
    // Act: the replay with a wrong PIN, and with a wrong PIN and another body.
    const replay = await value(
      'bank_customer',
      "SELECT bank_move($1::jsonb, 'WITHDRAWAL', $2, 100, NULL, '9173', NULL, $3, 'h1') AS v",
      [ctx(sids.victim), victimAccount, key],
    );
    const reused = await value(
      'bank_customer',
      "SELECT bank_move($1::jsonb, 'WITHDRAWAL', $2, 100, NULL, '9173', NULL, $3, 'h2') AS v",
      [ctx(sids.victim), victimAccount, key],
    );
    // Assess: both are the same wrong-PIN answer, each counted.
    expect(replay).toEqual({
      status: 403,
      error: { code: 'INVALID_PIN', detail: 'the PIN is wrong', attemptsRemaining: 2 },
    });
    expect(reused).toEqual({
      status: 403,
      error: { code: 'INVALID_PIN', detail: 'the PIN is wrong', attemptsRemaining: 1 },
    });
    // The right PIN replays the first response, and resets the count.
    const right = await value(
      'bank_customer',
      "SELECT bank_move($1::jsonb, 'WITHDRAWAL', $2, 100, NULL, $3, NULL, $4, 'h1') AS v",
      [ctx(sids.victim), victimAccount, pin, key],
    );
    expect(right).toEqual({ ...(first as object), replayed: true });
    expect(
      await value('superuser', 'SELECT failed_attempts AS v FROM accounts WHERE account_no = $1', [
        victimAccount,
      ]),
    ).toBe(0);
  });

  it('writes PIN hashes in the $2a$ form pgcrypto verifies, at the documented cost', async () => {
    const hashes = (await value('superuser', 'SELECT array_agg(pin_hash) AS v FROM accounts')) as string[];
    expect(hashes.length).toBeGreaterThan(0);
    for (const hash of hashes) expect(hash).toMatch(/^\$2a\$04\$[./A-Za-z0-9]{53}$/);
  });
});

describe('credentials and step-up, with one database password each', () => {
  it('lets bank_auth re-authenticate only a live session, and take no verdict for an attempt it did not begin', async () => {
    const before = await world();
    const forged = [
      ctx(randomBytes(32).toString('base64url')),
      ctx(sids.ended),
      ctx(sids.expired),
      ctxOf({ actorId: users.victim, actor: names.victim }),
    ];
    for (const c of forged) {
      for (const [sql, params] of [
        ["SELECT bank_reauth_begin($1::jsonb, 'me.password', 10, 50, 900) AS v", [c]],
        [
          'SELECT bank_password_change($1::jsonb, gen_random_uuid(), true, $2, NULL) AS v',
          [c, '$2a$04$abcdefghijklmnopqrstuu5Yo8WRHBwa0/QgBiBtrGD5qZ5aJ3Xq6'],
        ],
        ["SELECT bank_totp_disable($1::jsonb, gen_random_uuid(), true, '123456') AS v", [c]],
      ] as const) {
        const outcome = await attempt('bank_auth', sql, [...params]);
        expect(outcome.error?.message, sql).toMatch(/^bank:UNAUTHENTICATED/);
      }
    }
    // A live session, but a verdict for an attempt nobody began: refused, nothing changes.
    const unbegun = await attempt(
      'bank_auth',
      'SELECT bank_password_change($1::jsonb, gen_random_uuid(), true, $2, NULL) AS v',
      [ctx(sids.victim), '$2a$04$abcdefghijklmnopqrstuu5Yo8WRHBwa0/QgBiBtrGD5qZ5aJ3Xq6'],
    );
    expect(unbegun.error?.message).toMatch(/^bank:INTERNAL unknown or finished re-authentication attempt/);
    // The tier roles cannot reach these at all.
    for (const role of ['bank_customer', 'bank_teller', 'bank_admin'] as const) {
      const outcome = await attempt(
        role,
        "SELECT bank_reauth_begin($1::jsonb, 'me.password', 10, 50, 900) AS v",
        [ctx(sids.victim)],
      );
      expect(outcome.error?.code).toBe('42501');
    }
    expect(await world()).toEqual(before);
  });

  it('reads no TOTP secret and no setting with any role', async () => {
    for (const role of roles) {
      for (const table of ['user_totp', 'bank_settings']) {
        const read = await attempt(role, `SELECT count(*) AS v FROM ${table}`);
        expect({ role, table, code: read.error?.code }).toEqual({ role, table, code: '42501' });
      }
      for (const f of [
        "SELECT bank_hotp('\\x00'::bytea, 1) AS v",
        "SELECT bank_totp_verify(gen_random_uuid(), '123456') AS v",
        "SELECT bank_set_setting('BANK_STEP_UP_AMOUNT', 1) AS v",
      ]) {
        expect((await attempt(role, f)).error?.code, `${role}: ${f}`).toBe('42501');
      }
    }
  });

  it("moves no large amount without a code the database judged: no flag, no forged verdict, no caller's threshold", async () => {
    const before = await world();
    // 1,000.00 = the step-up amount; the right PIN; no code, then made-up "codes".
    for (const otp of [null, 'true', '000000']) {
      const outcome = (await value(
        'bank_customer',
        "SELECT bank_move($1::jsonb, 'WITHDRAWAL', $2, 100000, NULL, $3, $4, NULL, NULL) AS v",
        [ctx(sids.victim), victimAccount, pin, otp],
      )) as { status: number; error: { code: string; enrolmentRequired?: boolean } };
      expect(outcome).toEqual({
        status: 403,
        error: {
          code: 'STEP_UP_REQUIRED',
          detail: expect.any(String),
          enrolmentRequired: true,
        },
      });
    }
    const after = await world();
    expect({
      ...after,
      audit: before.audit,
      successes: before.successes,
      victimEvents: before.victimEvents,
    }).toEqual(before);
    expect(after.successes).toBe(before.successes);
  });

  it('keeps a teller to customers and an admin off their own user, whatever the handler would allow', async () => {
    const before = await world();
    const hash = '$2a$04$abcdefghijklmnopqrstuu5Yo8WRHBwa0/QgBiBtrGD5qZ5aJ3Xq6';
    const onTeller = (await value(
      'bank_teller',
      'SELECT bank_user_password_set($1::jsonb, $2::uuid, $3) AS v',
      [ctx(sids.teller), users.teller2, hash],
    )) as { status: number; error: { code: string } };
    expect(onTeller.status).toBe(403);
    expect(onTeller.error.code).toBe('FORBIDDEN');
    const onAdmin = (await value(
      'bank_teller',
      'SELECT bank_user_password_set($1::jsonb, $2::uuid, $3) AS v',
      [ctx(sids.teller), users.admin, hash],
    )) as { status: number };
    expect(onAdmin.status).toBe(403);
    const listTellers = (await value(
      'bank_teller',
      "SELECT bank_users_list($1::jsonb, NULL, 'teller', 100, NULL) AS v",
      [ctx(sids.teller)],
    )) as { status: number };
    expect(listTellers.status).toBe(403);
    const all = (await value('bank_teller', 'SELECT bank_users_list($1::jsonb, NULL, NULL, 100, NULL) AS v', [
      ctx(sids.teller),
    ])) as { status: number; body: { items: Array<{ role: string }> } };
    expect(all.status).toBe(200);
    expect(new Set(all.body.items.map((u) => u.role))).toEqual(new Set(['customer']));
    for (const sql of [
      "SELECT bank_user_disable($1::jsonb, $2::uuid, 'self') AS v",
      "SELECT bank_totp_reset($1::jsonb, $2::uuid, 'self') AS v",
    ]) {
      const self = (await value('bank_admin', sql, [ctx(sids.admin), users.admin])) as {
        status: number;
        error: { code: string };
      };
      expect({ sql, status: self.status, code: self.error.code }).toEqual({
        sql,
        status: 403,
        code: 'FORBIDDEN',
      });
    }
    const after = await world();
    expect({
      ...after,
      audit: before.audit,
      successes: before.successes,
      victimEvents: before.victimEvents,
    }).toEqual(before);
    // One audit event per refused call plus the one successful list.
    expect(after.audit - before.audit).toBe(6);
    expect(after.successes - before.successes).toBe(1);
  });
});

describe('limits and approvals, with each role its own password', () => {
  const approvalState = async (id: string) =>
    (await value(
      'superuser',
      "SELECT status || coalesce(':' || checker_id, '') AS v FROM approvals WHERE id = $1",
      [id],
    )) as string;

  it('lets no role approve or reject its own approval, whatever the context says; nothing moves', async () => {
    // Prepare: the maker's own live session, plus forged members naming teller2 as the actor.
    const before = await world();
    const forged = ctxOf({ sid: sids.teller, actorId: users.teller2, actor: names.teller2 });
    // Act
    const approveOwn = await value('bank_teller', 'SELECT bank_approval_approve($1::jsonb, $2::uuid) AS v', [
      forged,
      approvalId,
    ]);
    const rejectOwn = await value(
      'bank_teller',
      "SELECT bank_approval_reject($1::jsonb, $2::uuid, 'mine') AS v",
      [ctx(sids.teller), approvalId],
    );
    // Assess: 403 from the session's user, the approval pending, no money, two denied events.
    expect(approveOwn).toEqual({
      status: 403,
      error: { code: 'FORBIDDEN', detail: 'nobody approves their own movement' },
    });
    expect(rejectOwn).toEqual({
      status: 403,
      error: { code: 'FORBIDDEN', detail: 'nobody rejects their own movement' },
    });
    expect(await approvalState(approvalId)).toBe('pending');
    const after = await world();
    expect({ ...after, audit: before.audit, successes: before.successes }).toEqual(before);
    expect(after.audit).toBe(before.audit + 2);
    expect(after.successes).toBe(before.successes);
    // A customer's password executes none of it, with any session.
    for (const sid of [sids.victim, sids.teller]) {
      const outcome = await attempt(
        'bank_customer',
        'SELECT bank_approval_approve($1::jsonb, $2::uuid) AS v',
        [ctx(sid), approvalId],
      );
      expect(outcome.error?.code).toBe('42501');
    }
  });

  it("names the session's user as the maker, whoever the context claims, so the forged maker cannot approve it", async () => {
    // Prepare: teller's session, claiming to be teller2.
    const made = (await value(
      'bank_teller',
      "SELECT bank_move($1::jsonb, 'DEPOSIT', $2, 5000000, NULL, NULL, NULL, NULL, NULL) AS v",
      [ctxOf({ sid: sids.teller, actorId: users.teller2, makerId: users.teller2 }), victimAccount],
    )) as { status: number; body: { approvalId: string; makerId: string } };
    expect(made.status).toBe(202);
    expect(made.body.makerId).toBe(users.teller);
    // Act: the real maker cannot approve it; teller2 (not the maker) can, and it executes once.
    const byMaker = await value('bank_teller', 'SELECT bank_approval_approve($1::jsonb, $2::uuid) AS v', [
      ctxOf({ sid: sids.teller, actorId: users.teller2 }),
      made.body.approvalId,
    ]);
    const balanceBefore = await value(
      'superuser',
      'SELECT balance_minor::text AS v FROM accounts WHERE account_no = $1',
      [victimAccount],
    );
    const byOther = (await value('bank_teller', 'SELECT bank_approval_approve($1::jsonb, $2::uuid) AS v', [
      ctx(sids.teller2),
      made.body.approvalId,
    ])) as { status: number; body: { status: string; checkerId: string; makerId: string } };
    // Assess
    expect(byMaker).toMatchObject({ status: 403, error: { code: 'FORBIDDEN' } });
    expect(byOther).toMatchObject({
      status: 200,
      body: { status: 'approved', makerId: users.teller, checkerId: users.teller2 },
    });
    expect(
      await value('superuser', 'SELECT balance_minor::text AS v FROM accounts WHERE account_no = $1', [
        victimAccount,
      ]),
    ).toBe((BigInt(String(balanceBefore)) + 5000000n).toString());
  });

  it('takes no limit from any caller: no role writes a setting or a day total, and no movement takes a limit', async () => {
    const before = await world();
    for (const role of roles) {
      for (const sql of [
        "SELECT bank_set_setting('BANK_DAILY_DEBIT_LIMIT', 100000000000) AS v",
        "SELECT bank_set_setting('BANK_APPROVAL_AMOUNT', 100000000000) AS v",
        "UPDATE bank_settings SET value_minor = 100000000000 WHERE name = 'BANK_DAILY_DEBIT_LIMIT' RETURNING 1 AS v",
        "INSERT INTO bank_settings (name, value_minor) VALUES ('BANK_DAILY_DEBIT_LIMIT', 100000000000) RETURNING 1 AS v",
        'SELECT value_minor AS v FROM bank_settings',
        'DELETE FROM customer_debits_daily RETURNING 1 AS v',
        'SELECT debited_minor AS v FROM customer_debits_daily',
        "UPDATE approvals SET status = 'approved' RETURNING 1 AS v",
        'SELECT id AS v FROM approvals',
        // The internal steps of a movement are not callable on their own.
        "SELECT bank_debit_limit_take(NULL, 1, 1, NULL, 'accounts.withdraw', '{}'::jsonb) AS v",
        "SELECT bank_apply_move(1, 'DEPOSIT', 100000000000, NULL, NULL) AS v",
        'SELECT bank_apply_transfer(1, 2, 100000000000, NULL, NULL) AS v',
        'SELECT bank_setting($1) AS v',
      ]) {
        const outcome = await attempt(role, sql, sql.includes('$1') ? ['BANK_DAILY_DEBIT_LIMIT'] : []);
        expect({ role, sql, code: outcome.error?.code }).toEqual({ role, sql, code: '42501' });
      }
    }
    // bank_move has no limit parameter: one more argument names no function.
    const withLimit = await attempt(
      'bank_customer',
      "SELECT bank_move($1::jsonb, 'WITHDRAWAL', $2, 600000, NULL, $3, NULL, NULL, NULL, 100000000000) AS v",
      [ctx(sids.victim), victimAccount, pin],
    );
    expect(withLimit.error?.code).toBe('42883');
    expect(await world()).toEqual(before);
  });

  it("refuses a customer's debit over the owner-written limit, 422 LIMIT_EXCEEDED, counting what the day has seen", async () => {
    // The limit alone: the owner raises the step-up threshold (a TOTP code from 1000.00, attacked
    // above) out of the way for this test, and puts it back after.
    await value('superuser', "SELECT bank_set_setting('BANK_STEP_UP_AMOUNT', 100000000000)::text AS v");
    onTestFinished(async () => {
      await value('superuser', "SELECT bank_set_setting('BANK_STEP_UP_AMOUNT', 100000)::text AS v");
    });
    // Prepare: fund the victim to 8,000.00 more (a teller's deposit below the approval amount).
    const funded = (await value(
      'bank_teller',
      "SELECT bank_move($1::jsonb, 'DEPOSIT', $2, 800000, NULL, NULL, NULL, NULL, NULL) AS v",
      [ctx(sids.teller), victimAccount],
    )) as { status: number };
    expect(funded.status).toBe(200);
    const used = Number(
      await value(
        'superuser',
        `SELECT coalesce(sum(debited_minor), 0)::text AS v FROM customer_debits_daily d JOIN accounts a ON a.id = d.account_id
          WHERE a.account_no = $1 AND d.day = (now() AT TIME ZONE 'UTC')::date`,
        [victimAccount],
      ),
    );
    const remaining = 500000 - used;
    // Act: one cent more than what is left, then exactly what is left.
    const over = await value(
      'bank_customer',
      "SELECT bank_move($1::jsonb, 'WITHDRAWAL', $2, $3::bigint, NULL, $4, NULL, NULL, NULL) AS v",
      [ctx(sids.victim), victimAccount, remaining + 1, pin],
    );
    const exact = await value(
      'bank_customer',
      "SELECT bank_move($1::jsonb, 'WITHDRAWAL', $2, $3::bigint, NULL, $4, NULL, NULL, NULL) AS v",
      [ctx(sids.victim), victimAccount, remaining, pin],
    );
    const cent = await value(
      'bank_customer',
      'SELECT bank_transfer($1::jsonb, $2, $3, 1, NULL, $4, NULL, NULL, NULL) AS v',
      [ctx(sids.victim), victimAccount, otherAccount, pin],
    );
    // Assess
    const fmt = (minor: number) => `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;
    expect(over).toEqual({
      status: 422,
      error: {
        code: 'LIMIT_EXCEEDED',
        detail: 'the amount would exceed the daily debit limit of this account',
        limit: '5000.00',
        remaining: fmt(remaining),
      },
    });
    expect(exact).toMatchObject({ status: 200 });
    expect(cent).toEqual({
      status: 422,
      error: {
        code: 'LIMIT_EXCEEDED',
        detail: 'the amount would exceed the daily debit limit of this account',
        limit: '5000.00',
        remaining: '0.00',
      },
    });
  });
});
