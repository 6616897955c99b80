import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiResponse, type CallOptions, query, startTestStack, type TestStack } from '../helpers/stack';

/*
 * Bad input at the edge (API.md "Conventions" and "Rules that hold on every route"): every
 * refusal is an application/problem+json with type, title, status, detail, code and requestId,
 * carries no stack trace or SQL, and changes nothing: balances, ledger rows, users and accounts
 * are identical before and after. SQL-looking text is either refused or stored as plain data.
 */

const PASSWORD = 'bad-input-password';
const PIN = '4826';
const SQLISH = [
  "'; DROP TABLE accounts; --",
  "' OR '1'='1",
  '1; DELETE FROM history',
  '"); TRUNCATE audit_logs; --',
] as const;

let stack: TestStack;
let tellerToken: string;
let adminToken: string;
let customer: { id: string; username: string; token: string };
let accountNo: string;
let otherAccountNo: string;

const unique = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

interface Snapshot {
  accounts: string;
  ledgerRows: string;
  users: string;
  idempotencyKeys: string;
}

/** Everything a refusal must leave alone (audit events and login attempts excepted). */
async function snapshot(): Promise<Snapshot> {
  const rows = await query<{ accounts: string; ledger: string; users: string; keys: string }>(
    stack.db,
    `SELECT (SELECT string_agg(account_no || ':' || balance_minor || ':' || is_locked || ':' || failed_attempts
                                || ':' || name, ',' ORDER BY id) FROM accounts) AS accounts,
            (SELECT count(*) FROM history)::text AS ledger,
            (SELECT count(*) FROM users)::text AS users,
            (SELECT count(*) FROM idempotency_keys)::text AS keys`,
  );
  const row = rows[0];
  if (!row) throw new Error('no snapshot');
  return { accounts: row.accounts, ledgerRows: row.ledger, users: row.users, idempotencyKeys: row.keys };
}

