import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../helpers/stack';

/*
 * Who may call what: every route of API.md × {anonymous, a customer on their own account, a
 * customer on another customer's account, a teller, an admin}. The expected statuses are copied
 * by hand from API.md's route table (../shared/API.md), deliberately not imported from
 * shared/auth/policy.ts: a wrong policy table must fail this test, not feed it.
 *
 * Every request is otherwise valid (right PIN for customers, funds where a debit needs them, a
 * fresh pair of accounts per cell for routes that change an account, a fresh target user per
 * cell for routes that change a user), so only authorization decides the status. No principal
 * has enrolled an authenticator: where API.md asks for a step-up code, an allowed role gets
 * 403 STEP_UP_REQUIRED from the database and a refused one 403 FORBIDDEN, so the code tells them
 * apart (the step-up itself is tested in test/integration/credentials.test.ts).
 */

const PASSWORD = 'matrix-password-1';
const PIN = '582931';

type Who = 'anonymous' | 'customerOwn' | 'customerForeign' | 'teller' | 'admin';
const principals: readonly Who[] = ['anonymous', 'customerOwn', 'customerForeign', 'teller', 'admin'];

interface Cell {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: unknown;
}

interface Accounts {
  /** The acting customer's account. */
  readonly own: string;
  /** Another customer's account. */
  readonly foreign: string;
  /** A pending approval made by another teller (the maker), for the approval routes. */
  readonly approvalId?: string;
}

interface Row {
  readonly route: string;
  /** The route changes an account: each cell gets its own fresh, funded pair. */
  readonly fresh?: boolean;
  /** The route changes a user: each cell acts on a fresh user of this role. */
  readonly target?: 'customer' | 'teller';
  /** The route decides an approval: each cell gets its own, made by another teller. */
  readonly approval?: boolean;
  /** The route ends the caller's session: each cell logs in again for its own token. */
  readonly ownSession?: boolean;
  readonly request: (who: Who, accounts: Accounts) => Cell;
}

// A refusal is its status and code; a step-up refusal (403 STEP_UP_REQUIRED) means the role was
// let through to the database, which then asked for the code this matrix does not give.
const U = '401 UNAUTHENTICATED';
const F = '403 FORBIDDEN';
const N = '404 NOT_FOUND';
const S = '403 STEP_UP_REQUIRED';
const I = '403 INVALID_OTP';
type Outcome = number | string;

//                                          anonymous customerOwn customerForeign teller admin
const expected: Record<string, readonly [Outcome, Outcome, Outcome, Outcome, Outcome]> = {
  'GET /health': [200, 200, 200, 200, 200],
  'POST /auth/login': [200, 200, 200, 200, 200],
  'POST /auth/logout': [U, 204, 204, 204, 204],
  'POST /auth/refresh': [U, 200, 200, 200, 200],
  'GET /me': [U, 200, 200, 200, 200],
  'POST /users role=customer': [U, F, F, 201, 201],
  'POST /users role=teller': [U, F, F, F, S],
  'POST /users role=admin': [U, F, F, F, S],
  'GET /users': [U, F, F, 200, 200],
  'POST /accounts': [U, F, F, 201, 201],
  'GET /accounts': [U, 200, 200, 200, 200],
  'GET /accounts/{accountNo}': [U, 200, N, 200, 200],
  'POST /accounts/{accountNo}/deposit': [U, 200, N, 200, 200],
  'POST /accounts/{accountNo}/withdraw': [U, 200, N, 200, 200],
  'POST /transfers': [U, 201, N, 201, 201],
  'POST /accounts/{accountNo}/lock': [U, F, F, 200, 200],
  'POST /accounts/{accountNo}/unlock': [U, F, F, 200, 200],
  'GET /accounts/{accountNo}/history': [U, 200, N, 200, 200],
  'GET /audit-logs': [U, F, F, F, 200],
  'GET /openapi.json': [200, 200, 200, 200, 200],
  // v1.1
  'POST /me/password': [U, S, S, S, S],
  'POST /users/{userId}/password customer': [U, F, F, 204, 204],
  'POST /users/{userId}/password teller': [U, F, F, F, 204],
  'POST /users/{userId}/disable': [U, F, F, F, 200],
  'POST /users/{userId}/disable self': [U, F, F, F, F],
  'POST /users/{userId}/enable': [U, F, F, F, 200],
  'POST /accounts/{accountNo}/pin': [U, S, N, 204, 204],
  'GET /transfers/{transferId}': [U, 200, N, 200, 200],
  'POST /me/totp': [U, 201, 201, 201, 201],
  'POST /me/totp/confirm': [U, I, I, I, I],
  'POST /me/totp/disable': [U, S, S, S, S],
  'POST /users/{userId}/totp/reset': [U, F, F, F, 200],
  'POST /users/{userId}/totp/reset self': [U, F, F, F, F],
  'GET /approvals': [U, F, F, 200, 200],
  'POST /approvals/{approvalId}/approve': [U, F, F, 200, 200],
  'POST /approvals/{approvalId}/reject': [U, F, F, 200, 200],
};

