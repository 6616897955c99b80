import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiContractRoutes } from '../helpers/api-contract';
import { type ApiResponse, query, startTestStack, type TestStack } from '../helpers/stack';
import { enrolTotp } from '../helpers/totp';

/*
 * Every route of API.md (../shared/API.md), through HTTP: the gateway, the real handlers, the
 * Data API server and PostgreSQL. Expectations come from API.md, not from the code.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
const MONEY = /^(0|[1-9][0-9]*)\.[0-9]{2}$/;
const PASSWORD = 'correct-horse-battery';
const PIN = '482615';
const OTHER_PIN = '739204';

/** Luhn over all 12 digits (the check digit is the rightmost), written here from the definition. */
function luhnValid(accountNo: string): boolean {
  if (!/^[0-9]{12}$/.test(accountNo)) return false;
  let sum = 0;
  for (let i = 0; i < accountNo.length; i += 1) {
    const digit = Number(accountNo[accountNo.length - 1 - i]);
    const value = i % 2 === 1 ? digit * 2 : digit;
    sum += value > 9 ? value - 9 : value;
  }
  return sum % 10 === 0;
}

/** The same 11 payload digits with a wrong check digit. */
function withBadCheckDigit(accountNo: string): string {
  const last = Number(accountNo.slice(11));
  const bad = `${accountNo.slice(0, 11)}${(last + 1) % 10}`;
  if (luhnValid(bad)) throw new Error('a changed check digit cannot stay valid');
  return bad;
}

/** A well-formed account number with a valid check digit that no account has. */
function unusedAccountNo(taken: readonly string[]): string {
  for (;;) {
    const payload = `9${randomBytes(8).readBigUInt64BE().toString().padStart(10, '0').slice(-10)}`;
    for (let d = 0; d <= 9; d += 1) {
      const candidate = `${payload}${d}`;
      if (luhnValid(candidate) && !taken.includes(candidate)) return candidate;
    }
  }
}

let s: TestStack;
let adminToken: string;
let tellerToken: string;
let adminId: string;
let adminOtp: () => Promise<string>;
let counter = 0;
const allAccountNos: string[] = [];

function uname(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}

interface Customer {
  readonly id: string;
  readonly username: string;
  readonly token: string;
}

async function newCustomer(): Promise<Customer> {
  const username = uname('cust');
  const id = await s.createUser(username, PASSWORD, 'customer');
  return { id, username, token: await s.login(username, PASSWORD) };
}

async function openAccount(ownerId: string, name = 'Everyday', pin = PIN): Promise<string> {
  const res = await s.call('POST', '/accounts', { token: tellerToken, body: { ownerId, name, pin } });
  expect(res.status).toBe(201);
  const accountNo = res.body.accountNo;
  if (typeof accountNo !== 'string') throw new Error(`no account number: ${res.text}`);
  allAccountNos.push(accountNo);
  return accountNo;
}

async function deposit(accountNo: string, amount: string, token = tellerToken): Promise<ApiResponse> {
  const res = await s.call('POST', `/accounts/${accountNo}/deposit`, { token, body: { amount } });
  expect(res.status).toBe(200);
  return res;
}

async function balanceOf(accountNo: string): Promise<string> {
  const res = await s.call('GET', `/accounts/${accountNo}`, { token: tellerToken });
  expect(res.status).toBe(200);
  return String(res.body.balance);
}

async function ledgerRows(accountNo: string): Promise<number> {
  const rows = await query<{ n: string }>(
    s.db,
    'SELECT count(*)::text AS n FROM history h JOIN accounts a ON a.id = h.account_id WHERE a.account_no = $1',
    [accountNo],
  );
  return Number(rows[0]?.n);
}

async function lock(accountNo: string): Promise<void> {
  const res = await s.call('POST', `/accounts/${accountNo}/lock`, {
    token: tellerToken,
    body: { reason: 'suspicious activity' },
  });
  expect(res.status).toBe(200);
}

function expectProblem(res: ApiResponse, status: number, code: string): void {
  expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(res.body.status).toBe(status);
  expect(typeof res.body.title).toBe('string');
  expect(typeof res.body.detail).toBe('string');
  expect(typeof res.body.type).toBe('string');
  expect(res.body.requestId).toBe(res.headers.get('x-request-id'));
}

/** A 400 with `errors: [{path, message}]`; a body that is not JSON at all has no field to name. */
function expectValidationFailed(res: ApiResponse, options: { notJson?: boolean } = {}): void {
  expectProblem(res, 400, 'VALIDATION_FAILED');
  const errors = res.body.errors;
  expect(Array.isArray(errors)).toBe(true);
  if (!options.notJson) expect((errors as unknown[]).length).toBeGreaterThan(0);
  for (const error of errors as Array<Record<string, unknown>>) {
    expect(Object.keys(error).sort()).toEqual(['message', 'path']);
    expect(typeof error.path).toBe('string');
    expect(typeof error.message).toBe('string');
  }
}

function expectTimestamp(value: unknown, notBefore: number): void {
  expect(value).toMatch(ISO_UTC);
  const at = Date.parse(String(value));
  // Same machine clock; the second of slack covers millisecond rounding only.
  expect(at).toBeGreaterThanOrEqual(notBefore - 1000);
  expect(at).toBeLessThanOrEqual(Date.now() + 1000);
}

function expectUser(value: unknown, expected: { id?: string; username: string; role: string }): void {
  const user = value as Record<string, unknown>;
  expect(Object.keys(user).sort()).toEqual([
    'createdAt',
    'disabled',
    'id',
    'role',
    'totpEnabled',
    'username',
  ]);
  expect(typeof user.disabled).toBe('boolean');
  expect(typeof user.totpEnabled).toBe('boolean');
  expect(user.id).toMatch(UUID);
  if (expected.id) expect(user.id).toBe(expected.id);
  expect(user.username).toBe(expected.username);
  expect(user.role).toBe(expected.role);
  expect(user.createdAt).toMatch(ISO_UTC);
}

function expectAccount(value: unknown): Record<string, unknown> {
  const account = value as Record<string, unknown>;
  expect(Object.keys(account).sort()).toEqual([
    'accountNo',
    'balance',
    'createdAt',
    'isLocked',
    'name',
    'ownerId',
  ]);
  expect(account.accountNo).toMatch(/^[0-9]{12}$/);
  expect(luhnValid(String(account.accountNo))).toBe(true);
  expect(account.ownerId).toMatch(UUID);
  expect(account.balance).toMatch(MONEY);
  expect(typeof account.isLocked).toBe('boolean');
  expect(account.createdAt).toMatch(ISO_UTC);
  return account;
}

/** Walks a list with ?limit=1 and the cursors it returns. */
async function walk(path: string, token: string): Promise<Array<Record<string, unknown>>> {
  const sep = path.includes('?') ? '&' : '?';
  const items: Array<Record<string, unknown>> = [];
  let cursor: string | null = null;
  for (let page = 0; page < 200; page += 1) {
    const url: string =
      cursor === null ? `${path}${sep}limit=1` : `${path}${sep}limit=1&cursor=${encodeURIComponent(cursor)}`;
    const res = await s.call('GET', url, { token });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['items', 'nextCursor']);
    const pageItems = res.body.items ?? [];
    expect(pageItems.length).toBeLessThanOrEqual(1);
    items.push(...pageItems);
    const next = res.body.nextCursor;
    if (next === null) return items;
    expect(typeof next).toBe('string');
    cursor = String(next);
  }
  throw new Error(`${path} did not end within 200 pages`);
}

async function fullList(path: string, token: string): Promise<Array<Record<string, unknown>>> {
  const sep = path.includes('?') ? '&' : '?';
  const res = await s.call('GET', `${path}${sep}limit=100`, { token });
  expect(res.status).toBe(200);
  expect(res.body.nextCursor).toBeNull();
  return res.body.items ?? [];
}

