import type { LocalBank } from '../local/bank';
import { login } from './fixtures';

/**
 * Scenario 6: Data API calls per request, for every route and caller, counted by the local Data
 * API server itself (stats reset before each request, read after its response).
 */

export type Caller = 'public' | 'customer' | 'teller' | 'admin';
export type Kind = 'money' | 'read' | 'write' | 'login' | 'public' | 'refused';

export interface RoundTripRow {
  readonly route: string;
  readonly caller: Caller;
  readonly request: string;
  readonly kind: Kind;
  readonly status: number;
  readonly calls: number;
  /** Per Data API operation, only the non-zero ones. */
  readonly byOperation: Readonly<Record<string, number>>;
  /** The most calls this row may take, when the issue sets a target for it. */
  readonly target?: number;
  readonly pass?: boolean;
}

interface Probe {
  readonly route: string;
  readonly caller: Caller;
  readonly kind: Kind;
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly expect: number;
  readonly label?: string;
}

function targetFor(probe: Probe): number | undefined {
  // One call per money movement for every caller: a customer's PIN is compared in that call.
  if (probe.kind === 'money') return 1;
  if (probe.kind === 'read') return 1;
  return undefined;
}

export async function measureRoundTrips(
  bank: LocalBank,
  admin: { username: string; password: string },
): Promise<RoundTripRow[]> {
  const stats = bank.services.dataApi.stats;
  const tokens: Record<Caller, string> = { public: '', customer: '', teller: '', admin: '' };
  const rows: RoundTripRow[] = [];

  const call = async (probe: Probe): Promise<{ status: number; body: Record<string, unknown> }> => {
    stats.reset();
    const headers: Record<string, string> = { ...probe.headers };
    const token = tokens[probe.caller];
    if (token) headers.authorization = `Bearer ${token}`;
    if (probe.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${bank.url}${probe.path}`, {
      method: probe.method,
      headers,
      ...(probe.body !== undefined ? { body: JSON.stringify(probe.body) } : {}),
    });
    const text = await response.text();
    const byOperation = Object.fromEntries(Object.entries(stats.calls).filter(([, n]) => n > 0));
    const calls = Object.values(byOperation).reduce((a, b) => a + b, 0);
    if (response.status !== probe.expect) {
      throw new Error(
        `round trips: ${probe.method} ${probe.path} as ${probe.caller} answered ${response.status}: ${text}`,
      );
    }
    const target = targetFor(probe);
    rows.push({
      route: probe.route,
      caller: probe.caller,
      request:
        probe.label ??
        `${probe.method} ${probe.path.replace(/[0-9]{12}/g, '{accountNo}').replace(/\?.*$/, '')}`,
      kind: probe.kind,
      status: response.status,
      calls,
      byOperation,
      ...(target !== undefined ? { target, pass: calls <= target } : {}),
    });
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  };

  const suffix = Date.now().toString(36);
  const customerName = `rt-cust-${suffix}`;
  const customerPassword = 'round-trip-password-1';
  const pin = '4826';

  await call({
    route: 'health',
    caller: 'public',
    kind: 'public',
    method: 'GET',
    path: '/health',
    expect: 200,
  });
  await call({
    route: 'openapi',
    caller: 'public',
    kind: 'public',
    method: 'GET',
    path: '/openapi.json',
    expect: 200,
  });
  await call({
    route: 'auth.login',
    caller: 'public',
    kind: 'login',
    method: 'POST',
    path: '/auth/login',
    body: { username: admin.username, password: admin.password },
    expect: 200,
  });
  await call({
    route: 'auth.login',
    caller: 'public',
    kind: 'login',
    method: 'POST',
    path: '/auth/login',
    body: { username: admin.username, password: 'wrong-password-000' },
    expect: 401,
    label: 'POST /auth/login (wrong password)',
  });
  tokens.admin = await login(bank.url, admin.username, admin.password);

  const teller = `rt-teller-${suffix}`;
  await call({
    route: 'users.create',
    caller: 'admin',
    kind: 'write',
    method: 'POST',
    path: '/users',
    body: { username: teller, password: customerPassword, role: 'teller' },
    expect: 201,
  });
  tokens.teller = await login(bank.url, teller, customerPassword);
  const created = await call({
    route: 'users.create',
    caller: 'teller',
    kind: 'write',
    method: 'POST',
    path: '/users',
    body: { username: customerName, password: customerPassword, role: 'customer' },
    expect: 201,
  });
  const ownerId = String(created.body.id);
  const accountNos: string[] = [];
  for (const caller of ['teller', 'admin'] as const) {
    const account = await call({
      route: 'accounts.create',
      caller,
      kind: 'write',
      method: 'POST',
      path: '/accounts',
      body: { ownerId, name: `round trips ${caller}`, pin },
      expect: 201,
    });
    accountNos.push(String(account.body.accountNo));
  }
  const [a1, a2] = accountNos as [string, string];
  tokens.customer = await login(bank.url, customerName, customerPassword);

  for (const caller of ['teller', 'admin', 'customer'] as const) {
    const pinField = caller === 'customer' ? { pin } : {};
    await call({ route: 'me.get', caller, kind: 'read', method: 'GET', path: '/me', expect: 200 });
    await call({
      route: 'accounts.list',
      caller,
      kind: 'read',
      method: 'GET',
      path: '/accounts',
      expect: 200,
    });
    await call({
      route: 'accounts.get',
      caller,
      kind: 'read',
      method: 'GET',
      path: `/accounts/${a1}`,
      expect: 200,
    });
    await call({
      route: 'accounts.history',
      caller,
      kind: 'read',
      method: 'GET',
      path: `/accounts/${a1}/history`,
      expect: 200,
    });
    await call({
      route: 'accounts.deposit',
      caller,
      kind: 'money',
      method: 'POST',
      path: `/accounts/${a1}/deposit`,
      body: { amount: '100.00', ...pinField },
      expect: 200,
    });
    await call({
      route: 'accounts.withdraw',
      caller,
      kind: 'money',
      method: 'POST',
      path: `/accounts/${a1}/withdraw`,
      body: { amount: '10.00', ...pinField },
      expect: 200,
    });
    await call({
      route: 'transfers.create',
      caller,
      kind: 'money',
      method: 'POST',
      path: '/transfers',
      body: { fromAccountNo: a1, toAccountNo: a2, amount: '5.00', ...pinField },
      expect: 201,
    });
    if (caller !== 'customer') {
      await call({
        route: 'accounts.lock',
        caller,
        kind: 'write',
        method: 'POST',
        path: `/accounts/${a2}/lock`,
        body: { reason: 'round trip probe' },
        expect: 200,
      });
      await call({
        route: 'accounts.unlock',
        caller,
        kind: 'write',
        method: 'POST',
        path: `/accounts/${a2}/unlock`,
        body: {},
        expect: 200,
      });
    }
  }
  await call({
    route: 'users.list',
    caller: 'admin',
    kind: 'read',
    method: 'GET',
    path: '/users',
    expect: 200,
  });
  await call({
    route: 'auditLogs.list',
    caller: 'admin',
    kind: 'read',
    method: 'GET',
    path: '/audit-logs?limit=20',
    expect: 200,
  });

  // Beyond the happy paths: a replayed Idempotency-Key, a wrong PIN, a refused role.
  const idem = { 'idempotency-key': `rt-${suffix}` };
  const transfer = { fromAccountNo: a1, toAccountNo: a2, amount: '1.00' };
  await call({
    route: 'transfers.create',
    caller: 'teller',
    kind: 'money',
    method: 'POST',
    path: '/transfers',
    body: transfer,
    headers: idem,
    expect: 201,
    label: 'POST /transfers (Idempotency-Key, first)',
  });
  await call({
    route: 'transfers.create',
    caller: 'teller',
    kind: 'money',
    method: 'POST',
    path: '/transfers',
    body: transfer,
    headers: idem,
    expect: 201,
    label: 'POST /transfers (Idempotency-Key, replay)',
  });
  await call({
    route: 'transfers.create',
    caller: 'customer',
    kind: 'money',
    method: 'POST',
    path: '/transfers',
    body: { ...transfer, pin: '9137' },
    expect: 403,
    label: 'POST /transfers (wrong PIN)',
  });
  await call({
    route: 'users.list',
    caller: 'customer',
    kind: 'refused',
    method: 'GET',
    path: '/users',
    expect: 403,
    label: 'GET /users (role refused)',
  });
  return rows;
}