let s: TestStack;
let tellerToken: string;
/** A second teller: the maker of the approvals the matrix decides. */
let makerToken: string;
const tokens = new Map<Who, string>();
const usernames = new Map<Who, string>();
let actingCustomer: { id: string; username: string };
let otherCustomer: { id: string };
let shared: Accounts;
/** Ids of each principal's own user (the "self" rows). */
const selfIds = new Map<Who, string>();
/** A transfer between the two shared accounts, and one between two accounts of the other customer. */
let transferIds: { own: string; foreign: string };
let counter = 0;

function fresh(prefix: string): string {
  counter += 1;
  return `${prefix}-${counter}`;
}

const isCustomer = (who: Who) => who === 'customerOwn' || who === 'customerForeign';
const target = (who: Who, a: Accounts) => (who === 'customerForeign' ? a.foreign : a.own);
const withPin = (who: Who, body: Record<string, unknown>) =>
  who === 'anonymous' || isCustomer(who) ? { ...body, pin: PIN } : body;

const rows: readonly Row[] = [
  { route: 'GET /health', request: () => ({ method: 'GET', path: '/health' }) },
  {
    route: 'POST /auth/login',
    request: () => ({
      method: 'POST',
      path: '/auth/login',
      body: { username: actingCustomer.username, password: PASSWORD },
    }),
  },
  {
    route: 'POST /auth/logout',
    ownSession: true,
    request: () => ({ method: 'POST', path: '/auth/logout', body: {} }),
  },
  { route: 'POST /auth/refresh', request: () => ({ method: 'POST', path: '/auth/refresh', body: {} }) },
  { route: 'GET /me', request: () => ({ method: 'GET', path: '/me' }) },
  ...(['customer', 'teller', 'admin'] as const).map(
    (role): Row => ({
      route: `POST /users role=${role}`,
      request: () => ({
        method: 'POST',
        path: '/users',
        body: { username: fresh(`m-${role}`), password: PASSWORD, role },
      }),
    }),
  ),
  { route: 'GET /users', request: () => ({ method: 'GET', path: '/users' }) },
  {
    route: 'POST /accounts',
    request: (who) => ({
      method: 'POST',
      path: '/accounts',
      body: {
        ownerId: who === 'customerForeign' ? otherCustomer.id : actingCustomer.id,
        name: 'Matrix',
        pin: PIN,
      },
    }),
  },
  {
    route: 'GET /accounts',
    request: (who) => ({
      method: 'GET',
      path: who === 'customerForeign' ? `/accounts?ownerId=${otherCustomer.id}` : '/accounts',
    }),
  },
  {
    route: 'GET /accounts/{accountNo}',
    request: (who, a) => ({ method: 'GET', path: `/accounts/${target(who, a)}` }),
  },
  {
    route: 'POST /accounts/{accountNo}/deposit',
    fresh: true,
    request: (who, a) => ({
      method: 'POST',
      path: `/accounts/${target(who, a)}/deposit`,
      body: withPin(who, { amount: '10.00' }),
    }),
  },
  {
    route: 'POST /accounts/{accountNo}/withdraw',
    fresh: true,
    request: (who, a) => ({
      method: 'POST',
      path: `/accounts/${target(who, a)}/withdraw`,
      body: withPin(who, { amount: '10.00' }),
    }),
  },
  {
    route: 'POST /transfers',
    fresh: true,
    request: (who, a) => ({
      method: 'POST',
      path: '/transfers',
      body: withPin(
        who,
        who === 'customerForeign'
          ? { fromAccountNo: a.foreign, toAccountNo: a.own, amount: '10.00' }
          : { fromAccountNo: a.own, toAccountNo: a.foreign, amount: '10.00' },
      ),
    }),
  },
  {
    route: 'POST /accounts/{accountNo}/lock',
    fresh: true,
    request: (who, a) => ({
      method: 'POST',
      path: `/accounts/${target(who, a)}/lock`,
      body: { reason: 'rbac matrix' },
    }),
  },
  {
    route: 'POST /accounts/{accountNo}/unlock',
    fresh: true,
    request: (who, a) => ({ method: 'POST', path: `/accounts/${target(who, a)}/unlock`, body: {} }),
  },
  {
    route: 'GET /accounts/{accountNo}/history',
    request: (who, a) => ({ method: 'GET', path: `/accounts/${target(who, a)}/history` }),
  },
  { route: 'GET /audit-logs', request: () => ({ method: 'GET', path: '/audit-logs' }) },
  { route: 'GET /openapi.json', request: () => ({ method: 'GET', path: '/openapi.json' }) },
  {
    route: 'POST /me/password',
    request: () => ({
      method: 'POST',
      path: '/me/password',
      body: { currentPassword: PASSWORD, newPassword: PASSWORD },
    }),
  },
  ...(['customer', 'teller'] as const).map(
    (role): Row => ({
      route: `POST /users/{userId}/password ${role}`,
      request: () => ({
        method: 'POST',
        path: `/users/${targets.get(role) ?? ''}/password`,
        body: { newPassword: PASSWORD },
      }),
      target: role,
    }),
  ),
  {
    route: 'POST /users/{userId}/disable',
    target: 'customer',
    request: () => ({
      method: 'POST',
      path: `/users/${targets.get('customer') ?? ''}/disable`,
      body: { reason: 'rbac matrix' },
    }),
  },
  {
    route: 'POST /users/{userId}/disable self',
    request: (who) => ({
      method: 'POST',
      path: `/users/${selfIds.get(who) ?? actingCustomer.id}/disable`,
      body: { reason: 'rbac matrix' },
    }),
  },
  {
    route: 'POST /users/{userId}/enable',
    target: 'customer',
    request: () => ({ method: 'POST', path: `/users/${targets.get('customer') ?? ''}/enable`, body: {} }),
  },
  {
    route: 'POST /accounts/{accountNo}/pin',
    fresh: true,
    request: (who, a) => ({
      method: 'POST',
      path: `/accounts/${target(who, a)}/pin`,
      body:
        isCustomer(who) || who === 'anonymous' ? { currentPin: PIN, newPin: '739204' } : { newPin: '739204' },
    }),
  },
  {
    route: 'GET /transfers/{transferId}',
    request: (who) => ({
      method: 'GET',
      path: `/transfers/${who === 'customerForeign' ? transferIds.foreign : transferIds.own}`,
    }),
  },
  { route: 'POST /me/totp', request: () => ({ method: 'POST', path: '/me/totp', body: {} }) },
  {
    route: 'POST /me/totp/confirm',
    request: () => ({ method: 'POST', path: '/me/totp/confirm', body: { otp: '000000' } }),
  },
  {
    route: 'POST /me/totp/disable',
    request: () => ({
      method: 'POST',
      path: '/me/totp/disable',
      body: { otp: '000000', password: PASSWORD },
    }),
  },
  {
    route: 'POST /users/{userId}/totp/reset',
    target: 'customer',
    request: () => ({
      method: 'POST',
      path: `/users/${targets.get('customer') ?? ''}/totp/reset`,
      body: { reason: 'rbac matrix' },
    }),
  },
  {
    route: 'POST /users/{userId}/totp/reset self',
    request: (who) => ({
      method: 'POST',
      path: `/users/${selfIds.get(who) ?? actingCustomer.id}/totp/reset`,
      body: { reason: 'rbac matrix' },
    }),
  },
  { route: 'GET /approvals', request: () => ({ method: 'GET', path: '/approvals?status=pending' }) },
  ...(['approve', 'reject'] as const).map(
    (decision): Row => ({
      route: `POST /approvals/{approvalId}/${decision}`,
      fresh: true,
      approval: true,
      request: (_who, a) => ({
        method: 'POST',
        path: `/approvals/${a.approvalId ?? 'missing'}/${decision}`,
        body: decision === 'approve' ? {} : { reason: 'rbac matrix' },
      }),
    }),
  ),
];