beforeAll(async () => {
  s = await startTestStack();
  const admin = uname('admin');
  adminId = await s.createUser(admin, PASSWORD, 'admin');
  const teller = uname('teller');
  await s.createUser(teller, PASSWORD, 'teller');
  adminToken = await s.login(admin, PASSWORD);
  tellerToken = await s.login(teller, PASSWORD);
  // v1.1: an admin creating a teller or an admin gives a TOTP code.
  adminOtp = await enrolTotp(s, { id: adminId, token: adminToken });
});

afterAll(async () => {
  await s?.close();
});

describe('GET /health', () => {
  it('is public and answers 200 {status:"ok"} with a request id', async () => {
    const res = await s.call('GET', '/health');

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', database: 'up' });
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });
});

describe('GET /openapi.json', () => {
  it('is public and is an OpenAPI 3.1 document listing exactly the routes of API.md', async () => {
    const res = await s.call('GET', '/openapi.json');

    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\.1\.[0-9]+$/);
    const paths = res.body.paths as Record<string, Record<string, unknown>>;
    const listed = Object.entries(paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .filter((op) => /^(GET|POST|PUT|PATCH|DELETE) /.test(op))
      .sort();
    expect(listed).toEqual([...apiContractRoutes].sort());
  });
});

describe('POST /auth/login', () => {
  it('returns a bearer token and the user', async () => {
    const username = uname('login');
    const id = await s.createUser(username, PASSWORD, 'customer');

    const res = await s.call('POST', '/auth/login', { body: { username, password: PASSWORD } });

    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(['accessToken', 'expiresIn', 'tokenType', 'user']);
    expect(res.body.accessToken).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(res.body.tokenType).toBe('Bearer');
    expect(Number.isInteger(res.body.expiresIn)).toBe(true);
    expect(res.body.expiresIn).toBeGreaterThan(0);
    expect(res.body.expiresIn).toBeLessThanOrEqual(15 * 60);
    expectUser(res.body.user, { id, username, role: 'customer' });
    expect(res.text).not.toContain(PASSWORD);
  });

  it('answers a wrong password and an unknown username with the same 401', async () => {
    const username = uname('login');
    await s.createUser(username, PASSWORD, 'customer');

    const wrong = await s.call('POST', '/auth/login', { body: { username, password: 'not-the-password' } });
    const unknown = await s.call('POST', '/auth/login', {
      body: { username: uname('nobody'), password: 'not-the-password' },
    });

    expectProblem(wrong, 401, 'UNAUTHENTICATED');
    expectProblem(unknown, 401, 'UNAUTHENTICATED');
    const { requestId: _a, ...wrongRest } = wrong.body;
    const { requestId: _b, ...unknownRest } = unknown.body;
    expect(wrongRest).toEqual(unknownRest);
    expect(wrong.body.accessToken).toBeUndefined();
  });

  it('refuses a body that fails the schema with 400', async () => {
    const missing = await s.call('POST', '/auth/login', { body: { username: 'someone' } });
    const extra = await s.call('POST', '/auth/login', {
      body: { username: 'someone', password: PASSWORD, role: 'admin' },
    });
    const notJson = await s.call('POST', '/auth/login', { rawBody: '{"username":' });

    expectValidationFailed(missing);
    expectValidationFailed(extra);
    expectValidationFailed(notJson, { notJson: true });
  });
});

