import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/postgres';
import { recordRefusal } from '../../shared/middleware/audit';
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
let customer: string;
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
  customer = await stack.login('reg-customer', PASSWORD);
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

interface AuditRow extends Record<string, unknown> {
  actor: string;
  action: string;
  outcome: string;
  details: Record<string, unknown>;
}

async function eventsOf(requestId: string | null): Promise<AuditRow[]> {
  expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
  return query<AuditRow>(
    stack.db,
    'SELECT actor, action, outcome, details FROM audit_logs WHERE request_id = $1 ORDER BY seq',
    [requestId],
  );
}

/** The session id a bearer token names (claim sid). */
function sidOf(token: string): string {
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
    sid?: unknown;
  };
  if (typeof payload.sid !== 'string') throw new Error('token without sid');
  return payload.sid;
}

async function balanceOf(accountNo: string): Promise<string> {
  const account = await stack.call('GET', `/accounts/${accountNo}`, { token: teller });
  expect(account.status).toBe(200);
  return String(account.body.balance);
}

/** A refusal the way the audit middleware writes it (same function, same Data API path). */
function refusalFor(requestId: string, route: 'accounts.deposit' | 'accounts.withdraw' = 'accounts.deposit') {
  return recordRefusal({
    route,
    outcome: 'failed',
    details: { status: 500, code: 'INTERNAL' },
    actor: 'reg-teller',
    sessionId: sidOf(teller),
    requestId,
    ip: '203.0.113.9',
    userAgent: 'regression',
  });
}

/** Settles to 'pending' when the promise is still running after `ms`. */
async function stateAfter(promise: Promise<unknown>, ms: number): Promise<'pending' | 'settled'> {
  return Promise.race([
    promise.then(
      () => 'settled' as const,
      () => 'settled' as const,
    ),
    new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms)),
  ]);
}

describe('an answer lost after the operation committed: one audit event, the true one', () => {
  it("a teller's deposit keeps its success event and nothing else; the retry replays with its own", async () => {
    const accountNo = await openAccount();
    const deposit = () =>
      stack.call('POST', `/accounts/${accountNo}/deposit`, {
        token: teller,
        body: { amount: '12.34' },
        headers: { 'idempotency-key': 'regression-lost-answer-audit' },
      });
    nextFault = 'drop-after';
    const first = await deposit();
    expect(first.status).toBe(500);
    expect(first.body.code).toBe('INTERNAL');
    const retry = await deposit();
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(await balanceOf(accountNo)).toBe('12.34');
    // The first request: the client was told 500, but the deposit happened, and the trail says so
    // once, with the entry the retry was answered with.
    const events = await eventsOf(first.headers.get('x-request-id'));
    expect(events).toEqual([
      {
        actor: 'reg-teller',
        action: 'accounts.deposit',
        outcome: 'success',
        details: { accountNo, amount: '12.34', entryId: retry.body.entryId },
      },
    ]);
    const replayEvents = await eventsOf(retry.headers.get('x-request-id'));
    expect(replayEvents).toHaveLength(1);
    expect(replayEvents[0]).toMatchObject({
      action: 'accounts.deposit',
      outcome: 'success',
      details: { idempotencyKeyReplay: true, status: 200 },
    });
  });

  it("a customer's wrong PIN keeps its denied INVALID_PIN event, not a failed one", async () => {
    const accountNo = await openAccount();
    nextFault = 'drop-after';
    const response = await stack.call('POST', `/accounts/${accountNo}/withdraw`, {
      token: customer,
      body: { amount: '1.00', pin: '9173' },
    });
    expect(response.status).toBe(500);
    const events = await eventsOf(response.headers.get('x-request-id'));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actor: 'reg-customer',
      action: 'accounts.withdraw',
      outcome: 'denied',
      details: { status: 403, code: 'INVALID_PIN' },
    });
  });

  it("an answer held past the function's timeout: the handler fails after the commit, the success stays alone", async () => {
    const accountNo = await openAccount();
    nextFault = 'stall-after';
    const response = await stack.call('POST', `/accounts/${accountNo}/deposit`, {
      token: teller,
      body: { amount: '8.00' },
    });
    // The gateway's timeout or the function's own (middy fails the handler just before the
    // deadline), whichever answers first: either way the client does not learn the outcome.
    expect([500, 503]).toContain(response.status);
    // The held answer arrives later; the middleware has long tried to record a failure.
    expect(await proxy.idle(10_000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await balanceOf(accountNo)).toBe('8.00');
    const events = await eventsOf(response.headers.get('x-request-id'));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      actor: 'reg-teller',
      action: 'accounts.deposit',
      outcome: 'success',
      details: { accountNo, amount: '8.00' },
    });
  });

  it('a request refused before any operation ran still gets its one event from the middleware', async () => {
    // The control for the two above: the skip is only for a request that has an event.
    const accountNo = await openAccount();
    nextFault = 'drop-before';
    const response = await stack.call('POST', `/accounts/${accountNo}/deposit`, {
      token: teller,
      body: { amount: '3.00' },
    });
    expect(response.status).toBe(500);
    expect(await balanceOf(accountNo)).toBe('0.00');
    expect(await eventsOf(response.headers.get('x-request-id'))).toEqual([
      {
        actor: 'reg-teller',
        action: 'accounts.deposit',
        outcome: 'failed',
        details: { status: 500, code: 'INTERNAL' },
      },
    ]);
  });
});