const PROBLEM_MEMBERS = ['code', 'detail', 'requestId', 'status', 'title', 'type'];
const INTERNALS =
  /\bat \S+:\d+|node_modules|\.ts\b|Error:|\bSELECT\b|\bINSERT\b|bank_[a-z_]+\(|postgres|syntax error|SQLSTATE/i;

/** The response is the problem API.md describes, and nothing internal leaks through it. */
function expectProblem(response: ApiResponse, status: number, code: string): void {
  expect(response.status, response.text).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const members = Object.keys(response.body).sort();
  expect(members.filter((m) => m !== 'errors')).toEqual(PROBLEM_MEMBERS);
  expect(response.body).toMatchObject({
    type: expect.any(String),
    title: expect.any(String),
    status,
    detail: expect.any(String),
    code,
    requestId: response.headers.get('x-request-id'),
  });
  expect(response.text).not.toMatch(INTERNALS);
}

interface Refusal {
  readonly status: number;
  readonly code: string;
  /** errors[].path that must be named (400s). */
  readonly path?: string;
  /** Leaves one audit event (default); false only where nothing may be written at all. */
  readonly audited?: boolean;
}

/** Sends the request and asserts the refusal: problem+json, the named field, nothing changed. */
async function expectRefused(
  method: string,
  path: string,
  options: CallOptions,
  refusal: Refusal,
): Promise<ApiResponse> {
  // Prepare
  const before = await snapshot();
  // Act
  const response = await stack.call(method, path, options);
  // Assess
  expectProblem(response, refusal.status, refusal.code);
  if (refusal.path !== undefined) {
    const paths = ((response.body.errors ?? []) as { path: string }[]).map((e) => e.path);
    expect(paths).toContain(refusal.path);
  }
  expect(await snapshot()).toEqual(before);
  if (refusal.audited ?? true) {
    const events = await query<{ outcome: string }>(
      stack.db,
      'SELECT outcome FROM audit_logs WHERE request_id = $1',
      [response.headers.get('x-request-id')],
    );
    expect(events).toEqual([{ outcome: refusal.status === 401 ? 'denied' : 'failed' }]);
  }
  return response;
}

async function openAccount(ownerId: string, name = 'Bad input'): Promise<ApiResponse> {
  return stack.call('POST', '/accounts', { token: tellerToken, body: { ownerId, name, pin: PIN } });
}

beforeAll(async () => {
  stack = await startTestStack();
  const teller = unique('teller');
  await stack.createUser(teller, PASSWORD, 'teller');
  tellerToken = await stack.login(teller, PASSWORD);
  const admin = unique('admin');
  await stack.createUser(admin, PASSWORD, 'admin');
  adminToken = await stack.login(admin, PASSWORD);
  const username = unique('cust');
  const id = await stack.createUser(username, PASSWORD, 'customer');
  customer = { id, username, token: await stack.login(username, PASSWORD) };
  const otherId = await stack.createUser(unique('other'), PASSWORD, 'customer');
  accountNo = String((await openAccount(id)).body.accountNo);
  otherAccountNo = String((await openAccount(otherId)).body.accountNo);
  for (const [no, amount] of [
    [accountNo, '100.00'],
    [otherAccountNo, '50.00'],
  ] as const) {
    const r = await stack.call('POST', `/accounts/${no}/deposit`, { token: tellerToken, body: { amount } });
    expect(r.status).toBe(200);
  }
});

afterAll(async () => {
  await stack?.close();
});

describe('amounts (API.md: ^(0|[1-9][0-9]{0,12})(\\.[0-9]{1,2})?$, > 0, <= 1000000000.00)', () => {
  const refused: [string, unknown][] = [
    ['"0"', '0'],
    ['"0.00"', '0.00'],
    ['"-1"', '-1'],
    ['"1.234"', '1.234'],
    ['12.5 (a JSON number)', 12.5],
    ['"1e3"', '1e3'],
    ['"01"', '01'],
    ['"00.5"', '00.5'],
    ['" 1"', ' 1'],
    ['"1 "', '1 '],
    ['"1,00"', '1,00'],
    ['""', ''],
    ['"1000000000.01"', '1000000000.01'],
    ['"9999999999999.99" (matches the pattern, over the limit)', '9999999999999.99'],
    ['"99999999999999"', '99999999999999'],
    ['null', null],
    ['"1."', '1.'],
    ['".5"', '.5'],
    ['"+1"', '+1'],
    ['"0x10"', '0x10'],
    ['"１" (a full-width digit)', '１'],
    ['"NaN"', 'NaN'],
    ['"Infinity"', 'Infinity'],
    ['true', true],
    ['an object', { value: '1.00' }],
    ['an array', ['1.00']],
  ];

  it.each(refused)('refuses %s on a teller deposit (400 body.amount)', async (_label, amount) => {
    await expectRefused(
      'POST',
      `/accounts/${accountNo}/deposit`,
      { token: tellerToken, body: { amount } },
      { status: 400, code: 'VALIDATION_FAILED', path: 'body.amount' },
    );
  });

  it('refuses a missing amount (400 body.amount)', async () => {
    await expectRefused(
      'POST',
      `/accounts/${accountNo}/deposit`,
      { token: tellerToken, body: {} },
      { status: 400, code: 'VALIDATION_FAILED', path: 'body.amount' },
    );
  });

  it.each([
    ['"0"', '0'],
    ['"-1"', '-1'],
    ['"1.234"', '1.234'],
    ['12.5', 12.5],
    ['"1000000000.01"', '1000000000.01'],
  ])('refuses %s on a transfer and a withdrawal too', async (_label, amount) => {
    await expectRefused(
      'POST',
      '/transfers',
      { token: tellerToken, body: { fromAccountNo: accountNo, toAccountNo: otherAccountNo, amount } },
      { status: 400, code: 'VALIDATION_FAILED', path: 'body.amount' },
    );
    await expectRefused(
      'POST',
      `/accounts/${accountNo}/withdraw`,
      { token: tellerToken, body: { amount } },
      { status: 400, code: 'VALIDATION_FAILED', path: 'body.amount' },
    );
  });

  it('accepts the edges "0.01" and "1000000000.00", and answers two fraction digits', async () => {
    // Prepare
    const owner = await stack.createUser(unique('edge'), PASSWORD, 'customer');
    const edge = String((await openAccount(owner)).body.accountNo);

    // Act
    const small = await stack.call('POST', `/accounts/${edge}/deposit`, {
      token: tellerToken,
      body: { amount: '0.01' },
    });
    // An admin: a teller's deposit this large waits for a second person (202, limits-approvals tests).
    const large = await stack.call('POST', `/accounts/${edge}/deposit`, {
      token: adminToken,
      body: { amount: '1000000000.00' },
    });
    const whole = await stack.call('POST', `/accounts/${edge}/deposit`, {
      token: tellerToken,
      body: { amount: '7' },
    });
    const tenth = await stack.call('POST', `/accounts/${edge}/deposit`, {
      token: tellerToken,
      body: { amount: '0.5' },
    });

    // Assess
    expect([small.status, large.status, whole.status, tenth.status]).toEqual([200, 200, 200, 200]);
    expect(small.body).toMatchObject({ amount: '0.01', balanceAfter: '0.01' });
    expect(large.body).toMatchObject({ amount: '1000000000.00', balanceAfter: '1000000000.01' });
    expect(whole.body).toMatchObject({ amount: '7.00', balanceAfter: '1000000007.01' });
    expect(tenth.body).toMatchObject({ amount: '0.50', balanceAfter: '1000000007.51' });
    const rows = await query<{ balance_minor: string }>(
      stack.db,
      'SELECT balance_minor::text AS balance_minor FROM accounts WHERE account_no = $1',
      [edge],
    );
    expect(rows).toEqual([{ balance_minor: '100000000751' }]);
  });
});

describe('body shape, JSON and media type', () => {
  // [what, path, body, the unknown field]; functions because the fixtures exist only after beforeAll.
  const unknownFields: [string, () => string, () => Record<string, unknown>, string][] = [
    [
      'a deposit',
      () => `/accounts/${accountNo}/deposit`,
      () => ({ amount: '1.00', currency: 'EUR' }),
      'currency',
    ],
    [
      'a transfer',
      () => '/transfers',
      () => ({ fromAccountNo: accountNo, toAccountNo: otherAccountNo, amount: '1.00', fee: '0.00' }),
      'fee',
    ],
    [
      'an account (mass assignment of a balance)',
      () => '/accounts',
      () => ({ ownerId: customer.id, name: 'Rich', pin: PIN, balance: '1000000.00' }),
      'balance',
    ],
    [
      'a user (mass assignment of a flag)',
      () => '/users',
      () => ({ username: unique('mass'), password: PASSWORD, role: 'customer', isAdmin: true }),
      'isAdmin',
    ],
    ['a lock', () => `/accounts/${otherAccountNo}/lock`, () => ({ reason: 'x', until: 'never' }), 'until'],
    ['an unlock', () => `/accounts/${otherAccountNo}/unlock`, () => ({ force: true }), 'force'],
  ];

  it.each(unknownFields)(
    'refuses an unknown field on %s, naming it in errors[].path',
    async (_label, path, body, field) => {
      await expectRefused(
        'POST',
        path(),
        { token: adminToken, body: body() },
        { status: 400, code: 'VALIDATION_FAILED', path: `body.${field}` },
      );
    },
  );

  it('refuses an unknown query parameter, naming it', async () => {
    await expectRefused(
      'GET',
      `/accounts/${accountNo}/history?limit=5&debug=1`,
      { token: tellerToken },
      { status: 400, code: 'VALIDATION_FAILED', path: 'query.debug' },
    );
  });

  it.each([
    ['truncated JSON', '{"amount": "1.00"'],
    ['a trailing comma', '{"amount": "1.00",}'],
    ['single quotes', "{'amount': '1.00'}"],
    ['not JSON at all', 'amount=1.00'],
  ])('refuses malformed JSON: %s (400)', async (_label, rawBody) => {
    await expectRefused(
      'POST',
      `/accounts/${accountNo}/deposit`,
      { token: tellerToken, rawBody },
      { status: 400, code: 'VALIDATION_FAILED' },
    );
  });

  it.each([
    ['an array', '["1.00"]'],
    ['a string', '"1.00"'],
    ['a number', '1'],
    ['null', 'null'],
  ])('refuses a JSON body that is %s (400)', async (_label, rawBody) => {
    await expectRefused(
      'POST',
      `/accounts/${accountNo}/deposit`,
      { token: tellerToken, rawBody },
      { status: 400, code: 'VALIDATION_FAILED' },
    );
  });

  it.each([
    ['text/plain', '{"amount":"1.00"}'],
    ['application/x-www-form-urlencoded', 'amount=1.00'],
    ['application/xml', '<amount>1.00</amount>'],
    [
      'multipart/form-data; boundary=x',
      '--x\r\nContent-Disposition: form-data; name="amount"\r\n\r\n1.00\r\n--x--',
    ],
  ])('refuses content-type %s (415)', async (contentType, rawBody) => {
    await expectRefused(
      'POST',
      `/accounts/${accountNo}/deposit`,
      { token: tellerToken, rawBody, headers: { 'content-type': contentType } },
      { status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
    );
  });

  it('refuses a body over 16 KiB in the function (413 PAYLOAD_TOO_LARGE)', async () => {
    await expectRefused(
      'POST',
      `/accounts/${accountNo}/deposit`,
      { token: tellerToken, body: { amount: '1.00', memo: 'x'.repeat(17 * 1024) } },
      { status: 413, code: 'PAYLOAD_TOO_LARGE' },
    );
  });

  it('refuses a body over 1 MiB at the gateway (413 PAYLOAD_TOO_LARGE), audited like any refusal', async () => {
    // The gateway answers before any function runs; it leaves the request's audit event itself.
    const response = await expectRefused(
      'POST',
      `/accounts/${accountNo}/deposit`,
      { token: tellerToken, body: { amount: '1.00', memo: 'x'.repeat(1_100_000) } },
      { status: 413, code: 'PAYLOAD_TOO_LARGE' },
    );
    const events = await query<Record<string, unknown>>(
      stack.db,
      'SELECT actor, action, outcome, details FROM audit_logs WHERE request_id = $1',
      [response.headers.get('x-request-id')],
    );
    expect(events).toEqual([
      {
        actor: 'anonymous',
        action: 'accounts.deposit',
        outcome: 'failed',
        details: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
      },
    ]);
  });
});

describe('SQL-looking text is refused or stored verbatim, never executed', () => {
  it.each(SQLISH)(
    'stores %j verbatim as an account name, a deposit memo and a transfer memo',
    async (text) => {
      // Act
      const opened = await openAccount(customer.id, text);
      const opendNo = String(opened.body.accountNo);
      const deposit = await stack.call('POST', `/accounts/${opendNo}/deposit`, {
        token: tellerToken,
        body: { amount: '2.00', memo: text },
      });
      const transfer = await stack.call('POST', '/transfers', {
        token: tellerToken,
        body: { fromAccountNo: opendNo, toAccountNo: otherAccountNo, amount: '1.00', memo: text },
      });
      const read = await stack.call('GET', `/accounts/${opendNo}`, { token: tellerToken });
      const history = await stack.call('GET', `/accounts/${opendNo}/history`, { token: tellerToken });

      // Assess
      expect(opened.status).toBe(201);
      expect(opened.body.name).toBe(text);
      expect(deposit.status).toBe(200);
      expect(transfer.status).toBe(201);
      expect(read.body).toMatchObject({ name: text, balance: '1.00' });
      expect((history.body.items ?? []).map((e) => [e.type, e.memo])).toEqual([
        ['TRANSFER_OUT', text],
        ['DEPOSIT', text],
      ]);
      const tables = await query<{ n: string }>(
        stack.db,
        "SELECT count(*)::text AS n FROM pg_tables WHERE schemaname = 'public' AND tablename IN ('accounts', 'history', 'audit_logs', 'users')",
      );
      expect(tables).toEqual([{ n: '4' }]);
    },
  );

  it.each(SQLISH)('refuses %j as a username, an account number and a list parameter', async (text) => {
    await expectRefused(
      'POST',
      '/users',
      { token: adminToken, body: { username: text, password: PASSWORD, role: 'customer' } },
      { status: 400, code: 'VALIDATION_FAILED', path: 'body.username' },
    );
    await expectRefused(
      'POST',
      `/accounts/${encodeURIComponent(text)}/deposit`,
      { token: tellerToken, body: { amount: '1.00' } },
      { status: 400, code: 'VALIDATION_FAILED', path: 'path.accountNo' },
    );
    await expectRefused(
      'GET',
      `/accounts/${encodeURIComponent(text)}/history`,
      { token: tellerToken },
      { status: 400, code: 'VALIDATION_FAILED', path: 'path.accountNo' },
    );
    await expectRefused(
      'POST',
      '/transfers',
      { token: tellerToken, body: { fromAccountNo: accountNo, toAccountNo: text, amount: '1.00' } },
      { status: 400, code: 'VALIDATION_FAILED', path: 'body.toAccountNo' },
    );
    await expectRefused(
      'GET',
      `/accounts?ownerId=${encodeURIComponent(text)}`,
      { token: tellerToken },
      { status: 400, code: 'VALIDATION_FAILED', path: 'query.ownerId' },
    );
    await expectRefused(
      'GET',
      `/accounts/${accountNo}/history?cursor=${encodeURIComponent(text)}`,
      { token: tellerToken },
      { status: 400, code: 'VALIDATION_FAILED', path: 'query.cursor' },
    );
    await expectRefused(
      'GET',
      `/audit-logs?action=${encodeURIComponent(text)}`,
      { token: adminToken },
      { status: 400, code: 'VALIDATION_FAILED', path: 'query.action' },
    );
  });

  it.each(SQLISH)('treats %j as data in a login and an audit filter', async (text) => {
    // A login with it is an ordinary wrong login (401). It cannot be a username, so its audit
    // event names 'anonymous' (the same rule as for every actor that is not a username).
    const login = await expectRefused(
      'POST',
      '/auth/login',
      { body: { username: text, password: text } },
      { status: 401, code: 'UNAUTHENTICATED' },
    );
    const event = await query<{ actor: string }>(
      stack.db,
      'SELECT actor FROM audit_logs WHERE request_id = $1',
      [login.headers.get('x-request-id')],
    );
    expect(event).toEqual([{ actor: 'anonymous' }]);
    // As an exact-match actor filter it is a plain value: it matches nothing and breaks nothing.
    const before = await snapshot();
    const filtered = await stack.call('GET', `/audit-logs?actor=${encodeURIComponent(text)}`, {
      token: adminToken,
    });
    expect(filtered.status).toBe(200);
    expect(filtered.body).toEqual({ items: [], nextCursor: null });
    expect(await snapshot()).toEqual(before);
  });
});

describe('usernames, passwords and PINs outside the rules', () => {
  it.each([
    ['1111'],
    ['1234'],
    ['4321'],
    ['0000'],
    ['9876'],
    ['56789'],
    ['987654'],
    ['12345'],
    ['123'],
    ['1234567'],
    ['12a4'],
    [''],
    [' 4826'],
    ['４８２６'],
  ])('refuses PIN %j for a new account (400 body.pin)', async (pin) => {
    await expectRefused(
      'POST',
      '/accounts',
      { token: tellerToken, body: { ownerId: customer.id, name: 'Weak pin', pin } },
      { status: 400, code: 'VALIDATION_FAILED', path: 'body.pin' },
    );
  });

  it('refuses a PIN given as a JSON number (400 body.pin)', async () => {
    await expectRefused(
      'POST',
      '/accounts',
      { token: tellerToken, body: { ownerId: customer.id, name: 'Number pin', pin: 4826 } },
      { status: 400, code: 'VALIDATION_FAILED', path: 'body.pin' },
    );
  });

  it.each([['1234'], ['123'], ['12a4']])(
    'refuses a malformed PIN %j on a customer withdrawal without counting an attempt',
    async (pin) => {
      // expectRefused compares failed_attempts before and after, through the snapshot.
      await expectRefused(
        'POST',
        `/accounts/${accountNo}/withdraw`,
        { token: customer.token, body: { amount: '1.00', pin } },
        { status: 400, code: 'VALIDATION_FAILED', path: 'body.pin' },
      );
    },
  );

  it.each([
    ['"Ab"', 'Ab'],
    ['"a"', 'a'],
    ['"ab"', 'ab'],
    ['33 characters', 'a'.repeat(33)],
    ['"bad name"', 'bad name'],
    ['"ALICE"', 'ALICE'],
    ['"alice!"', 'alice!'],
    ['"alicé"', 'alicé'],
  ])('refuses username %s (400 body.username)', async (_label, username) => {
    await expectRefused(
      'POST',
      '/users',
      { token: adminToken, body: { username, password: PASSWORD, role: 'customer' } },
      { status: 400, code: 'VALIDATION_FAILED', path: 'body.username' },
    );
  });

  it.each([
    ['9 characters', 'p'.repeat(9)],
    ['129 characters', 'p'.repeat(129)],
    ['empty', ''],
  ])('refuses a password of %s (400 body.password)', async (_label, password) => {
    await expectRefused(
      'POST',
      '/users',
      { token: adminToken, body: { username: unique('pw'), password, role: 'customer' } },
      { status: 400, code: 'VALIDATION_FAILED', path: 'body.password' },
    );
  });

  it('refuses an unknown role (400 body.role)', async () => {
    await expectRefused(
      'POST',
      '/users',
      { token: adminToken, body: { username: unique('role'), password: PASSWORD, role: 'superuser' } },
      { status: 400, code: 'VALIDATION_FAILED', path: 'body.role' },
    );
  });

  it('accepts the edges: a 3- and a 32-character username, 10- and 128-character passwords', async () => {
    const short = `a${randomBytes(1).toString('hex')}`; // 3 characters
    const long = `${unique('edge')}${'x'.repeat(32)}`.slice(0, 32);
    const responses = await Promise.all([
      stack.call('POST', '/users', {
        token: adminToken,
        body: { username: short, password: 'p'.repeat(10), role: 'customer' },
      }),
      stack.call('POST', '/users', {
        token: adminToken,
        body: { username: long, password: 'p'.repeat(128), role: 'customer' },
      }),
    ]);
    expect(responses.map((r) => r.status)).toEqual([201, 201]);
    expect(responses.map((r) => r.body.username)).toEqual([short, long]);
    expect(long).toHaveLength(32);
    expect(short).toHaveLength(3);
  });
});

describe('names, memos and reasons', () => {
  const badText: [string, string][] = [
    ['81 characters', 'n'.repeat(81)],
    ['empty', ''],
    ['a NUL', 'a\u0000b'],
    ['a newline', 'line\nbreak'],
    ['a tab', 'tab\there'],
    ['an ANSI escape', '\u001b[31mred'],
    ['a right-to-left override', 'abc\u202Etxt.exe'],
    ['a zero-width space', 'a\u200Bb'],
  ];

  it.each(badText)('refuses an account name of %s (400 body.name)', async (_label, name) => {
    await expectRefused(
      'POST',
      '/accounts',
      { token: tellerToken, body: { ownerId: customer.id, name, pin: PIN } },
      { status: 400, code: 'VALIDATION_FAILED', path: 'body.name' },
    );
  });

  it.each(badText)(
    'refuses a memo of %s on a deposit and a transfer (400 body.memo)',
    async (_label, memo) => {
      await expectRefused(
        'POST',
        `/accounts/${accountNo}/deposit`,
        { token: tellerToken, body: { amount: '1.00', memo } },
        { status: 400, code: 'VALIDATION_FAILED', path: 'body.memo' },
      );
      await expectRefused(
        'POST',
        '/transfers',
        {
          token: tellerToken,
          body: { fromAccountNo: accountNo, toAccountNo: otherAccountNo, amount: '1.00', memo },
        },
        { status: 400, code: 'VALIDATION_FAILED', path: 'body.memo' },
      );
    },
  );

  it.each([
    ['201 characters', 'r'.repeat(201)],
    ['empty', ''],
    ['a NUL', 'a\u0000b'],
  ])('refuses a lock reason of %s (400 body.reason)', async (_label, reason) => {
    await expectRefused(
      'POST',
      `/accounts/${otherAccountNo}/lock`,
      { token: tellerToken, body: { reason } },
      { status: 400, code: 'VALIDATION_FAILED', path: 'body.reason' },
    );
  });

  it('accepts an 80-character name and memo, accents and emoji included', async () => {
    const name = `Épargne 🏦 ${'n'.repeat(80)}`.slice(0, 80);
    const memo = `Loyer — ${'m'.repeat(80)}`.slice(0, 80);
    const opened = await openAccount(customer.id, name);
    expect(opened.status).toBe(201);
    expect(opened.body.name).toBe(name);
    const no = String(opened.body.accountNo);
    const deposit = await stack.call('POST', `/accounts/${no}/deposit`, {
      token: tellerToken,
      body: { amount: '1.00', memo },
    });
    expect(deposit.status).toBe(200);
    const history = await stack.call('GET', `/accounts/${no}/history`, { token: tellerToken });
    expect(history.body.items?.[0]?.memo).toBe(memo);
  });
});

describe('list parameters', () => {
  it.each([['0'], ['101'], ['abc'], ['-1'], ['1.5'], [''], ['1e2'], ['0010']])(
    'refuses limit=%s on history and on users (400 query.limit)',
    async (limit) => {
      await expectRefused(
        'GET',
        `/accounts/${accountNo}/history?limit=${encodeURIComponent(limit)}`,
        { token: tellerToken },
        { status: 400, code: 'VALIDATION_FAILED', path: 'query.limit' },
      );
      await expectRefused(
        'GET',
        `/users?limit=${encodeURIComponent(limit)}`,
        { token: adminToken },
        { status: 400, code: 'VALIDATION_FAILED', path: 'query.limit' },
      );
    },
  );

  it('refuses a cursor this API did not issue (400 query.cursor)', async () => {
    for (const cursor of ['!!!', 'bm90LWEtY3Vyc29y', 'x'.repeat(65)]) {
      await expectRefused(
        'GET',
        `/accounts/${accountNo}/history?cursor=${encodeURIComponent(cursor)}`,
        { token: tellerToken },
        { status: 400, code: 'VALIDATION_FAILED', path: 'query.cursor' },
      );
    }
  });

  it('accepts limit=1 and limit=100', async () => {
    const one = await stack.call('GET', `/accounts/${accountNo}/history?limit=1`, { token: tellerToken });
    const hundred = await stack.call('GET', `/users?limit=100`, { token: adminToken });
    expect(one.status).toBe(200);
    expect(one.body.items).toHaveLength(1);
    expect(hundred.status).toBe(200);
  });
});

describe('NUL bytes, cursors and long passwords', () => {
  it.each([
    ['the login username', '/auth/login', { username: 'ab\u0000cd', password: PASSWORD }, 'body.username'],
    [
      'the login password',
      '/auth/login',
      { username: 'someone', password: `${PASSWORD}\u0000` },
      'body.password',
    ],
  ] as const)('refuses a NUL in %s (400, audited, nothing changed)', async (_label, path, body, field) => {
    await expectRefused('POST', path, { body }, { status: 400, code: 'VALIDATION_FAILED', path: field });
  });

  it('refuses a NUL in a new password and in a query filter (400)', async () => {
    await expectRefused(
      'POST',
      '/users',
      {
        token: adminToken,
        body: { username: unique('nul'), password: `ten-chars-\u0000-x`, role: 'customer' },
      },
      { status: 400, code: 'VALIDATION_FAILED', path: 'body.password' },
    );
    await expectRefused(
      'GET',
      `/audit-logs?actor=${encodeURIComponent('ab\u0000c')}`,
      { token: adminToken },
      { status: 400, code: 'VALIDATION_FAILED', path: 'query.actor' },
    );
  });

  it.each(['v1:9999999999999999999', 'v1:9223372036854775808'])(
    'refuses the out-of-range cursor %s (400 query.cursor)',
    async (position) => {
      const cursor = Buffer.from(position, 'utf8').toString('base64url');
      await expectRefused(
        'GET',
        `/accounts/${accountNo}/history?cursor=${cursor}`,
        { token: tellerToken },
        { status: 400, code: 'VALIDATION_FAILED', path: 'query.cursor' },
      );
    },
  );

  it('counts every byte of a password longer than 72 bytes (pre-hashed): a change after byte 72 is a wrong password', async () => {
    // Prepare: 100 bytes, then the same 72-byte prefix with another ending.
    const username = unique('long');
    const password = `${'é'.repeat(36)}${'x'.repeat(28)}`;
    expect(Buffer.byteLength(password, 'utf8')).toBe(100);
    const created = await stack.call('POST', '/users', {
      token: adminToken,
      body: { username, password, role: 'customer' },
    });
    expect(created.status).toBe(201);
    // Act
    const right = await stack.call('POST', '/auth/login', { body: { username, password } });
    const wrong = await stack.call('POST', '/auth/login', {
      body: { username, password: `${password.slice(0, -1)}y` },
    });
    // Assess
    expect(right.status).toBe(200);
    expectProblem(wrong, 401, 'UNAUTHENTICATED');
  });
});