describe('GET /me', () => {
  it('returns the caller', async () => {
    const c = await newCustomer();

    const res = await s.call('GET', '/me', { token: c.token });

    expect(res.status).toBe(200);
    expectUser(res.body, { id: c.id, username: c.username, role: 'customer' });
  });

  it('returns a teller and an admin as themselves', async () => {
    const meTeller = await s.call('GET', '/me', { token: tellerToken });
    const meAdmin = await s.call('GET', '/me', { token: adminToken });

    expect(meTeller.status).toBe(200);
    expect(meTeller.body.role).toBe('teller');
    expect(meAdmin.status).toBe(200);
    expect(meAdmin.body.id).toBe(adminId);
    expect(meAdmin.body.role).toBe('admin');
  });

  it('is 401 without a token, with a malformed one and with a wrongly signed one', async () => {
    const c = await newCustomer();
    const [, payload] = c.token.split('.');
    const claims = JSON.parse(Buffer.from(String(payload), 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(randomBytes(48));
    const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`;

    const none = await s.call('GET', '/me');
    const malformed = await s.call('GET', '/me', { headers: { authorization: 'Bearer not-a-token' } });
    const basic = await s.call('GET', '/me', { headers: { authorization: `Basic ${c.token}` } });
    const wrongKey = await s.call('GET', '/me', { token: forged });
    const algNone = await s.call('GET', '/me', { token: unsigned });

    for (const res of [none, malformed, basic, wrongKey, algNone]) expectProblem(res, 401, 'UNAUTHENTICATED');
  });
});

describe('POST /users', () => {
  it('lets an admin create a user of any role, who can then log in', async () => {
    const created: Array<{ username: string; role: string }> = [];
    for (const role of ['customer', 'teller', 'admin'] as const) {
      const username = uname(`new-${role}`);
      const before = Date.now();

      const res = await s.call('POST', '/users', {
        token: adminToken,
        body: {
          username,
          password: PASSWORD,
          role,
          ...(role === 'customer' ? {} : { otp: await adminOtp() }),
        },
      });

      expect(res.status).toBe(201);
      expectUser(res.body, { username, role });
      expectTimestamp(res.body.createdAt, before);
      expect(res.text).not.toContain(PASSWORD);
      created.push({ username, role });
    }
    for (const { username, role } of created) {
      const login = await s.call('POST', '/auth/login', { body: { username, password: PASSWORD } });
      expect(login.status).toBe(200);
      expect((login.body.user as Record<string, unknown>).role).toBe(role);
    }
  });

  it('lets a teller create customers only', async () => {
    const customer = uname('by-teller');
    const teller = uname('by-teller');
    const admin = uname('by-teller');

    const ok = await s.call('POST', '/users', {
      token: tellerToken,
      body: { username: customer, password: PASSWORD, role: 'customer' },
    });
    const asTeller = await s.call('POST', '/users', {
      token: tellerToken,
      body: { username: teller, password: PASSWORD, role: 'teller' },
    });
    const asAdmin = await s.call('POST', '/users', {
      token: tellerToken,
      body: { username: admin, password: PASSWORD, role: 'admin' },
    });

    expect(ok.status).toBe(201);
    expectUser(ok.body, { username: customer, role: 'customer' });
    expectProblem(asTeller, 403, 'FORBIDDEN');
    expectProblem(asAdmin, 403, 'FORBIDDEN');
    const rows = await query(s.db, 'SELECT username FROM users WHERE username = ANY($1)', [[teller, admin]]);
    expect(rows).toEqual([]);
  });

  it('is 403 for a customer and 401 without a token', async () => {
    const c = await newCustomer();
    const body = { username: uname('x'), password: PASSWORD, role: 'customer' };

    expectProblem(await s.call('POST', '/users', { token: c.token, body }), 403, 'FORBIDDEN');
    expectProblem(await s.call('POST', '/users', { body }), 401, 'UNAUTHENTICATED');
  });

  it('is 409 CONFLICT for a username that is taken, and keeps the first user', async () => {
    const username = uname('taken');
    const id = await s.createUser(username, PASSWORD, 'customer');

    const res = await s.call('POST', '/users', {
      token: adminToken,
      body: { username, password: 'another-password-1', role: 'admin', otp: await adminOtp() },
    });

    expectProblem(res, 409, 'CONFLICT');
    const rows = await query(s.db, 'SELECT id, role FROM users WHERE username = $1', [username]);
    expect(rows).toEqual([{ id, role: 'customer' }]);
  });

  it('is 400 for usernames, passwords and roles outside the rules', async () => {
    const bodies = [
      { username: 'ab', password: PASSWORD, role: 'customer' },
      { username: 'a'.repeat(33), password: PASSWORD, role: 'customer' },
      { username: 'Upper-Case', password: PASSWORD, role: 'customer' },
      { username: 'with space', password: PASSWORD, role: 'customer' },
      { username: uname('ok'), password: 'short-9ch', role: 'customer' },
      { username: uname('ok'), password: 'x'.repeat(129), role: 'customer' },
      { username: uname('ok'), password: PASSWORD, role: 'root' },
      { username: uname('ok'), password: PASSWORD },
      { username: uname('ok'), password: PASSWORD, role: 'customer', isAdmin: true },
    ];
    for (const body of bodies) {
      const res = await s.call('POST', '/users', { token: adminToken, body });
      expectValidationFailed(res);
    }
  });

  it('accepts the edges of the rules: 3- and 32-character usernames, 10- and 128-character passwords', async () => {
    const short = `${counter}`.padStart(3, 'z').slice(-3);
    counter += 1;
    const long = `l${counter}`.padEnd(32, '.');

    const a = await s.call('POST', '/users', {
      token: adminToken,
      body: { username: short, password: '0123456789', role: 'customer' },
    });
    const b = await s.call('POST', '/users', {
      token: adminToken,
      body: { username: long, password: 'p'.repeat(128), role: 'customer' },
    });

    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
  });
});

describe('GET /users', () => {
  it('lists users newest first for an admin, and pages through them without duplicates', async () => {
    const first = uname('list-a');
    const second = uname('list-b');
    await s.createUser(first, PASSWORD, 'customer');
    await s.createUser(second, PASSWORD, 'teller');

    const all = await fullList('/users', adminToken);
    const walked = await walk('/users', adminToken);

    for (const user of all) expectUser(user, { username: String(user.username), role: String(user.role) });
    const names = all.map((u) => u.username);
    expect(names.indexOf(second)).toBeLessThan(names.indexOf(first));
    expect(names.indexOf(second)).toBeGreaterThanOrEqual(0);
    const dbUsers = await query<{ username: string }>(s.db, 'SELECT username FROM users ORDER BY seq DESC');
    expect(names).toEqual(dbUsers.map((u) => u.username));
    expect(walked).toEqual(all);
    expect(new Set(walked.map((u) => u.id)).size).toBe(walked.length);
    const defaultPage = await s.call('GET', '/users', { token: adminToken });
    expect(defaultPage.body.items).toEqual(all.slice(0, 20));
  });

  it('is 403 for a customer; a teller (v1.1) sees customers only', async () => {
    const c = await newCustomer();

    expectProblem(await s.call('GET', '/users', { token: c.token }), 403, 'FORBIDDEN');
    const byTeller = await fullList('/users', tellerToken);
    const customers = await query<{ username: string }>(
      s.db,
      "SELECT username FROM users WHERE role = 'customer' ORDER BY seq DESC",
    );
    expect(byTeller.map((u) => u.username)).toEqual(customers.map((u) => u.username));
  });

  it('is 400 for a bad cursor or limit', async () => {
    for (const qs of [
      'cursor=not-a-cursor',
      'cursor=%25%25%25',
      'limit=0',
      'limit=101',
      'limit=abc',
      'sort=asc',
    ]) {
      expectValidationFailed(await s.call('GET', `/users?${qs}`, { token: adminToken }));
    }
  });
});

describe('POST /accounts', () => {
  it('opens an account for a customer: 12 digits passing Luhn, balance "0.00", unlocked', async () => {
    const c = await newCustomer();
    const before = Date.now();

    const byTeller = await s.call('POST', '/accounts', {
      token: tellerToken,
      body: { ownerId: c.id, name: 'Holiday savings', pin: PIN },
    });
    const byAdmin = await s.call('POST', '/accounts', {
      token: adminToken,
      body: { ownerId: c.id, name: 'Bills', pin: OTHER_PIN },
    });

    expect(byTeller.status).toBe(201);
    expect(byAdmin.status).toBe(201);
    const account = expectAccount(byTeller.body);
    expect(account).toMatchObject({
      name: 'Holiday savings',
      ownerId: c.id,
      balance: '0.00',
      isLocked: false,
    });
    expectTimestamp(account.createdAt, before);
    expectAccount(byAdmin.body);
    expect(byAdmin.body.accountNo).not.toBe(account.accountNo);
    expect(byTeller.text).not.toContain(PIN);
    allAccountNos.push(String(account.accountNo), String(byAdmin.body.accountNo));
  });

  it('is 403 for a customer, even for their own ownerId', async () => {
    const c = await newCustomer();

    const res = await s.call('POST', '/accounts', {
      token: c.token,
      body: { ownerId: c.id, name: 'Mine', pin: PIN },
    });

    expectProblem(res, 403, 'FORBIDDEN');
    expect(await query(s.db, 'SELECT 1 FROM accounts WHERE user_id = $1', [c.id])).toEqual([]);
  });

  it('is 404 for an owner that does not exist', async () => {
    const res = await s.call('POST', '/accounts', {
      token: tellerToken,
      body: { ownerId: '00000000-0000-4000-8000-000000000000', name: 'Ghost', pin: PIN },
    });

    expectProblem(res, 404, 'NOT_FOUND');
  });

  it('is 400 for weak or malformed PINs, bad names and unknown fields', async () => {
    const c = await newCustomer();
    const bodies = [
      { ownerId: c.id, name: 'A', pin: '1111' },
      { ownerId: c.id, name: 'A', pin: '1234' },
      { ownerId: c.id, name: 'A', pin: '4321' },
      { ownerId: c.id, name: 'A', pin: '987654' },
      { ownerId: c.id, name: 'A', pin: '000000' },
      { ownerId: c.id, name: 'A', pin: '482' },
      { ownerId: c.id, name: 'A', pin: '4826153' },
      { ownerId: c.id, name: 'A', pin: '48a6' },
      { ownerId: c.id, name: 'A', pin: 4826 },
      { ownerId: c.id, name: '', pin: PIN },
      { ownerId: c.id, name: 'n'.repeat(81), pin: PIN },
      { ownerId: c.id, name: 'tab\there', pin: PIN },
      { ownerId: 'not-a-uuid', name: 'A', pin: PIN },
      { ownerId: c.id, name: 'A', pin: PIN, balance: '100.00' },
    ];
    for (const body of bodies) {
      expectValidationFailed(await s.call('POST', '/accounts', { token: tellerToken, body }));
    }
    expect(await query(s.db, 'SELECT 1 FROM accounts WHERE user_id = $1', [c.id])).toEqual([]);
  });
});

describe('GET /accounts', () => {
  it('gives a customer their own accounts only, newest first', async () => {
    const c = await newCustomer();
    const other = await newCustomer();
    const a1 = await openAccount(c.id, 'First');
    await openAccount(other.id, 'Theirs');
    const a2 = await openAccount(c.id, 'Second');

    const res = await s.call('GET', '/accounts', { token: c.token });
    const naming = await s.call('GET', `/accounts?ownerId=${other.id}`, { token: c.token });

    expect(res.status).toBe(200);
    expect(res.body.nextCursor).toBeNull();
    const items = res.body.items ?? [];
    for (const item of items) expectAccount(item);
    expect(items.map((a) => a.accountNo)).toEqual([a2, a1]);
    expect(items.map((a) => a.name)).toEqual(['Second', 'First']);
    // Naming another owner never shows their accounts.
    expect(naming.status).toBe(200);
    expect((naming.body.items ?? []).filter((a) => a.ownerId !== c.id)).toEqual([]);
  });

  it('lets tellers and admins filter by ?ownerId= and page through the list', async () => {
    const c = await newCustomer();
    const opened = [await openAccount(c.id, 'A'), await openAccount(c.id, 'B'), await openAccount(c.id, 'C')];

    const byTeller = await fullList(`/accounts?ownerId=${c.id}`, tellerToken);
    const byAdmin = await fullList(`/accounts?ownerId=${c.id}`, adminToken);
    const walked = await walk(`/accounts?ownerId=${c.id}`, tellerToken);
    const everyone = await fullList('/accounts', adminToken);

    expect(byTeller.map((a) => a.accountNo)).toEqual([...opened].reverse());
    expect(byAdmin).toEqual(byTeller);
    expect(walked).toEqual(byTeller);
    expect(everyone.length).toBeGreaterThan(3);
    expect(new Set(everyone.map((a) => a.ownerId)).size).toBeGreaterThan(1);
  });

  it('is 400 for a bad cursor, limit or ownerId, and 401 without a token', async () => {
    for (const qs of ['cursor=bogus', 'limit=0', 'limit=101', 'ownerId=nope']) {
      expectValidationFailed(await s.call('GET', `/accounts?${qs}`, { token: tellerToken }));
    }
    expectProblem(await s.call('GET', '/accounts'), 401, 'UNAUTHENTICATED');
  });
});

describe('GET /accounts/{accountNo}', () => {
  it('returns the account to its owner, a teller and an admin', async () => {
    const c = await newCustomer();
    const accountNo = await openAccount(c.id, 'Checking');
    await deposit(accountNo, '12.3');

    const responses = [
      await s.call('GET', `/accounts/${accountNo}`, { token: c.token }),
      await s.call('GET', `/accounts/${accountNo}`, { token: tellerToken }),
      await s.call('GET', `/accounts/${accountNo}`, { token: adminToken }),
    ];

    for (const res of responses) {
      expect(res.status).toBe(200);
      expect(expectAccount(res.body)).toMatchObject({
        accountNo,
        name: 'Checking',
        ownerId: c.id,
        balance: '12.30',
        isLocked: false,
      });
    }
  });

  it("is 404 for a customer asking about another customer's account, and for an unknown account", async () => {
    const c = await newCustomer();
    const other = await newCustomer();
    const theirs = await openAccount(other.id);

    expectProblem(await s.call('GET', `/accounts/${theirs}`, { token: c.token }), 404, 'NOT_FOUND');
    const unknown = unusedAccountNo(allAccountNos);
    expectProblem(await s.call('GET', `/accounts/${unknown}`, { token: tellerToken }), 404, 'NOT_FOUND');
    expectProblem(await s.call('GET', `/accounts/${unknown}`, { token: c.token }), 404, 'NOT_FOUND');
  });

  it('is 400 for a malformed or bad-check-digit number, never a lookup', async () => {
    const c = await newCustomer();
    const accountNo = await openAccount(c.id);

    for (const bad of [
      withBadCheckDigit(accountNo),
      '12345',
      'abcdefghijkl',
      `${accountNo}0`,
      accountNo.slice(1),
    ]) {
      expectValidationFailed(await s.call('GET', `/accounts/${bad}`, { token: tellerToken }));
      expectValidationFailed(await s.call('GET', `/accounts/${bad}`, { token: c.token }));
    }
  });
});

describe('POST /accounts/{accountNo}/deposit', () => {
  it('lets the owner deposit with the PIN and answers a movement', async () => {
    const c = await newCustomer();
    const accountNo = await openAccount(c.id);
    const before = Date.now();

    const res = await s.call('POST', `/accounts/${accountNo}/deposit`, {
      token: c.token,
      body: { amount: '100.5', pin: PIN, memo: 'birthday' },
    });

    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual([
      'accountNo',
      'amount',
      'balanceAfter',
      'createdAt',
      'entryId',
      'type',
    ]);
    expect(res.body).toMatchObject({ accountNo, type: 'DEPOSIT', amount: '100.50', balanceAfter: '100.50' });
    expect(res.body.entryId).toMatch(UUID);
    expectTimestamp(res.body.createdAt, before);
    expect(await balanceOf(accountNo)).toBe('100.50');
  });

  it('lets tellers and admins deposit without a PIN; amounts keep every cent', async () => {
    const c = await newCustomer();
    const accountNo = await openAccount(c.id);

    const a = await s.call('POST', `/accounts/${accountNo}/deposit`, {
      token: tellerToken,
      body: { amount: '0.1' },
    });
    const b = await s.call('POST', `/accounts/${accountNo}/deposit`, {
      token: adminToken,
      body: { amount: '0.2' },
    });
    // An admin: a teller's deposit this large waits for a second person (test/integration/approvals.test.ts).
    const big = await s.call('POST', `/accounts/${accountNo}/deposit`, {
      token: adminToken,
      body: { amount: '1000000000.00' },
    });
    const more = await s.call('POST', `/accounts/${accountNo}/deposit`, {
      token: adminToken,
      body: { amount: '999999999.99' },
    });

    expect(a.body).toMatchObject({ amount: '0.10', balanceAfter: '0.10' });
    expect(b.body).toMatchObject({ amount: '0.20', balanceAfter: '0.30' });
    expect(big.body).toMatchObject({ amount: '1000000000.00', balanceAfter: '1000000000.30' });
    // Past 2^53 cents' precision limits of a double: 1999999999.29 must come back to the cent.
    expect(more.body).toMatchObject({ amount: '999999999.99', balanceAfter: '2000000000.29' });
    expect(await balanceOf(accountNo)).toBe('2000000000.29');
  });

  it('is 400 for amounts outside the rules, and moves nothing', async () => {
    const c = await newCustomer();
    const accountNo = await openAccount(c.id);
    const amounts: unknown[] = [
      '0',
      '0.00',
      '-1',
      '1.234',
      '01',
      '.5',
      '1.',
      '1e3',
      '1,00',
      ' 1',
      '1000000000.01',
      10,
      null,
    ];

    for (const amount of amounts) {
      expectValidationFailed(
        await s.call('POST', `/accounts/${accountNo}/deposit`, { token: tellerToken, body: { amount } }),
      );
    }
    expectValidationFailed(
      await s.call('POST', `/accounts/${accountNo}/deposit`, {
        token: tellerToken,
        body: { amount: '1', fee: '0' },
      }),
    );
    expectValidationFailed(
      await s.call('POST', `/accounts/${accountNo}/deposit`, {
        token: tellerToken,
        body: { amount: '1', memo: 'm'.repeat(81) },
      }),
    );
    expect(await balanceOf(accountNo)).toBe('0.00');
    expect(await ledgerRows(accountNo)).toBe(0);
  });

  it("is 404 for another customer's account and an unknown one, and moves nothing", async () => {
    const c = await newCustomer();
    const other = await newCustomer();
    const theirs = await openAccount(other.id);

    const foreign = await s.call('POST', `/accounts/${theirs}/deposit`, {
      token: c.token,
      body: { amount: '10.00', pin: PIN },
    });
    const unknown = await s.call('POST', `/accounts/${unusedAccountNo(allAccountNos)}/deposit`, {
      token: tellerToken,
      body: { amount: '10.00' },
    });

    expectProblem(foreign, 404, 'NOT_FOUND');
    expectProblem(unknown, 404, 'NOT_FOUND');
    expect(await balanceOf(theirs)).toBe('0.00');
    expect(await ledgerRows(theirs)).toBe(0);
  });

  it('is 400 for a malformed or bad-check-digit number in the path', async () => {
    const c = await newCustomer();
    const accountNo = await openAccount(c.id);

    for (const bad of [withBadCheckDigit(accountNo), '1234', 'x'.repeat(12)]) {
      expectValidationFailed(
        await s.call('POST', `/accounts/${bad}/deposit`, { token: tellerToken, body: { amount: '1.00' } }),
      );
    }
    expect(await ledgerRows(accountNo)).toBe(0);
  });

  it('is 423 on a locked account for customers and tellers alike', async () => {
    const c = await newCustomer();
    const accountNo = await openAccount(c.id);
    await deposit(accountNo, '5.00');
    await lock(accountNo);

    const byOwner = await s.call('POST', `/accounts/${accountNo}/deposit`, {
      token: c.token,
      body: { amount: '1.00', pin: PIN },
    });
    const byTeller = await s.call('POST', `/accounts/${accountNo}/deposit`, {
      token: tellerToken,
      body: { amount: '1.00' },
    });

    expectProblem(byOwner, 423, 'ACCOUNT_LOCKED');
    expectProblem(byTeller, 423, 'ACCOUNT_LOCKED');
    expect(await balanceOf(accountNo)).toBe('5.00');
    expect(await ledgerRows(accountNo)).toBe(1);
  });

  it('is 400 for a customer without a PIN', async () => {
    const c = await newCustomer();
    const accountNo = await openAccount(c.id);

    const res = await s.call('POST', `/accounts/${accountNo}/deposit`, {
      token: c.token,
      body: { amount: '1.00' },
    });

    expectValidationFailed(res);
    expect(await ledgerRows(accountNo)).toBe(0);
  });
});

describe('POST /accounts/{accountNo}/withdraw', () => {
  it('lets the owner withdraw with the PIN, and tellers without', async () => {
    const c = await newCustomer();
    const accountNo = await openAccount(c.id);
    await deposit(accountNo, '50.00');
    const before = Date.now();

    const byOwner = await s.call('POST', `/accounts/${accountNo}/withdraw`, {
      token: c.token,
      body: { amount: '20.25', pin: PIN },
    });
    const byTeller = await s.call('POST', `/accounts/${accountNo}/withdraw`, {
      token: tellerToken,
      body: { amount: '29.75', memo: 'closing' },
    });

    expect(byOwner.status).toBe(200);
    expect(Object.keys(byOwner.body).sort()).toEqual([
      'accountNo',
      'amount',
      'balanceAfter',
      'createdAt',
      'entryId',
      'type',
    ]);
    expect(byOwner.body).toMatchObject({
      accountNo,
      type: 'WITHDRAWAL',
      amount: '20.25',
      balanceAfter: '29.75',
    });
    expect(byOwner.body.entryId).toMatch(UUID);
    expectTimestamp(byOwner.body.createdAt, before);
    expect(byTeller.status).toBe(200);
    expect(byTeller.body).toMatchObject({ type: 'WITHDRAWAL', amount: '29.75', balanceAfter: '0.00' });
    expect(await balanceOf(accountNo)).toBe('0.00');
  });

  it('is 422 INSUFFICIENT_FUNDS for more than the balance: balance unchanged to the cent, no ledger row', async () => {
    const c = await newCustomer();
    const accountNo = await openAccount(c.id);
    await deposit(accountNo, '10.01');

    const byOwner = await s.call('POST', `/accounts/${accountNo}/withdraw`, {
      token: c.token,
      body: { amount: '10.02', pin: PIN },
    });
    const byTeller = await s.call('POST', `/accounts/${accountNo}/withdraw`, {
      token: tellerToken,
      body: { amount: '10.02' },
    });
    const byAdmin = await s.call('POST', `/accounts/${accountNo}/withdraw`, {
      token: adminToken,
      body: { amount: '1000000000' },
    });

    expectProblem(byOwner, 422, 'INSUFFICIENT_FUNDS');
    expectProblem(byTeller, 422, 'INSUFFICIENT_FUNDS');
    expectProblem(byAdmin, 422, 'INSUFFICIENT_FUNDS');
    expect(await balanceOf(accountNo)).toBe('10.01');
    expect(await ledgerRows(accountNo)).toBe(1);
  });

  it("is 404 for another customer's account, 423 on a locked one, 400 for a bad number", async () => {
    const c = await newCustomer();
    const other = await newCustomer();
    const mine = await openAccount(c.id);
    const theirs = await openAccount(other.id);
    await deposit(mine, '10.00');
    await deposit(theirs, '10.00');
    await lock(mine);

    const foreign = await s.call('POST', `/accounts/${theirs}/withdraw`, {
      token: c.token,
      body: { amount: '1.00', pin: PIN },
    });
    const locked = await s.call('POST', `/accounts/${mine}/withdraw`, {
      token: c.token,
      body: { amount: '1.00', pin: PIN },
    });
    const lockedTeller = await s.call('POST', `/accounts/${mine}/withdraw`, {
      token: tellerToken,
      body: { amount: '1.00' },
    });
    const badNo = await s.call('POST', `/accounts/${withBadCheckDigit(theirs)}/withdraw`, {
      token: tellerToken,
      body: { amount: '1.00' },
    });

    expectProblem(foreign, 404, 'NOT_FOUND');
    expectProblem(locked, 423, 'ACCOUNT_LOCKED');
    expectProblem(lockedTeller, 423, 'ACCOUNT_LOCKED');
    expectValidationFailed(badNo);
    expect(await balanceOf(mine)).toBe('10.00');
    expect(await balanceOf(theirs)).toBe('10.00');
    expect(await ledgerRows(mine)).toBe(1);
    expect(await ledgerRows(theirs)).toBe(1);
  });
});

describe('PIN attempts', () => {
  it('counts wrong PINs down, locks after 3, and then refuses even the right PIN with 423', async () => {
    const c = await newCustomer();
    const accountNo = await openAccount(c.id);
    await deposit(accountNo, '40.00');
    const path = `/accounts/${accountNo}/withdraw`;

    const tries = [];
    for (let i = 0; i < 3; i += 1) {
      tries.push(await s.call('POST', path, { token: c.token, body: { amount: '1.00', pin: OTHER_PIN } }));
    }
    const right = await s.call('POST', path, { token: c.token, body: { amount: '1.00', pin: PIN } });

    for (const res of tries) expectProblem(res, 403, 'INVALID_PIN');
    expect(tries.map((r) => r.body.attemptsRemaining)).toEqual([2, 1, 0]);
    expectProblem(right, 423, 'ACCOUNT_LOCKED');
    const account = await s.call('GET', `/accounts/${accountNo}`, { token: tellerToken });
    expect(account.body).toMatchObject({ isLocked: true, balance: '40.00' });
    expect(await ledgerRows(accountNo)).toBe(1);
  });

  it('resets the count on a correct PIN', async () => {
    const c = await newCustomer();
    const accountNo = await openAccount(c.id);
    const path = `/accounts/${accountNo}/deposit`;
    const wrong = { amount: '1.00', pin: OTHER_PIN };

    const w1 = await s.call('POST', path, { token: c.token, body: wrong });
    const w2 = await s.call('POST', path, { token: c.token, body: wrong });
    const ok = await s.call('POST', path, { token: c.token, body: { amount: '1.00', pin: PIN } });
    const w3 = await s.call('POST', path, { token: c.token, body: wrong });

    expect([w1.body.attemptsRemaining, w2.body.attemptsRemaining]).toEqual([2, 1]);
    expect(ok.status).toBe(200);
    expectProblem(w3, 403, 'INVALID_PIN');
    expect(w3.body.attemptsRemaining).toBe(2);
    expect(await balanceOf(accountNo)).toBe('1.00');
  });

  it('a teller unlock after the self-lock restores the account and resets the count', async () => {
    const c = await newCustomer();
    const accountNo = await openAccount(c.id);
    const path = `/accounts/${accountNo}/deposit`;
    for (let i = 0; i < 3; i += 1) {
      await s.call('POST', path, { token: c.token, body: { amount: '1.00', pin: OTHER_PIN } });
    }
    expectProblem(
      await s.call('POST', path, { token: c.token, body: { amount: '1.00', pin: PIN } }),
      423,
      'ACCOUNT_LOCKED',
    );

    const unlocked = await s.call('POST', `/accounts/${accountNo}/unlock`, { token: tellerToken, body: {} });
    const wrong = await s.call('POST', path, { token: c.token, body: { amount: '1.00', pin: OTHER_PIN } });
    const right = await s.call('POST', path, { token: c.token, body: { amount: '1.00', pin: PIN } });

    expect(unlocked.status).toBe(200);
    expect(unlocked.body.isLocked).toBe(false);
    expectProblem(wrong, 403, 'INVALID_PIN');
    expect(wrong.body.attemptsRemaining).toBe(2);
    expect(right.status).toBe(200);
    expect(right.body.balanceAfter).toBe('1.00');
  });

  it("a wrong PIN on another customer's account is 404, not a PIN check", async () => {
    const c = await newCustomer();
    const other = await newCustomer();
    const theirs = await openAccount(other.id);

    for (let i = 0; i < 4; i += 1) {
      const res = await s.call('POST', `/accounts/${theirs}/deposit`, {
        token: c.token,
        body: { amount: '1.00', pin: OTHER_PIN },
      });
      expectProblem(res, 404, 'NOT_FOUND');
    }
    const account = await s.call('GET', `/accounts/${theirs}`, { token: tellerToken });
    expect(account.body.isLocked).toBe(false);
    const rows = await query(s.db, 'SELECT failed_attempts FROM accounts WHERE account_no = $1', [theirs]);
    expect(rows).toEqual([{ failed_attempts: 0 }]);
  });
});

describe('POST /transfers', () => {
  it('moves money from own account to any existing account and answers a transfer', async () => {
    const c = await newCustomer();
    const other = await newCustomer();
    const from = await openAccount(c.id);
    const to = await openAccount(other.id);
    await deposit(from, '75.00');
    const before = Date.now();

    const res = await s.call('POST', '/transfers', {
      token: c.token,
      body: { fromAccountNo: from, toAccountNo: to, amount: '25.5', pin: PIN, memo: 'dinner' },
    });

    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual([
      'amount',
      'createdAt',
      'fromAccountNo',
      'fromBalanceAfter',
      'toAccountNo',
      'transferId',
    ]);
    expect(res.body).toMatchObject({
      fromAccountNo: from,
      toAccountNo: to,
      amount: '25.50',
      fromBalanceAfter: '49.50',
    });
    expect(res.body.transferId).toMatch(UUID);
    expectTimestamp(res.body.createdAt, before);
    expect(await balanceOf(from)).toBe('49.50');
    expect(await balanceOf(to)).toBe('25.50');
  });

  it('lets tellers and admins transfer between any accounts without a PIN', async () => {
    const c = await newCustomer();
    const other = await newCustomer();
    const a = await openAccount(c.id);
    const b = await openAccount(other.id);
    await deposit(a, '10.00');

    const byTeller = await s.call('POST', '/transfers', {
      token: tellerToken,
      body: { fromAccountNo: a, toAccountNo: b, amount: '4.00' },
    });
    const byAdmin = await s.call('POST', '/transfers', {
      token: adminToken,
      body: { fromAccountNo: b, toAccountNo: a, amount: '1.99' },
    });

    expect(byTeller.status).toBe(201);
    expect(byTeller.body.fromBalanceAfter).toBe('6.00');
    expect(byAdmin.status).toBe(201);
    expect(byAdmin.body.fromBalanceAfter).toBe('2.01');
    expect(await balanceOf(a)).toBe('7.99');
    expect(await balanceOf(b)).toBe('2.01');
  });

  it("is 404 from another customer's account and to an unknown one; nothing moves", async () => {
    const c = await newCustomer();
    const other = await newCustomer();
    const mine = await openAccount(c.id);
    const theirs = await openAccount(other.id);
    await deposit(mine, '10.00');
    await deposit(theirs, '10.00');

    const fromForeign = await s.call('POST', '/transfers', {
      token: c.token,
      body: { fromAccountNo: theirs, toAccountNo: mine, amount: '1.00', pin: PIN },
    });
    const toUnknown = await s.call('POST', '/transfers', {
      token: c.token,
      body: { fromAccountNo: mine, toAccountNo: unusedAccountNo(allAccountNos), amount: '1.00', pin: PIN },
    });
    const fromUnknown = await s.call('POST', '/transfers', {
      token: tellerToken,
      body: { fromAccountNo: unusedAccountNo(allAccountNos), toAccountNo: mine, amount: '1.00' },
    });

    expectProblem(fromForeign, 404, 'NOT_FOUND');
    expectProblem(toUnknown, 404, 'NOT_FOUND');
    expectProblem(fromUnknown, 404, 'NOT_FOUND');
    expect([await balanceOf(mine), await balanceOf(theirs)]).toEqual(['10.00', '10.00']);
    expect([await ledgerRows(mine), await ledgerRows(theirs)]).toEqual([1, 1]);
  });

  it('is 422 INSUFFICIENT_FUNDS for more than the balance; no ledger rows on either side', async () => {
    const c = await newCustomer();
    const other = await newCustomer();
    const from = await openAccount(c.id);
    const to = await openAccount(other.id);
    await deposit(from, '3.33');

    const res = await s.call('POST', '/transfers', {
      token: c.token,
      body: { fromAccountNo: from, toAccountNo: to, amount: '3.34', pin: PIN },
    });

    expectProblem(res, 422, 'INSUFFICIENT_FUNDS');
    expect([await balanceOf(from), await balanceOf(to)]).toEqual(['3.33', '0.00']);
    expect([await ledgerRows(from), await ledgerRows(to)]).toEqual([1, 0]);
  });

  it('is 423 from a locked account and to a locked account; a teller unlock restores both', async () => {
    const c = await newCustomer();
    const other = await newCustomer();
    const from = await openAccount(c.id);
    const to = await openAccount(other.id);
    await deposit(from, '20.00');
    const customerBody = { fromAccountNo: from, toAccountNo: to, amount: '5.00', pin: PIN };
    const tellerBody = { fromAccountNo: from, toAccountNo: to, amount: '5.00' };

    await lock(to);
    const toLocked = await s.call('POST', '/transfers', { token: c.token, body: customerBody });
    const toLockedTeller = await s.call('POST', '/transfers', { token: tellerToken, body: tellerBody });
    const unlockTo = await s.call('POST', `/accounts/${to}/unlock`, { token: tellerToken, body: {} });
    await lock(from);
    const fromLocked = await s.call('POST', '/transfers', { token: c.token, body: customerBody });
    const fromLockedTeller = await s.call('POST', '/transfers', { token: tellerToken, body: tellerBody });
    const unlockFrom = await s.call('POST', `/accounts/${from}/unlock`, { token: tellerToken, body: {} });
    const afterUnlock = await s.call('POST', '/transfers', { token: c.token, body: customerBody });

    expectProblem(toLocked, 423, 'ACCOUNT_LOCKED');
    expectProblem(toLockedTeller, 423, 'ACCOUNT_LOCKED');
    expectProblem(fromLocked, 423, 'ACCOUNT_LOCKED');
    expectProblem(fromLockedTeller, 423, 'ACCOUNT_LOCKED');
    expect([unlockTo.status, unlockFrom.status]).toEqual([200, 200]);
    expect(afterUnlock.status).toBe(201);
    expect(afterUnlock.body.fromBalanceAfter).toBe('15.00');
    expect([await balanceOf(from), await balanceOf(to)]).toEqual(['15.00', '5.00']);
    expect([await ledgerRows(from), await ledgerRows(to)]).toEqual([2, 1]);
  });

  it('is 400 for a transfer to the same account and for bad account numbers in the body', async () => {
    const c = await newCustomer();
    const other = await newCustomer();
    const from = await openAccount(c.id);
    const to = await openAccount(other.id);
    await deposit(from, '10.00');
    const bodies = [
      { fromAccountNo: from, toAccountNo: from, amount: '1.00', pin: PIN },
      { fromAccountNo: from, toAccountNo: withBadCheckDigit(to), amount: '1.00', pin: PIN },
      { fromAccountNo: withBadCheckDigit(from), toAccountNo: to, amount: '1.00', pin: PIN },
      { fromAccountNo: from, toAccountNo: to.slice(1), amount: '1.00', pin: PIN },
      { fromAccountNo: from, toAccountNo: Number(to), amount: '1.00', pin: PIN },
      { fromAccountNo: from, toAccountNo: to, amount: '0.00', pin: PIN },
      { fromAccountNo: from, toAccountNo: to, amount: '1.00', pin: PIN, currency: 'EUR' },
      { fromAccountNo: from, amount: '1.00', pin: PIN },
    ];

    for (const body of bodies)
      expectValidationFailed(await s.call('POST', '/transfers', { token: c.token, body }));
    expectValidationFailed(
      await s.call('POST', '/transfers', {
        token: tellerToken,
        body: { fromAccountNo: from, toAccountNo: from, amount: '1.00' },
      }),
    );
    expect([await balanceOf(from), await balanceOf(to)]).toEqual(['10.00', '0.00']);
    expect([await ledgerRows(from), await ledgerRows(to)]).toEqual([1, 0]);
  });

  it('is 403 INVALID_PIN with the wrong PIN of the source account', async () => {
    const c = await newCustomer();
    const other = await newCustomer();
    const from = await openAccount(c.id, 'Mine', PIN);
    const to = await openAccount(other.id, 'Theirs', OTHER_PIN);
    await deposit(from, '10.00');

    // The destination's PIN is not the source's.
    const res = await s.call('POST', '/transfers', {
      token: c.token,
      body: { fromAccountNo: from, toAccountNo: to, amount: '1.00', pin: OTHER_PIN },
    });

    expectProblem(res, 403, 'INVALID_PIN');
    expect(res.body.attemptsRemaining).toBe(2);
    expect([await ledgerRows(from), await ledgerRows(to)]).toEqual([1, 0]);
  });
});

describe('Idempotency-Key', () => {
  it('replays the first response without moving money; another body with the key is 422', async () => {
    const c = await newCustomer();
    const accountNo = await openAccount(c.id);
    const headers = { 'idempotency-key': `dep-${counter}-${randomBytes(4).toString('hex')}` };
    const body = { amount: '7.00', pin: PIN };

    const first = await s.call('POST', `/accounts/${accountNo}/deposit`, { token: c.token, body, headers });
    const again = await s.call('POST', `/accounts/${accountNo}/deposit`, { token: c.token, body, headers });
    const other = await s.call('POST', `/accounts/${accountNo}/deposit`, {
      token: c.token,
      body: { amount: '8.00', pin: PIN },
      headers,
    });

    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(again.status).toBe(200);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expectProblem(other, 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(await balanceOf(accountNo)).toBe('7.00');
    expect(await ledgerRows(accountNo)).toBe(1);
  });
});

describe('POST /accounts/{accountNo}/lock and /unlock', () => {
  it('lets a teller and an admin lock and unlock, answering the account', async () => {
    const c = await newCustomer();
    const accountNo = await openAccount(c.id, 'Lockable');
    await deposit(accountNo, '3.00');

    const locked = await s.call('POST', `/accounts/${accountNo}/lock`, {
      token: tellerToken,
      body: { reason: 'card reported stolen' },
    });
    const seen = await s.call('GET', `/accounts/${accountNo}`, { token: c.token });
    const unlocked = await s.call('POST', `/accounts/${accountNo}/unlock`, { token: adminToken, body: {} });
    const lockedAgain = await s.call('POST', `/accounts/${accountNo}/lock`, {
      token: adminToken,
      body: { reason: 'r'.repeat(200) },
    });
    const unlockedAgain = await s.call('POST', `/accounts/${accountNo}/unlock`, {
      token: tellerToken,
      body: {},
    });
    const deposited = await s.call('POST', `/accounts/${accountNo}/deposit`, {
      token: c.token,
      body: { amount: '1.00', pin: PIN },
    });

    expect(locked.status).toBe(200);
    expect(expectAccount(locked.body)).toMatchObject({
      accountNo,
      name: 'Lockable',
      balance: '3.00',
      isLocked: true,
    });
    expect(seen.body.isLocked).toBe(true);
    expect(unlocked.status).toBe(200);
    expect(expectAccount(unlocked.body)).toMatchObject({ accountNo, isLocked: false });
    expect(lockedAgain.body.isLocked).toBe(true);
    expect(unlockedAgain.body.isLocked).toBe(false);
    expect(deposited.status).toBe(200);
    expect(deposited.body.balanceAfter).toBe('4.00');
  });

  it('is 403 for a customer, even on their own account', async () => {
    const c = await newCustomer();
    const accountNo = await openAccount(c.id);

    const lockRes = await s.call('POST', `/accounts/${accountNo}/lock`, {
      token: c.token,
      body: { reason: 'mine' },
    });
    const unlockRes = await s.call('POST', `/accounts/${accountNo}/unlock`, { token: c.token, body: {} });

    expectProblem(lockRes, 403, 'FORBIDDEN');
    expectProblem(unlockRes, 403, 'FORBIDDEN');
    expect((await s.call('GET', `/accounts/${accountNo}`, { token: c.token })).body.isLocked).toBe(false);
  });

  it('is 404 for an unknown account and 400 for bad numbers, reasons and bodies', async () => {
    const c = await newCustomer();
    const accountNo = await openAccount(c.id);
    const unknown = unusedAccountNo(allAccountNos);

    expectProblem(
      await s.call('POST', `/accounts/${unknown}/lock`, { token: tellerToken, body: { reason: 'x' } }),
      404,
      'NOT_FOUND',
    );
    expectProblem(
      await s.call('POST', `/accounts/${unknown}/unlock`, { token: tellerToken, body: {} }),
      404,
      'NOT_FOUND',
    );
    const bad = withBadCheckDigit(accountNo);
    expectValidationFailed(
      await s.call('POST', `/accounts/${bad}/lock`, { token: tellerToken, body: { reason: 'x' } }),
    );
    expectValidationFailed(await s.call('POST', `/accounts/${bad}/unlock`, { token: tellerToken, body: {} }));
    for (const body of [
      {},
      { reason: '' },
      { reason: 'r'.repeat(201) },
      { reason: 'x', until: 'tomorrow' },
    ]) {
      expectValidationFailed(
        await s.call('POST', `/accounts/${accountNo}/lock`, { token: tellerToken, body }),
      );
    }
    expectValidationFailed(
      await s.call('POST', `/accounts/${accountNo}/unlock`, { token: tellerToken, body: { reason: 'x' } }),
    );
    expect((await s.call('GET', `/accounts/${accountNo}`, { token: tellerToken })).body.isLocked).toBe(false);
  });
});

describe('GET /accounts/{accountNo}/history and the ledger', () => {
  it('records every movement with its balance after, transfer pairs sharing one transferId', async () => {
    const c = await newCustomer();
    const other = await newCustomer();
    const a = await openAccount(c.id, 'A');
    const b = await openAccount(other.id, 'B');

    // Prepare: 100.00 in, 30.25 out, 20.50 A→B, 5.05 B→A.
    const dep = await s.call('POST', `/accounts/${a}/deposit`, {
      token: tellerToken,
      body: { amount: '100', memo: 'cash in' },
    });
    const wd = await s.call('POST', `/accounts/${a}/withdraw`, {
      token: c.token,
      body: { amount: '30.25', pin: PIN },
    });
    const t1 = await s.call('POST', '/transfers', {
      token: c.token,
      body: { fromAccountNo: a, toAccountNo: b, amount: '20.50', pin: PIN, memo: 'rent' },
    });
    const t2 = await s.call('POST', '/transfers', {
      token: tellerToken,
      body: { fromAccountNo: b, toAccountNo: a, amount: '5.05' },
    });
    expect([dep.status, wd.status, t1.status, t2.status]).toEqual([200, 200, 201, 201]);
    const t1Id = String(t1.body.transferId);
    const t2Id = String(t2.body.transferId);
    expect(t1Id).not.toBe(t2Id);

    // Act
    const historyA = await s.call('GET', `/accounts/${a}/history`, { token: c.token });
    const historyB = await s.call('GET', `/accounts/${b}/history`, { token: tellerToken });

    // Assess: the API's view, newest first.
    expect(historyA.status).toBe(200);
    expect(historyA.body.nextCursor).toBeNull();
    const strip = (items: Array<Record<string, unknown>>) =>
      items.map(({ entryId, createdAt, ...rest }) => {
        expect(entryId).toMatch(UUID);
        expect(createdAt).toMatch(ISO_UTC);
        return rest;
      });
    expect(strip(historyA.body.items ?? [])).toEqual([
      {
        type: 'TRANSFER_IN',
        amount: '5.05',
        balanceAfter: '54.30',
        counterpartyAccountNo: b,
        memo: null,
        transferId: t2Id,
      },
      {
        type: 'TRANSFER_OUT',
        amount: '20.50',
        balanceAfter: '49.25',
        counterpartyAccountNo: b,
        memo: 'rent',
        transferId: t1Id,
      },
      {
        type: 'WITHDRAWAL',
        amount: '30.25',
        balanceAfter: '69.75',
        counterpartyAccountNo: null,
        memo: null,
        transferId: null,
      },
      {
        type: 'DEPOSIT',
        amount: '100.00',
        balanceAfter: '100.00',
        counterpartyAccountNo: null,
        memo: 'cash in',
        transferId: null,
      },
    ]);
    expect(historyA.body.items?.[3]?.entryId).toBe(dep.body.entryId);
    expect(historyA.body.items?.[2]?.entryId).toBe(wd.body.entryId);
    expect(strip(historyB.body.items ?? [])).toEqual([
      {
        type: 'TRANSFER_OUT',
        amount: '5.05',
        balanceAfter: '15.45',
        counterpartyAccountNo: a,
        memo: null,
        transferId: t2Id,
      },
      {
        type: 'TRANSFER_IN',
        amount: '20.50',
        balanceAfter: '20.50',
        counterpartyAccountNo: a,
        memo: 'rent',
        transferId: t1Id,
      },
    ]);
    expect([await balanceOf(a), await balanceOf(b)]).toEqual(['54.30', '15.45']);

    // The ledger rows themselves, in minor units.
    const rows = await query(
      s.db,
      `SELECT a.account_no, h.type, h.amount_minor::text AS amount, h.balance_after_minor::text AS after,
              cp.account_no AS counterparty, h.transfer_id::text AS transfer_id, h.memo
         FROM history h JOIN accounts a ON a.id = h.account_id LEFT JOIN accounts cp ON cp.id = h.counterparty_account_id
        WHERE a.account_no = ANY($1) ORDER BY h.seq`,
      [[a, b]],
    );
    expect(rows).toEqual([
      {
        account_no: a,
        type: 'DEPOSIT',
        amount: '10000',
        after: '10000',
        counterparty: null,
        transfer_id: null,
        memo: 'cash in',
      },
      {
        account_no: a,
        type: 'WITHDRAWAL',
        amount: '3025',
        after: '6975',
        counterparty: null,
        transfer_id: null,
        memo: null,
      },
      {
        account_no: a,
        type: 'TRANSFER_OUT',
        amount: '2050',
        after: '4925',
        counterparty: b,
        transfer_id: t1Id,
        memo: 'rent',
      },
      {
        account_no: b,
        type: 'TRANSFER_IN',
        amount: '2050',
        after: '2050',
        counterparty: a,
        transfer_id: t1Id,
        memo: 'rent',
      },
      {
        account_no: b,
        type: 'TRANSFER_OUT',
        amount: '505',
        after: '1545',
        counterparty: a,
        transfer_id: t2Id,
        memo: null,
      },
      {
        account_no: a,
        type: 'TRANSFER_IN',
        amount: '505',
        after: '5430',
        counterparty: b,
        transfer_id: t2Id,
        memo: null,
      },
    ]);
  });

  it('pages with ?limit=1 and cursors through every entry once, in order', async () => {
    const c = await newCustomer();
    const accountNo = await openAccount(c.id);
    for (const amount of ['1.00', '2.00', '3.00', '4.00', '5.00']) await deposit(accountNo, amount);

    const all = await fullList(`/accounts/${accountNo}/history`, c.token);
    const walked = await walk(`/accounts/${accountNo}/history`, c.token);

    expect(all.map((e) => e.amount)).toEqual(['5.00', '4.00', '3.00', '2.00', '1.00']);
    expect(walked).toEqual(all);
    expect(new Set(walked.map((e) => e.entryId)).size).toBe(5);
  });

  it('is empty for a new account', async () => {
    const c = await newCustomer();
    const accountNo = await openAccount(c.id);

    const res = await s.call('GET', `/accounts/${accountNo}/history`, { token: c.token });

    expect(res.status).toBe(200);
    expect(res.body).toEqual({ items: [], nextCursor: null });
  });

  it("is 404 for another customer's account and an unknown one, 400 for bad numbers and cursors", async () => {
    const c = await newCustomer();
    const other = await newCustomer();
    const theirs = await openAccount(other.id);
    await deposit(theirs, '1.00');

    expectProblem(await s.call('GET', `/accounts/${theirs}/history`, { token: c.token }), 404, 'NOT_FOUND');
    expectProblem(
      await s.call('GET', `/accounts/${unusedAccountNo(allAccountNos)}/history`, { token: tellerToken }),
      404,
      'NOT_FOUND',
    );
    expectValidationFailed(
      await s.call('GET', `/accounts/${withBadCheckDigit(theirs)}/history`, { token: tellerToken }),
    );
    for (const qs of ['cursor=garbage', 'cursor=djE6MA', 'limit=0', 'limit=1000']) {
      expectValidationFailed(
        await s.call('GET', `/accounts/${theirs}/history?${qs}`, { token: tellerToken }),
      );
    }
  });

  it("keeps every account's balance equal to the signed sum of its entries", async () => {
    // Assess over everything this file has done so far (and a few more movements now).
    const c = await newCustomer();
    const a = await openAccount(c.id);
    const b = await openAccount(c.id);
    await deposit(a, '9.99');
    await s.call('POST', '/transfers', {
      token: c.token,
      body: { fromAccountNo: a, toAccountNo: b, amount: '0.01', pin: PIN },
    });

    const rows = await query<{
      account_no: string;
      balance: string;
      ledger: string;
      last_after: string | null;
    }>(
      s.db,
      `SELECT a.account_no, a.balance_minor::text AS balance,
              coalesce(sum(CASE WHEN h.type IN ('DEPOSIT', 'TRANSFER_IN') THEN h.amount_minor ELSE -h.amount_minor END), 0)::text AS ledger,
              (SELECT h2.balance_after_minor::text FROM history h2 WHERE h2.account_id = a.id ORDER BY h2.seq DESC LIMIT 1) AS last_after
         FROM accounts a LEFT JOIN history h ON h.account_id = a.id
        GROUP BY a.id ORDER BY a.id`,
    );

    expect(rows.length).toBeGreaterThan(10);
    expect(rows.filter((r) => r.balance !== r.ledger || (r.last_after ?? '0') !== r.balance)).toEqual([]);
    const pairs = await query(
      s.db,
      `SELECT transfer_id FROM history WHERE transfer_id IS NOT NULL GROUP BY transfer_id
       HAVING count(*) <> 2 OR count(*) FILTER (WHERE type = 'TRANSFER_OUT') <> 1
           OR count(DISTINCT amount_minor) <> 1`,
    );
    expect(pairs).toEqual([]);
  });
});

describe('GET /audit-logs', () => {
  it('lists audit events newest first for an admin, with the documented shape', async () => {
    const res = await s.call('GET', '/audit-logs?limit=5', { token: adminToken });

    expect(res.status).toBe(200);
    const items = res.body.items ?? [];
    expect(items).toHaveLength(5);
    for (const event of items) {
      expect(Object.keys(event).sort()).toEqual([
        'action',
        'actor',
        'createdAt',
        'details',
        'id',
        'ip',
        'outcome',
        'requestId',
        'userAgent',
      ]);
      expect(event.id).toMatch(UUID);
      expect(['success', 'denied', 'failed']).toContain(event.outcome);
      expect(event.createdAt).toMatch(ISO_UTC);
    }
    const times = items.map((e) => Date.parse(String(e.createdAt)));
    expect([...times].sort((x, y) => y - x)).toEqual(times);
    expect(typeof res.body.nextCursor).toBe('string');
  });

  it('pages with cursors without duplicates, and is 400 for a bad cursor', async () => {
    const first = await s.call('GET', '/audit-logs?limit=3', { token: adminToken });
    const second = await s.call('GET', `/audit-logs?limit=3&cursor=${String(first.body.nextCursor)}`, {
      token: adminToken,
    });
    const bad = await s.call('GET', '/audit-logs?cursor=not-a-cursor', { token: adminToken });

    const ids = [...(first.body.items ?? []), ...(second.body.items ?? [])].map((e) => e.id);
    expect(ids).toHaveLength(6);
    expect(new Set(ids).size).toBe(6);
    expectValidationFailed(bad);
  });

  it('is 403 for a teller and a customer, 401 without a token', async () => {
    const c = await newCustomer();

    expectProblem(await s.call('GET', '/audit-logs', { token: tellerToken }), 403, 'FORBIDDEN');
    expectProblem(await s.call('GET', '/audit-logs', { token: c.token }), 403, 'FORBIDDEN');
    expectProblem(await s.call('GET', '/audit-logs'), 401, 'UNAUTHENTICATED');
  });
});
