import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from '../helpers/stack';

/*
 * Who may call what: every route of API.md × {anonymous, a customer on their own account, a
 * customer on another customer's account, a teller, an admin}. The expected statuses are copied
 * by hand from API.md's route table (../shared/API.md), deliberately not imported from
 * shared/auth/policy.ts: a wrong policy table must fail this test, not feed it.
 *
 * Every request is otherwise valid (right PIN for customers, funds where a debit needs them, a
 * fresh pair of accounts per cell for routes that change an account), so only authorization
 * decides the status.
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
  /** The route decides an approval: each cell gets its own, made by another teller. */
  readonly approval?: boolean;
  /** The route ends the caller's session: each cell logs in again for its own token. */
  readonly ownSession?: boolean;
  readonly request: (who: Who, accounts: Accounts) => Cell;
}

//                                          anonymous customerOwn customerForeign teller admin
const expected: Record<string, readonly [number, number, number, number, number]> = {
  'GET /health': [200, 200, 200, 200, 200],
  'POST /auth/login': [200, 200, 200, 200, 200],
  'POST /auth/logout': [401, 204, 204, 204, 204],
  'POST /auth/refresh': [401, 200, 200, 200, 200],
  'GET /me': [401, 200, 200, 200, 200],
  'POST /users role=customer': [401, 403, 403, 201, 201],
  'POST /users role=teller': [401, 403, 403, 403, 201],
  'POST /users role=admin': [401, 403, 403, 403, 201],
  'GET /users': [401, 403, 403, 403, 200],
  'POST /accounts': [401, 403, 403, 201, 201],
  'GET /accounts': [401, 200, 200, 200, 200],
  'GET /accounts/{accountNo}': [401, 200, 404, 200, 200],
  'POST /accounts/{accountNo}/deposit': [401, 200, 404, 200, 200],
  'POST /accounts/{accountNo}/withdraw': [401, 200, 404, 200, 200],
  'POST /transfers': [401, 201, 404, 201, 201],
  'POST /accounts/{accountNo}/lock': [401, 403, 403, 200, 200],
  'POST /accounts/{accountNo}/unlock': [401, 403, 403, 200, 200],
  'GET /accounts/{accountNo}/history': [401, 200, 404, 200, 200],
  'GET /audit-logs': [401, 403, 403, 403, 200],
  'GET /openapi.json': [200, 200, 200, 200, 200],
  'GET /approvals': [401, 403, 403, 200, 200],
  'POST /approvals/{approvalId}/approve': [401, 403, 403, 200, 200],
  'POST /approvals/{approvalId}/reject': [401, 403, 403, 200, 200],
};

const codeOf: Readonly<Record<number, string>> = {
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
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
  usernames.set('customerOwn', customer.username);
  usernames.set('customerForeign', customer.username);
  usernames.set('teller', teller.username);
  usernames.set('admin', admin.username);
  shared = await fundedPair();
});

afterAll(async () => {
  await s?.close();
});

describe('RBAC matrix (API.md route table)', () => {
  it('answers every route × principal with the status of API.md', async () => {
    // Prepare
    expect(rows.map((r) => r.route).sort()).toEqual(Object.keys(expected).sort());
    const actual: Record<string, number[]> = {};
    const wrongCodes: string[] = [];

    // Act
    for (const row of rows) {
      const statuses: number[] = [];
      for (const who of principals) {
        const pair = row.fresh ? await fundedPair() : shared;
        const accounts = row.approval ? { ...pair, approvalId: await pendingApproval(pair.own) } : pair;
        const cell = row.request(who, accounts);
        const username = usernames.get(who);
        const token = row.ownSession && username ? await s.login(username, PASSWORD) : tokens.get(who);
        const res = await s.call(cell.method, cell.path, {
          ...(token ? { token } : {}),
          ...(cell.body !== undefined ? { body: cell.body } : {}),
        });
        statuses.push(res.status);
        const code = codeOf[res.status];
        if (code && res.body.code !== code)
          wrongCodes.push(`${row.route} ${who}: ${res.status} ${String(res.body.code)}`);
      }
      actual[row.route] = statuses;
    }

    // Assess
    expect(actual).toEqual(expected);
    expect(wrongCodes).toEqual([]);
  });
});
