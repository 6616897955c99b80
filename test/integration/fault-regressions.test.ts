import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/postgres';
import { type FaultProxy, type ProxyFault, startFaultProxy } from '../chaos/proxy';
import { query, startTestStack, type TestStack } from '../helpers/stack';

/*
 * Regressions for what the chaos harness and the API fuzzer found, through the whole local
 * request path with the fault proxy between the handlers and the Data API server.
 */
const FUNCTION_TIMEOUT_MS = 1_000;
const PASSWORD = 'regression-password-1';

let stack: TestStack;
let proxy: FaultProxy;
let nextFault: ProxyFault | undefined;
let teller: string;
let admin: string;
let customerId: string;

beforeAll(async () => {
  // The Data API server on a known port, so the proxy can stand in front of it before it starts.
  const dataApiPort = await freePort();
  proxy = await startFaultProxy({
    upstreamPort: dataApiPort,
    stallMs: FUNCTION_TIMEOUT_MS + 700,
    decide: (url) => {
      if (url !== '/Execute') return undefined;
      const fault = nextFault;
      nextFault = undefined;
      return fault;
    },
  });
  process.env.BANK_LOCAL_DATA_API_PORT = String(dataApiPort);
  process.env.BANK_LOCAL_HANDLER_DATA_API_ENDPOINT = proxy.url;
  process.env.BANK_LOCAL_FUNCTION_TIMEOUT_MS = String(FUNCTION_TIMEOUT_MS);
  stack = await startTestStack();
  await stack.createUser('reg-teller', PASSWORD, 'teller');
  await stack.createUser('reg-admin', PASSWORD, 'admin');
  customerId = await stack.createUser('reg-customer', PASSWORD, 'customer');
  teller = await stack.login('reg-teller', PASSWORD);
  admin = await stack.login('reg-admin', PASSWORD);
});

afterAll(async () => {
  await stack?.close();
  await proxy?.close();
});

async function openAccount(): Promise<string> {
  const response = await stack.call('POST', '/accounts', {
    token: teller,
    body: { ownerId: customerId, name: 'regression', pin: '2580' },
  });
  expect(response.status).toBe(201);
  return String(response.body.accountNo);
}

describe('a statement delayed past its function timeout', () => {
  it('does not move money after the retry of its request was refused', async () => {
    const accountNo = await openAccount();
    const key = 'regression-delayed-withdrawal';
    const withdraw = () =>
      stack.call('POST', `/accounts/${accountNo}/withdraw`, {
        token: teller,
        body: { amount: '10.00' },
        headers: { 'idempotency-key': key },
      });
    // Attempt 1: held on the way to the Data API past the function's timeout.
    nextFault = 'stall-before';
    const first = await withdraw();
    expect(first.status).toBe(503);
    expect(first.body.code).toBe('INTEGRATION_TIMEOUT');
    // The retry is answered: nothing to withdraw yet, and the key is given back.
    const retry = await withdraw();
    expect(retry.status).toBe(422);
    expect(retry.body.code).toBe('INSUFFICIENT_FUNDS');
    // Money arrives; then the held statement of attempt 1 reaches the database.
    const deposit = await stack.call('POST', `/accounts/${accountNo}/deposit`, {
      token: teller,
      body: { amount: '100.00' },
    });
    expect(deposit.status).toBe(200);
    expect(await proxy.idle(10_000)).toBe(true);
    // Its handler ends once the held call returns; give it that moment.
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The client was told 422: the withdrawal must not have happened behind its back.
    const account = await stack.call('GET', `/accounts/${accountNo}`, { token: teller });
    expect(account.body.balance).toBe('100.00');
    const keys = await query(stack.db, 'SELECT 1 FROM idempotency_keys WHERE key = $1', [key]);
    expect(keys).toHaveLength(0);
  });

  it('still runs when it arrives in time (the guard refuses only late statements)', async () => {
    const accountNo = await openAccount();
    nextFault = undefined;
    const deposit = await stack.call('POST', `/accounts/${accountNo}/deposit`, {
      token: teller,
      body: { amount: '5.00' },
      headers: { 'idempotency-key': 'regression-in-time' },
    });
    expect(deposit.status).toBe(200);
    expect(deposit.body.balanceAfter).toBe('5.00');
  });

  it('replays the committed movement when only its answer was lost', async () => {
    const accountNo = await openAccount();
    const deposit = () =>
      stack.call('POST', `/accounts/${accountNo}/deposit`, {
        token: teller,
        body: { amount: '7.00' },
        headers: { 'idempotency-key': 'regression-lost-answer' },
      });
    nextFault = 'drop-after';
    const first = await deposit();
    expect(first.status).toBe(500);
    const retry = await deposit();
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    const account = await stack.call('GET', `/accounts/${accountNo}`, { token: teller });
    expect(account.body.balance).toBe('7.00');
  });
});

describe('text PostgreSQL cannot store', () => {
  async function auditEvents(requestId: string | null): Promise<number> {
    const rows = await query(stack.db, 'SELECT 1 FROM audit_logs WHERE request_id = $1', [requestId]);
    return rows.length;
  }

  it('a login name with U+0000 is a 400 with its audit event, not a 500 without one', async () => {
    const response = await stack.call('POST', '/auth/login', {
      body: { username: '\u0000', password: 'whatever-password' },
    });
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('VALIDATION_FAILED');
    expect(await auditEvents(response.headers.get('x-request-id'))).toBe(1);
  });

  it('an unpaired surrogate in a login name is a 400 too', async () => {
    const response = await stack.call('POST', '/auth/login', {
      rawBody: '{"username":"\\ud800abc","password":"whatever-password"}',
    });
    expect(response.status).toBe(400);
    expect(await auditEvents(response.headers.get('x-request-id'))).toBe(1);
  });

  it('a query filter with U+0000 is a 400', async () => {
    const response = await stack.call('GET', '/audit-logs?actor=%00', { token: admin });
    expect(response.status).toBe(400);
    expect(await auditEvents(response.headers.get('x-request-id'))).toBe(1);
  });
});