describe("the audit middleware's refusal writer", () => {
  it('writes nothing for a request id that already has an event, and one event for a new one', async () => {
    const accountNo = await openAccount();
    const deposit = await stack.call('POST', `/accounts/${accountNo}/deposit`, {
      token: teller,
      body: { amount: '2.00' },
    });
    expect(deposit.status).toBe(200);
    const requestId = String(deposit.headers.get('x-request-id'));
    const before = await eventsOf(requestId);
    expect(before).toHaveLength(1);
    const countBefore = await query<{ n: number }>(stack.db, 'SELECT count(*)::int AS n FROM audit_logs');
    expect(await refusalFor(requestId)).toBe(false);
    expect(await eventsOf(requestId)).toEqual(before);
    expect(await query(stack.db, 'SELECT count(*)::int AS n FROM audit_logs')).toEqual(countBefore);

    const fresh = crypto.randomUUID();
    expect(await refusalFor(fresh)).toBe(true);
    expect(await refusalFor(fresh)).toBe(false);
    expect(await eventsOf(fresh)).toEqual([
      {
        actor: 'reg-teller',
        action: 'accounts.deposit',
        outcome: 'failed',
        details: { status: 500, code: 'INTERNAL' },
      },
    ]);
  });

  describe('racing the operation of the same request (its statement still running in the database)', () => {
    const moveAs = (
      c: { query: (sql: string, params: unknown[]) => Promise<unknown> },
      requestId: string,
      accountNo: string,
    ) =>
      c.query("SELECT bank_move($1::jsonb, 'DEPOSIT', $2, 4500, NULL, NULL, NULL, NULL, NULL)", [
        JSON.stringify({ sid: sidOf(teller), requestId, ip: '203.0.113.9', userAgent: 'regression' }),
        accountNo,
      ]);

    it('waits for the operation; when it commits, its success is the one event', async () => {
      const accountNo = await openAccount();
      const requestId = crypto.randomUUID();
      const operation = stack.db.client('bank_teller');
      await operation.connect();
      try {
        await operation.query('BEGIN');
        await moveAs(operation, requestId, accountNo);
        const writing = refusalFor(requestId);
        expect(await stateAfter(writing, 400)).toBe('pending');
        await operation.query('COMMIT');
        expect(await writing).toBe(false);
      } finally {
        await operation.end();
      }
      expect(await balanceOf(accountNo)).toBe('45.00');
      const events = await eventsOf(requestId);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ action: 'accounts.deposit', outcome: 'success' });
    });

    it('waits for the operation; when it rolls back, the failure is the one event', async () => {
      const accountNo = await openAccount();
      const requestId = crypto.randomUUID();
      const operation = stack.db.client('bank_teller');
      await operation.connect();
      try {
        await operation.query('BEGIN');
        await moveAs(operation, requestId, accountNo);
        const writing = refusalFor(requestId);
        expect(await stateAfter(writing, 400)).toBe('pending');
        await operation.query('ROLLBACK');
        expect(await writing).toBe(true);
      } finally {
        await operation.end();
      }
      expect(await balanceOf(accountNo)).toBe('0.00');
      expect(await eventsOf(requestId)).toEqual([
        {
          actor: 'reg-teller',
          action: 'accounts.deposit',
          outcome: 'failed',
          details: { status: 500, code: 'INTERNAL' },
        },
      ]);
    });

    it('an operation arriving after the failure was recorded rolls back whole: nothing moves', async () => {
      const accountNo = await openAccount();
      const requestId = crypto.randomUUID();
      expect(await refusalFor(requestId)).toBe(true);
      const operation = stack.db.client('bank_teller');
      await operation.connect();
      try {
        await expect(moveAs(operation, requestId, accountNo)).rejects.toMatchObject({ code: '23505' });
      } finally {
        await operation.end();
      }
      expect(await balanceOf(accountNo)).toBe('0.00');
      const ledger = await query(
        stack.db,
        'SELECT 1 FROM history h JOIN accounts a ON a.id = h.account_id WHERE a.account_no = $1',
        [accountNo],
      );
      expect(ledger).toHaveLength(0);
      const events = await eventsOf(requestId);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ action: 'accounts.deposit', outcome: 'failed' });
    });
  });
});