/** The fresh user a cell of a `target` row acts on. */
const targets = new Map<'customer' | 'teller', string>();

/** A teller's deposit of the approval amount (API.md default 50000.00): 202, pending. */
async function pendingApproval(accountNo: string): Promise<string> {
  const res = await s.call('POST', `/accounts/${accountNo}/deposit`, {
    token: makerToken,
    body: { amount: '50000.00' },
  });
  const approvalId = res.body.approvalId;
  if (res.status !== 202 || typeof approvalId !== 'string') throw new Error(`no approval: ${res.text}`);
  return approvalId;
}

async function fundedPair(): Promise<Accounts> {
  const open = async (ownerId: string): Promise<string> => {
    const res = await s.call('POST', '/accounts', {
      token: tellerToken,
      body: { ownerId, name: 'Cell', pin: PIN },
    });
    const accountNo = res.body.accountNo;
    if (res.status !== 201 || typeof accountNo !== 'string')
      throw new Error(`account not opened: ${res.text}`);
    const funded = await s.call('POST', `/accounts/${accountNo}/deposit`, {
      token: tellerToken,
      body: { amount: '100.00' },
    });
    if (funded.status !== 200) throw new Error(`account not funded: ${funded.text}`);
    return accountNo;
  };
  return { own: await open(actingCustomer.id), foreign: await open(otherCustomer.id) };
}

