import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { luhnCheckDigit } from '../../shared/account-no';
import { type ApiResponse, type CallOptions, query, startTestStack, type TestStack } from '../helpers/stack';

/*
 * The audit trail of API.md (../shared/API.md): every request to a route other than /health and
 * /openapi.json leaves exactly one event, found by request_id = the response's x-request-id, with
 * the actor, action and outcome the contract names; no secret ever lands in it; admins filter it
 * exactly; and nobody, the table owner included, can rewrite it.
 */

const PASSWORD = 'audit-password-01';
const PIN = '615283';
const WRONG_PIN = '904172';
const USER_AGENT = `audit-test/1.0 (${randomBytes(4).toString('hex')})`;

let s: TestStack;
let counter = 0;
let admin: Principal;
let teller: Principal;
let customer: Principal;
let other: Principal;
let ownAccount: string;
let foreignAccount: string;
/** Every password, PIN and token this file sends: none may appear in audit_logs. */
const secrets = {
  passwords: new Set<string>([PASSWORD]),
  pins: new Set<string>([PIN, WRONG_PIN]),
  tokens: new Set<string>(),
};

interface Principal {
  readonly id: string;
  readonly username: string;
  readonly token: string;
}

interface AuditRow extends Record<string, unknown> {
  id: string;
  actor: string;
  action: string;
  outcome: string;
  details: Record<string, unknown>;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
}

function uname(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}

async function call(method: string, path: string, options: CallOptions = {}): Promise<ApiResponse> {
  const res = await s.call(method, path, {
    ...options,
    headers: { 'user-agent': USER_AGENT, ...options.headers },
  });
  if (typeof res.body.accessToken === 'string') secrets.tokens.add(res.body.accessToken);
  return res;
}

async function user(role: 'customer' | 'teller' | 'admin'): Promise<Principal> {
  const username = uname(`a-${role}`);
  const id = await s.createUser(username, PASSWORD, role);
  const token = await s.login(username, PASSWORD);
  secrets.tokens.add(token);
  return { id, username, token };
}

async function openAccount(ownerId: string, funds?: string): Promise<string> {
  const res = await s.call('POST', '/accounts', {
    token: teller.token,
    body: { ownerId, name: 'Audited', pin: PIN },
  });
  const accountNo = res.body.accountNo;
  if (res.status !== 201 || typeof accountNo !== 'string') throw new Error(`account not opened: ${res.text}`);
  if (funds) {
    const dep = await s.call('POST', `/accounts/${accountNo}/deposit`, {
      token: teller.token,
      body: { amount: funds },
    });
    if (dep.status !== 200) throw new Error(`not funded: ${dep.text}`);
  }
  return accountNo;
}

/** A well-formed account number (valid Luhn check digit) that no account has. */
async function unusedAccountNo(): Promise<string> {
  for (;;) {
    const payload = `8${String(randomBytes(6).readUIntBE(0, 6)).padStart(10, '0').slice(-10)}`;
    const candidate = `${payload}${luhnCheckDigit(payload)}`;
    const rows = await query(s.db, 'SELECT 1 FROM accounts WHERE account_no = $1', [candidate]);
    if (rows.length === 0) return candidate;
  }
}

async function eventsOf(res: ApiResponse): Promise<AuditRow[]> {
  const requestId = res.headers.get('x-request-id');
  expect(requestId).toBeTruthy();
  return query<AuditRow>(
    s.db,
    'SELECT id::text, actor, action, outcome, details, ip, user_agent, request_id FROM audit_logs WHERE request_id = $1',
    [requestId],
  );
}

interface Expected {
  readonly status: number;
  readonly code?: string;
  readonly actor: string;
  readonly action: string;
  readonly outcome: 'success' | 'denied' | 'failed';
}

/** Exactly one event for the request, with the expected who/what/verdict and its columns filled. */
async function expectOneEvent(res: ApiResponse, expected: Expected): Promise<AuditRow> {
  expect(res.status).toBe(expected.status);
  if (expected.code) expect(res.body.code).toBe(expected.code);
  const rows = await eventsOf(res);
  expect(rows).toHaveLength(1);
  const [row] = rows;
  if (!row) throw new Error('no audit event');
  expect({ actor: row.actor, action: row.action, outcome: row.outcome }).toEqual({
    actor: expected.actor,
    action: expected.action,
    outcome: expected.outcome,
  });
  expect(row.request_id).toBe(res.headers.get('x-request-id'));
  expect(row.ip).toBe('127.0.0.1');
  expect(row.user_agent).toBe(USER_AGENT);
  return row;
}

beforeAll(async () => {
  s = await startTestStack();
  admin = await user('admin');
  teller = await user('teller');
  customer = await user('customer');
  other = await user('customer');
  ownAccount = await openAccount(customer.id, '500.00');
  foreignAccount = await openAccount(other.id, '500.00');
});

afterAll(async () => {
  await s?.close();
});

describe('one audit event per request', () => {
  it('records a success of every route kind against the caller', async () => {
    const newUser = uname('a-new');
    const lockable = await openAccount(customer.id);
    const cases: Array<{ run: () => Promise<ApiResponse>; expected: Expected }> = [
      {
        run: () => call('POST', '/auth/login', { body: { username: customer.username, password: PASSWORD } }),
        expected: { status: 200, actor: customer.username, action: 'auth.login', outcome: 'success' },
      },
      {
        run: () => call('GET', '/me', { token: customer.token }),
        expected: { status: 200, actor: customer.username, action: 'me.get', outcome: 'success' },
      },
      {
        run: () =>
          call('POST', '/users', {
            token: admin.token,
            body: { username: newUser, password: PASSWORD, role: 'customer' },
          }),
        expected: { status: 201, actor: admin.username, action: 'users.create', outcome: 'success' },
      },
      {
        run: () => call('GET', '/users', { token: admin.token }),
        expected: { status: 200, actor: admin.username, action: 'users.list', outcome: 'success' },
      },
      {
        run: () =>
          call('POST', '/accounts', {
            token: teller.token,
            body: { ownerId: customer.id, name: 'Second', pin: PIN },
          }),
        expected: { status: 201, actor: teller.username, action: 'accounts.create', outcome: 'success' },
      },
      {
        run: () => call('GET', '/accounts', { token: customer.token }),
        expected: { status: 200, actor: customer.username, action: 'accounts.list', outcome: 'success' },
      },
      {
        run: () => call('GET', `/accounts/${ownAccount}`, { token: customer.token }),
        expected: { status: 200, actor: customer.username, action: 'accounts.get', outcome: 'success' },
      },
      {
        run: () =>
          call('POST', `/accounts/${ownAccount}/deposit`, {
            token: customer.token,
            body: { amount: '5.00', pin: PIN },
          }),
        expected: { status: 200, actor: customer.username, action: 'accounts.deposit', outcome: 'success' },
      },
      {
        run: () =>
          call('POST', `/accounts/${ownAccount}/deposit`, { token: teller.token, body: { amount: '5.00' } }),
        expected: { status: 200, actor: teller.username, action: 'accounts.deposit', outcome: 'success' },
      },
      {
        run: () =>
          call('POST', `/accounts/${ownAccount}/withdraw`, {
            token: customer.token,
            body: { amount: '1.00', pin: PIN },
          }),
        expected: { status: 200, actor: customer.username, action: 'accounts.withdraw', outcome: 'success' },
      },
      {
        run: () =>
          call('POST', '/transfers', {
            token: customer.token,
            body: { fromAccountNo: ownAccount, toAccountNo: foreignAccount, amount: '2.00', pin: PIN },
          }),
        expected: { status: 201, actor: customer.username, action: 'transfers.create', outcome: 'success' },
      },
      {
        run: () =>
          call('POST', '/transfers', {
            token: admin.token,
            body: { fromAccountNo: foreignAccount, toAccountNo: ownAccount, amount: '2.00' },
          }),
        expected: { status: 201, actor: admin.username, action: 'transfers.create', outcome: 'success' },
      },
      {
        run: () =>
          call('POST', `/accounts/${lockable}/lock`, { token: teller.token, body: { reason: 'audit' } }),
        expected: { status: 200, actor: teller.username, action: 'accounts.lock', outcome: 'success' },
      },
      {
        run: () => call('POST', `/accounts/${lockable}/unlock`, { token: admin.token, body: {} }),
        expected: { status: 200, actor: admin.username, action: 'accounts.unlock', outcome: 'success' },
      },
      {
        run: () => call('GET', `/accounts/${ownAccount}/history`, { token: customer.token }),
        expected: { status: 200, actor: customer.username, action: 'accounts.history', outcome: 'success' },
      },
      {
        run: () => call('GET', '/audit-logs', { token: admin.token }),
        expected: { status: 200, actor: admin.username, action: 'auditLogs.list', outcome: 'success' },
      },
    ];

    for (const { run, expected } of cases) await expectOneEvent(await run(), expected);
  });

  it('records a 401 without a token against "anonymous"', async () => {
    const me = await call('GET', '/me');
    const dep = await call('POST', `/accounts/${ownAccount}/deposit`, { body: { amount: '1.00', pin: PIN } });
    const badToken = await call('GET', '/users', { headers: { authorization: 'Bearer a.b.c' } });

    const base = { status: 401, code: 'UNAUTHENTICATED', actor: 'anonymous', outcome: 'denied' } as const;
    await expectOneEvent(me, { ...base, action: 'me.get' });
    await expectOneEvent(dep, { ...base, action: 'accounts.deposit' });
    await expectOneEvent(badToken, { ...base, action: 'users.list' });
  });

  it("records a malformed body or wrong content type against the token's user, and is 401 without a token", async () => {
    // Act
    const malformed = await call('POST', `/accounts/${ownAccount}/deposit`, {
      token: customer.token,
      rawBody: '{"amount":',
    });
    const wrongType = await call('POST', `/accounts/${ownAccount}/deposit`, {
      token: customer.token,
      rawBody: 'amount=1.00',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const anonymous = await call('POST', `/accounts/${ownAccount}/deposit`, { rawBody: '{"amount":' });
    // Assess
    const base = { actor: customer.username, action: 'accounts.deposit', outcome: 'failed' } as const;
    await expectOneEvent(malformed, { ...base, status: 400, code: 'VALIDATION_FAILED' });
    await expectOneEvent(wrongType, { ...base, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' });
    await expectOneEvent(anonymous, {
      status: 401,
      code: 'UNAUTHENTICATED',
      actor: 'anonymous',
      action: 'accounts.deposit',
      outcome: 'denied',
    });
  });

  it('records a login with a name that cannot be a username against "anonymous", refused or rate-limited alike', async () => {
    // Act
    const res = await call('POST', '/auth/login', {
      body: { username: 'Bad Name', password: 'whatever-password' },
    });
    // Assess
    await expectOneEvent(res, {
      status: 401,
      code: 'UNAUTHENTICATED',
      actor: 'anonymous',
      action: 'auth.login',
      outcome: 'denied',
    });
  });

  it('records a failed login against the username tried, known or not', async () => {
    const wrongPassword = 'not-the-password-1';
    secrets.passwords.add(wrongPassword);
    const unknown = uname('a-ghost');

    const known = await call('POST', '/auth/login', {
      body: { username: other.username, password: wrongPassword },
    });
    const ghost = await call('POST', '/auth/login', { body: { username: unknown, password: wrongPassword } });

    const base = { status: 401, code: 'UNAUTHENTICATED', action: 'auth.login', outcome: 'denied' } as const;
    await expectOneEvent(known, { ...base, actor: other.username });
    await expectOneEvent(ghost, { ...base, actor: unknown });
  });

  it('records 403, 400, 404, 409, 422 and 423 refusals with their outcome', async () => {
    const locked = await openAccount(customer.id, '10.00');
    await call('POST', `/accounts/${locked}/lock`, { token: teller.token, body: { reason: 'audit 423' } });

    const forbidden = await call('GET', '/users', { token: customer.token });
    const tellerMakesAdmin = await call('POST', '/users', {
      token: teller.token,
      body: { username: uname('a-nope'), password: PASSWORD, role: 'admin' },
    });
    const invalid = await call('POST', `/accounts/${ownAccount}/deposit`, {
      token: customer.token,
      body: { amount: '0', pin: PIN },
    });
    const badNo = await call(
      'GET',
      `/accounts/${ownAccount.slice(0, 11)}${(Number(ownAccount[11]) + 1) % 10}`,
      {
        token: teller.token,
      },
    );
    const notFound = await call('GET', `/accounts/${foreignAccount}`, { token: customer.token });
    const conflict = await call('POST', '/users', {
      token: admin.token,
      body: { username: other.username, password: PASSWORD, role: 'customer' },
    });
    const poor = await call('POST', `/accounts/${ownAccount}/withdraw`, {
      token: customer.token,
      // Below the step-up amount (1000.00), so only the funds decide.
      body: { amount: '999.99', pin: PIN },
    });
    const lockedRes = await call('POST', `/accounts/${locked}/deposit`, {
      token: customer.token,
      body: { amount: '1.00', pin: PIN },
    });

    const c = customer.username;
    await expectOneEvent(forbidden, {
      status: 403,
      code: 'FORBIDDEN',
      actor: c,
      action: 'users.list',
      outcome: 'denied',
    });
    await expectOneEvent(tellerMakesAdmin, {
      status: 403,
      code: 'FORBIDDEN',
      actor: teller.username,
      action: 'users.create',
      outcome: 'denied',
    });
    await expectOneEvent(invalid, {
      status: 400,
      code: 'VALIDATION_FAILED',
      actor: c,
      action: 'accounts.deposit',
      outcome: 'failed',
    });
    await expectOneEvent(badNo, {
      status: 400,
      code: 'VALIDATION_FAILED',
      actor: teller.username,
      action: 'accounts.get',
      outcome: 'failed',
    });
    await expectOneEvent(notFound, {
      status: 404,
      code: 'NOT_FOUND',
      actor: c,
      action: 'accounts.get',
      outcome: 'failed',
    });
    await expectOneEvent(conflict, {
      status: 409,
      code: 'CONFLICT',
      actor: admin.username,
      action: 'users.create',
      outcome: 'failed',
    });
    await expectOneEvent(poor, {
      status: 422,
      code: 'INSUFFICIENT_FUNDS',
      actor: c,
      action: 'accounts.withdraw',
      outcome: 'failed',
    });
    await expectOneEvent(lockedRes, {
      status: 423,
      code: 'ACCOUNT_LOCKED',
      actor: c,
      action: 'accounts.deposit',
      outcome: 'denied',
    });
  });

  it('records an INVALID_PIN as denied with the attempts remaining', async () => {
    const accountNo = await openAccount(customer.id, '10.00');

    const res = await call('POST', `/accounts/${accountNo}/withdraw`, {
      token: customer.token,
      body: { amount: '1.00', pin: WRONG_PIN },
    });
    const transfer = await call('POST', '/transfers', {
      token: customer.token,
      body: { fromAccountNo: accountNo, toAccountNo: foreignAccount, amount: '1.00', pin: WRONG_PIN },
    });

    const first = await expectOneEvent(res, {
      status: 403,
      code: 'INVALID_PIN',
      actor: customer.username,
      action: 'accounts.withdraw',
      outcome: 'denied',
    });
    expect(first.details.attemptsRemaining).toBe(2);
    const second = await expectOneEvent(transfer, {
      status: 403,
      code: 'INVALID_PIN',
      actor: customer.username,
      action: 'transfers.create',
      outcome: 'denied',
    });
    expect(second.details.attemptsRemaining).toBe(1);
  });

  it('records refusals on the PIN path and on the teller path once each', async () => {
    const accountNo = await openAccount(customer.id, '10.00');
    const locked = await openAccount(other.id, '10.00');
    await call('POST', `/accounts/${locked}/lock`, { token: teller.token, body: { reason: 'audit' } });
    const nowhere = await unusedAccountNo();
    const idem = { 'idempotency-key': `audit-${randomBytes(4).toString('hex')}` };

    const toNowhere = await call('POST', '/transfers', {
      token: customer.token,
      body: { fromAccountNo: accountNo, toAccountNo: nowhere, amount: '1.00', pin: PIN },
    });
    const toForeign = await call('POST', `/accounts/${foreignAccount}/deposit`, {
      token: customer.token,
      body: { amount: '1.00', pin: PIN },
    });
    const tellerLocked = await call('POST', `/accounts/${locked}/deposit`, {
      token: teller.token,
      body: { amount: '1.00' },
    });
    const tellerPoor = await call('POST', `/accounts/${accountNo}/withdraw`, {
      token: teller.token,
      body: { amount: '10.01' },
    });
    const first = await call('POST', `/accounts/${accountNo}/deposit`, {
      token: customer.token,
      body: { amount: '2.00', pin: PIN },
      headers: idem,
    });
    const replay = await call('POST', `/accounts/${accountNo}/deposit`, {
      token: customer.token,
      body: { amount: '2.00', pin: PIN },
      headers: idem,
    });
    const wrong: ApiResponse[] = [];
    for (let i = 0; i < 3; i += 1) {
      wrong.push(
        await call('POST', `/accounts/${accountNo}/deposit`, {
          token: customer.token,
          body: { amount: '1.00', pin: WRONG_PIN },
        }),
      );
    }
    const afterLock = await call('POST', `/accounts/${accountNo}/deposit`, {
      token: customer.token,
      body: { amount: '1.00', pin: PIN },
    });

    const c = customer.username;
    await expectOneEvent(toNowhere, {
      status: 404,
      code: 'NOT_FOUND',
      actor: c,
      action: 'transfers.create',
      outcome: 'failed',
    });
    await expectOneEvent(toForeign, {
      status: 404,
      code: 'NOT_FOUND',
      actor: c,
      action: 'accounts.deposit',
      outcome: 'failed',
    });
    await expectOneEvent(tellerLocked, {
      status: 423,
      code: 'ACCOUNT_LOCKED',
      actor: teller.username,
      action: 'accounts.deposit',
      outcome: 'denied',
    });
    await expectOneEvent(tellerPoor, {
      status: 422,
      code: 'INSUFFICIENT_FUNDS',
      actor: teller.username,
      action: 'accounts.withdraw',
      outcome: 'failed',
    });
    await expectOneEvent(first, { status: 200, actor: c, action: 'accounts.deposit', outcome: 'success' });
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    await expectOneEvent(replay, { status: 200, actor: c, action: 'accounts.deposit', outcome: 'success' });
    const remaining: unknown[] = [];
    for (const res of wrong) {
      const row = await expectOneEvent(res, {
        status: 403,
        code: 'INVALID_PIN',
        actor: c,
        action: 'accounts.deposit',
        outcome: 'denied',
      });
      remaining.push(row.details.attemptsRemaining);
    }
    expect(remaining).toEqual([2, 1, 0]);
    await expectOneEvent(afterLock, {
      status: 423,
      code: 'ACCOUNT_LOCKED',
      actor: c,
      action: 'accounts.deposit',
      outcome: 'denied',
    });
  });

  it('rate-limits a login after 10 failures for the username: 429 with retry-after, audited', async () => {
    const target = await user('customer');
    const failures: ApiResponse[] = [];
    for (let i = 0; i < 10; i += 1) {
      const password = `wrong-password-${i}`;
      secrets.passwords.add(password);
      failures.push(await call('POST', '/auth/login', { body: { username: target.username, password } }));
    }

    // Even the right password is refused now.
    const limited = await call('POST', '/auth/login', {
      body: { username: target.username, password: PASSWORD },
    });

    for (const res of failures) {
      await expectOneEvent(res, {
        status: 401,
        code: 'UNAUTHENTICATED',
        actor: target.username,
        action: 'auth.login',
        outcome: 'denied',
      });
    }
    await expectOneEvent(limited, {
      status: 429,
      code: 'RATE_LIMITED',
      actor: target.username,
      action: 'auth.login',
      outcome: 'denied',
    });
    expect(limited.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(15 * 60);
    expect(limited.body.accessToken).toBeUndefined();
    // Another username from the same source is not limited by these failures.
    const fine = await call('POST', '/auth/login', {
      body: { username: customer.username, password: PASSWORD },
    });
    expect(fine.status).toBe(200);
  });

  it('leaves no event for /health and /openapi.json', async () => {
    const [{ n: before } = { n: '' }] = await query<{ n: string }>(
      s.db,
      'SELECT count(*)::text AS n FROM audit_logs',
    );

    const health = await call('GET', '/health');
    const openapi = await call('GET', '/openapi.json');

    expect([health.status, openapi.status]).toEqual([200, 200]);
    expect(await eventsOf(health)).toEqual([]);
    expect(await eventsOf(openapi)).toEqual([]);
    const [{ n: after } = { n: '' }] = await query<{ n: string }>(
      s.db,
      'SELECT count(*)::text AS n FROM audit_logs',
    );
    expect(after).toBe(before);
  });
});

describe('no secrets in the audit trail', () => {
  it('holds none of the passwords, PINs or tokens used, in any column', async () => {
    // Prepare/Act: a fresh round of every secret-carrying request, on top of the rest of this file.
    const password = `secret-${randomBytes(6).toString('hex')}`;
    const pin = '730519';
    const wrongPin = '281946';
    secrets.passwords.add(password);
    secrets.pins.add(pin).add(wrongPin);
    const username = uname('a-secret');
    const created = await call('POST', '/users', {
      token: admin.token,
      body: { username, password, role: 'customer' },
    });
    expect(created.status).toBe(201);
    const login = await call('POST', '/auth/login', { body: { username, password } });
    expect(login.status).toBe(200);
    const token = String(login.body.accessToken);
    await call('POST', '/auth/login', { body: { username, password: `${password}-wrong` } });
    secrets.passwords.add(`${password}-wrong`);
    const opened = await call('POST', '/accounts', {
      token: teller.token,
      body: { ownerId: String(created.body.id), name: 'Secretive', pin },
    });
    const accountNo = String(opened.body.accountNo);
    expect(
      (await call('POST', `/accounts/${accountNo}/deposit`, { token, body: { amount: '3.00', pin } })).status,
    ).toBe(200);
    expect(
      (
        await call('POST', `/accounts/${accountNo}/withdraw`, {
          token,
          body: { amount: '1.00', pin: wrongPin },
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await call('POST', '/transfers', {
          token,
          body: { fromAccountNo: accountNo, toAccountNo: ownAccount, amount: '1.00', pin },
        })
      ).status,
    ).toBe(201);
    // A refused body that carries a password and a PIN (validation failures are audited too).
    await call('POST', '/users', {
      token: admin.token,
      body: { username: 'X!', password, role: 'customer' },
    });
    await call('POST', `/accounts/${accountNo}/deposit`, { token, body: { amount: '0', pin } });

    // Assess: the whole table as text.
    const [{ text } = { text: '' }] = await query<{ text: string }>(
      s.db,
      `SELECT coalesce(string_agg(t::text, E'\\n' ORDER BY t.seq), '') AS text FROM audit_logs t`,
    );
    // The search sees what the events do hold (the username tried, the account number).
    expect(text).toContain(username);
    expect(text).toContain(accountNo);
    const plain = [
      ...secrets.passwords,
      ...secrets.tokens,
      ...[...secrets.tokens].map((t) => t.split('.')[2] ?? t),
    ];
    expect(secrets.tokens.size).toBeGreaterThan(5);
    expect(plain.filter((secret) => text.includes(secret))).toEqual([]);
    // A PIN is a short digit string that may occur inside an account number or a UUID by chance;
    // leaked, it stands alone (a JSON string or value), so look for it as a whole token.
    const pins = [...secrets.pins].filter((p) =>
      new RegExp(`(?<![0-9A-Za-z])${p}(?![0-9A-Za-z])`).test(text),
    );
    expect(pins).toEqual([]);
    // Nor a bcrypt hash of either.
    expect(text).not.toMatch(/\$2[aby]?\$\d\d\$/);
  });
});

describe('GET /audit-logs filters', () => {
  async function listAll(qs: string): Promise<Array<Record<string, unknown>>> {
    const items: Array<Record<string, unknown>> = [];
    let cursor: string | null = null;
    for (let page = 0; page < 50; page += 1) {
      const url: string = `/audit-logs?limit=100&${qs}${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await call('GET', url, { token: admin.token });
      expect(res.status).toBe(200);
      items.push(...(res.body.items ?? []));
      if (res.body.nextCursor === null) return items;
      cursor = String(res.body.nextCursor);
    }
    throw new Error('too many pages');
  }

  async function dbIds(where: string, params: unknown[]): Promise<string[]> {
    const rows = await query<{ id: string }>(
      s.db,
      `SELECT id::text FROM audit_logs WHERE ${where} ORDER BY seq DESC`,
      params,
    );
    return rows.map((r) => r.id);
  }

  it('filters ?actor= exactly (no prefix, no case folding)', async () => {
    const bob = await user('customer');
    const bobName = bob.username;
    // A username that extends bob's: ?actor= must not match it as a prefix.
    const longer = `${bobName}0`;
    await s.createUser(longer, PASSWORD, 'customer');
    await call('POST', '/auth/login', { body: { username: longer, password: PASSWORD } });
    await call('GET', '/me', { token: bob.token });
    const expectedIds = await dbIds('actor = $1', [bobName]);

    const items = await listAll(`actor=${encodeURIComponent(bobName)}`);
    const upper = await listAll(`actor=${encodeURIComponent(bobName.toUpperCase())}`);

    expect(expectedIds.length).toBeGreaterThanOrEqual(2);
    expect(items.map((e) => e.id)).toEqual(expectedIds);
    expect(items.every((e) => e.actor === bobName)).toBe(true);
    expect(upper).toEqual([]);
    expect((await listAll(`actor=${encodeURIComponent(longer)}`)).map((e) => e.actor)).toEqual([longer]);
  });

  it('filters ?action= and ?outcome= exactly, alone and together', async () => {
    await call('GET', '/users', { token: customer.token });
    await call('POST', `/accounts/${ownAccount}/deposit`, { token: teller.token, body: { amount: '1.00' } });
    const byAction = await dbIds('action = $1', ['accounts.deposit']);
    const byOutcome = await dbIds('outcome = $1', ['denied']);
    const combined = await dbIds('actor = $1 AND action = $2 AND outcome = $3', [
      customer.username,
      'users.list',
      'denied',
    ]);

    const actionItems = await listAll('action=accounts.deposit');
    const outcomeItems = await listAll('outcome=denied');
    const combinedItems = await listAll(`actor=${customer.username}&action=users.list&outcome=denied`);
    const prefix = await listAll('action=accounts');

    expect(actionItems.map((e) => e.id)).toEqual(byAction);
    expect(byAction.length).toBeGreaterThan(2);
    expect(outcomeItems.map((e) => e.id)).toEqual(byOutcome);
    expect(byOutcome.length).toBeGreaterThan(2);
    expect(combinedItems.map((e) => e.id)).toEqual(combined);
    expect(combined.length).toBeGreaterThanOrEqual(1);
    expect(prefix).toEqual([]);
    const bad = await call('GET', '/audit-logs?outcome=maybe', { token: admin.token });
    expect([bad.status, bad.body.code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('answers events in the documented shape, matching the rows', async () => {
    const probe = await call('GET', '/me', { token: other.token });
    const requestId = probe.headers.get('x-request-id');

    const items = await listAll(`actor=${other.username}&action=me.get`);

    const event = items.find((e) => e.requestId === requestId);
    expect(event).toMatchObject({
      actor: other.username,
      action: 'me.get',
      outcome: 'success',
      ip: '127.0.0.1',
      userAgent: USER_AGENT,
      requestId,
    });
    expect(event?.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    expect(typeof event?.details).toBe('object');
  });
});

describe('audit_logs is append-only', () => {
  async function attempt(as: Parameters<TestStack['db']['client']>[0], sql: string, params: unknown[] = []) {
    const client = s.db.client(as);
    await client.connect();
    try {
      await client.query(sql, params);
      return 'done';
    } catch (error) {
      return `refused: ${(error as Error).message}`;
    } finally {
      await client.end();
    }
  }

  it('refuses UPDATE, DELETE and TRUNCATE to the superuser, the owner and every app role', async () => {
    const res = await call('GET', '/me', { token: customer.token });
    const [row] = await eventsOf(res);
    if (!row) throw new Error('no event');
    const snapshot = await query(s.db, 'SELECT * FROM audit_logs ORDER BY seq');
    const [{ owner } = { owner: '' }] = await query<{ owner: string }>(
      s.db,
      "SELECT tableowner AS owner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'audit_logs'",
    );
    expect(owner).not.toBe('');
    const asOwner = (sql: string) => `SET ROLE "${owner.replaceAll('"', '""')}"; ${sql}`;
    const update = `UPDATE audit_logs SET outcome = 'success', details = '{}' WHERE id = '${row.id}'`;
    const remove = `DELETE FROM audit_logs WHERE id = '${row.id}'`;

    const results = {
      superuserUpdate: await attempt('superuser', update),
      superuserDelete: await attempt('superuser', remove),
      superuserDeleteAll: await attempt('superuser', 'DELETE FROM audit_logs'),
      superuserTruncate: await attempt('superuser', 'TRUNCATE audit_logs'),
      ownerUpdate: await attempt('superuser', asOwner(update)),
      ownerDelete: await attempt('superuser', asOwner(remove)),
      adminUpdate: await attempt('bank_admin', update),
      adminDelete: await attempt('bank_admin', remove),
      tellerDelete: await attempt('bank_teller', remove),
      customerDelete: await attempt('bank_customer', remove),
      customerInsert: await attempt(
        'bank_customer',
        "INSERT INTO audit_logs (actor, action, outcome) VALUES ('forged', 'me.get', 'success')",
      ),
    };

    for (const [name, result] of Object.entries(results)) {
      // Refused by the append-only trigger or by missing privileges, not by some other error.
      expect(`${name}: ${result}`).toMatch(/: refused: .*(is not allowed|permission denied)/);
    }
    expect(await query(s.db, 'SELECT * FROM audit_logs ORDER BY seq')).toEqual(snapshot);
  });
});