beforeAll(async () => {
  s = await startTestStack();
  const login = async (role: 'customer' | 'teller' | 'admin') => {
    const username = fresh(role);
    const id = await s.createUser(username, PASSWORD, role);
    return { id, username, token: await s.login(username, PASSWORD) };
  };
  const customer = await login('customer');
  const other = await login('customer');
  const teller = await login('teller');
  const admin = await login('admin');
  makerToken = (await login('teller')).token;
  actingCustomer = customer;
  otherCustomer = other;
  tellerToken = teller.token;
  tokens.set('customerOwn', customer.token);
  tokens.set('customerForeign', customer.token);
  tokens.set('teller', teller.token);
  tokens.set('admin', admin.token);
  selfIds.set('customerOwn', customer.id);
  selfIds.set('customerForeign', customer.id);
  selfIds.set('teller', teller.id);
  selfIds.set('admin', admin.id);
  usernames.set('customerOwn', customer.username);
  usernames.set('customerForeign', customer.username);
  usernames.set('teller', teller.username);
  usernames.set('admin', admin.username);
  shared = await fundedPair();
  const transfer = async (from: string, to: string): Promise<string> => {
    const res = await s.call('POST', '/transfers', {
      token: tellerToken,
      body: { fromAccountNo: from, toAccountNo: to, amount: '1.00' },
    });
    if (res.status !== 201) throw new Error(`transfer failed: ${res.text}`);
    return String(res.body.transferId);
  };
  const otherPair = await fundedPair();
  const otherSecond = await fundedPair();
  transferIds = {
    own: await transfer(shared.own, shared.foreign),
    foreign: await transfer(otherPair.foreign, otherSecond.foreign),
  };
});

afterAll(async () => {
  await s?.close();
});

describe('RBAC matrix (API.md route table)', () => {
  it('answers every route × principal with the status of API.md', async () => {
    // Prepare
    expect(rows.map((r) => r.route).sort()).toEqual(Object.keys(expected).sort());
    const actual: Record<string, Outcome[]> = {};

    // Act
    for (const row of rows) {
      const statuses: Outcome[] = [];
      for (const who of principals) {
        const pair = row.fresh ? await fundedPair() : shared;
        const accounts = row.approval ? { ...pair, approvalId: await pendingApproval(pair.own) } : pair;
        if (row.target)
          targets.set(row.target, await s.createUser(fresh(`t-${row.target}`), PASSWORD, row.target));
        const cell = row.request(who, accounts);
        const username = usernames.get(who);
        const token = row.ownSession && username ? await s.login(username, PASSWORD) : tokens.get(who);
        const res = await s.call(cell.method, cell.path, {
          ...(token ? { token } : {}),
          ...(cell.body !== undefined ? { body: cell.body } : {}),
        });
        statuses.push(res.status >= 400 ? `${res.status} ${String(res.body.code)}` : res.status);
      }
      actual[row.route] = statuses;
    }

    // Assess
    expect(actual).toEqual(expected);
  });
});
