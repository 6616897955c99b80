import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiResponse, query, startTestStack, type TestStack } from '../helpers/stack';

/*
 * API.md "Conventions": money-moving POSTs honour Idempotency-Key (1..100 printable ASCII). The
 * same key from the same user with the same body within 24 h replays the first response, with
 * `Idempotent-Replayed: true`, and moves no money; the same key with a different body is 422
 * IDEMPOTENCY_KEY_REUSED.
 */

const PASSWORD = 'idempotency-password';
const PIN = '4826';
const WRONG_PIN = '9157';

let stack: TestStack;
let tellerToken: string;
let tellerUsername: string;

const unique = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;
const newKey = (): string => `key-${randomBytes(8).toString('hex')}`;

interface Customer {
  readonly id: string;
  readonly username: string;
  readonly token: string;
}

async function newCustomer(): Promise<Customer> {
  const username = unique('idem');
  const id = await stack.createUser(username, PASSWORD, 'customer');
  return { id, username, token: await stack.login(username, PASSWORD) };
}

/** An account of `owner` (a fresh customer by default), funded by a teller when `funds` is given. */
async function newAccount(funds?: string, owner?: Customer): Promise<string> {
  const customer = owner ?? (await newCustomer());
  const account = await stack.call('POST', '/accounts', {
    token: tellerToken,
    body: { ownerId: customer.id, name: 'Idempotency test', pin: PIN },
  });
  expect(account.status).toBe(201);
  const accountNo = String(account.body.accountNo);
  if (funds !== undefined) {
    const funded = await stack.call('POST', `/accounts/${accountNo}/deposit`, {
      token: tellerToken,
      body: { amount: funds },
    });
    expect(funded.status).toBe(200);
  }
  return accountNo;
}

interface State {
  balance: string;
  ledgerRows: number;
  failedAttempts: number;
}

async function stateOf(accountNo: string): Promise<State> {
  const rows = await query<{ balance: string; n: string; failed_attempts: number }>(
    stack.db,
    `SELECT (a.balance_minor / 100.0)::numeric(20, 2)::text AS balance, a.failed_attempts,
            (SELECT count(*) FROM history h WHERE h.account_id = a.id)::text AS n
       FROM accounts a WHERE a.account_no = $1`,
    [accountNo],
  );
  const row = rows[0];
  if (!row) throw new Error(`no account ${accountNo}`);
  return { balance: row.balance, ledgerRows: Number(row.n), failedAttempts: row.failed_attempts };
}

function post(path: string, token: string, body: unknown, key?: string): Promise<ApiResponse> {
  return stack.call('POST', path, {
    token,
    body,
    ...(key !== undefined ? { headers: { 'idempotency-key': key } } : {}),
  });
}

const replayed = (r: ApiResponse): string | null => r.headers.get('idempotent-replayed');

function expectProblem(response: ApiResponse, status: number, code: string): void {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ status, code, requestId: response.headers.get('x-request-id') });
}

beforeAll(async () => {
  stack = await startTestStack();
  tellerUsername = unique('teller');
  await stack.createUser(tellerUsername, PASSWORD, 'teller');
  tellerToken = await stack.login(tellerUsername, PASSWORD);
});

afterAll(async () => {
  await stack?.close();
});

describe('Idempotency-Key replay', () => {
  it('replays a deposit: same status and body, Idempotent-Replayed: true, money moved once', async () => {
    // Prepare
    const accountNo = await newAccount();
    const key = newKey();
    const body = { amount: '12.34', memo: 'once only' };

    // Act
    const first = await post(`/accounts/${accountNo}/deposit`, tellerToken, body, key);
    const second = await post(`/accounts/${accountNo}/deposit`, tellerToken, body, key);

    // Assess
    expect(first.status).toBe(200);
    expect(replayed(first)).toBeNull();
    expect(first.body).toMatchObject({ accountNo, type: 'DEPOSIT', amount: '12.34', balanceAfter: '12.34' });
    expect(second.status).toBe(200);
    expect(replayed(second)).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(await stateOf(accountNo)).toEqual({ balance: '12.34', ledgerRows: 1, failedAttempts: 0 });
    // Both requests are audited; the second says it was a replay.
    const audit = await query<{ request_id: string; outcome: string; replay: string | null }>(
      stack.db,
      `SELECT request_id, outcome, details ->> 'idempotencyKeyReplay' AS replay FROM audit_logs
        WHERE action = 'accounts.deposit' AND request_id = ANY($1) ORDER BY seq`,
      [[first.headers.get('x-request-id'), second.headers.get('x-request-id')]],
    );
    expect(audit).toEqual([
      { request_id: first.headers.get('x-request-id'), outcome: 'success', replay: null },
      { request_id: second.headers.get('x-request-id'), outcome: 'success', replay: 'true' },
    ]);
  });

  it('replays a transfer (201) and a withdrawal (200) without moving money again', async () => {
    // Prepare
    const from = await newAccount('100.00');
    const to = await newAccount();
    const transferKey = newKey();
    const withdrawKey = newKey();
    const transfer = { fromAccountNo: from, toAccountNo: to, amount: '30.00' };

    // Act
    const t1 = await post('/transfers', tellerToken, transfer, transferKey);
    const t2 = await post('/transfers', tellerToken, transfer, transferKey);
    const w1 = await post(`/accounts/${from}/withdraw`, tellerToken, { amount: '0.50' }, withdrawKey);
    const w2 = await post(`/accounts/${from}/withdraw`, tellerToken, { amount: '0.50' }, withdrawKey);

    // Assess
    expect([t1.status, t2.status]).toEqual([201, 201]);
    expect([replayed(t1), replayed(t2)]).toEqual([null, 'true']);
    expect(t2.body).toEqual(t1.body);
    expect(t1.body).toMatchObject({
      fromAccountNo: from,
      toAccountNo: to,
      amount: '30.00',
      fromBalanceAfter: '70.00',
    });
    expect([w1.status, w2.status]).toEqual([200, 200]);
    expect([replayed(w1), replayed(w2)]).toEqual([null, 'true']);
    expect(w2.body).toEqual(w1.body);
    expect(await stateOf(from)).toEqual({ balance: '69.50', ledgerRows: 3, failedAttempts: 0 });
    expect(await stateOf(to)).toEqual({ balance: '30.00', ledgerRows: 1, failedAttempts: 0 });
  });

  it('refuses the same key with a different body or route (422 IDEMPOTENCY_KEY_REUSED), moving nothing', async () => {
    // Prepare
    const accountNo = await newAccount();
    const other = await newAccount('50.00');
    const key = newKey();
    const first = await post(`/accounts/${accountNo}/deposit`, tellerToken, { amount: '10.00' }, key);
    expect(first.status).toBe(200);
    const before = await stateOf(accountNo);
    const otherBefore = await stateOf(other);

    // Act
    const otherAmount = await post(`/accounts/${accountNo}/deposit`, tellerToken, { amount: '10.01' }, key);
    const otherMemo = await post(
      `/accounts/${accountNo}/deposit`,
      tellerToken,
      { amount: '10.00', memo: 'x' },
      key,
    );
    const otherAccount = await post(`/accounts/${other}/deposit`, tellerToken, { amount: '10.00' }, key);
    const otherRoute = await post(`/accounts/${accountNo}/withdraw`, tellerToken, { amount: '10.00' }, key);
    const asTransfer = await post(
      '/transfers',
      tellerToken,
      { fromAccountNo: other, toAccountNo: accountNo, amount: '10.00' },
      key,
    );

    // Assess
    for (const r of [otherAmount, otherMemo, otherAccount, otherRoute, asTransfer]) {
      expectProblem(r, 422, 'IDEMPOTENCY_KEY_REUSED');
      expect(replayed(r)).toBeNull();
    }
    expect(await stateOf(accountNo)).toEqual(before);
    expect(await stateOf(other)).toEqual(otherBefore);
    expect(before).toEqual({ balance: '10.00', ledgerRows: 1, failedAttempts: 0 });
  });

  it.each([
    ['a deposit', 'deposit'],
    ['a transfer', 'transfer'],
  ] as const)('moves money exactly once for 10 concurrent duplicates of %s', async (_label, kind) => {
    // Prepare
    const from = await newAccount('100.00');
    const to = await newAccount();
    const key = newKey();
    const send = (): Promise<ApiResponse> =>
      kind === 'deposit'
        ? post(`/accounts/${to}/deposit`, tellerToken, { amount: '7.77' }, key)
        : post('/transfers', tellerToken, { fromAccountNo: from, toAccountNo: to, amount: '7.77' }, key);

    // Act
    const responses = await Promise.all(Array.from({ length: 10 }, send));

    // Assess: one original, nine replays of it, all identical.
    const expectedStatus = kind === 'deposit' ? 200 : 201;
    expect(responses.map((r) => r.status)).toEqual(Array.from({ length: 10 }, () => expectedStatus));
    const originals = responses.filter((r) => replayed(r) === null);
    const replays = responses.filter((r) => replayed(r) === 'true');
    expect(originals).toHaveLength(1);
    expect(replays).toHaveLength(9);
    for (const r of responses) expect(r.body).toEqual(originals[0]?.body);
    expect(await stateOf(to)).toEqual({ balance: '7.77', ledgerRows: 1, failedAttempts: 0 });
    expect(await stateOf(from)).toEqual(
      kind === 'deposit'
        ? { balance: '100.00', ledgerRows: 1, failedAttempts: 0 }
        : { balance: '92.23', ledgerRows: 2, failedAttempts: 0 },
    );
    const keys = await query<{ n: string }>(
      stack.db,
      'SELECT count(*)::text AS n FROM idempotency_keys WHERE key = $1',
      [key],
    );
    expect(keys[0]?.n).toBe('1');
  });

  it('scopes a key per user: another user may use the same key for their own request', async () => {
    // Prepare
    const otherTeller = unique('teller2');
    await stack.createUser(otherTeller, PASSWORD, 'teller');
    const otherToken = await stack.login(otherTeller, PASSWORD);
    const accountNo = await newAccount();
    const key = newKey();
    const body = { amount: '5.00' };

    // Act
    const mine = await post(`/accounts/${accountNo}/deposit`, tellerToken, body, key);
    const theirs = await post(`/accounts/${accountNo}/deposit`, otherToken, body, key);
    const theirsDifferent = await post(`/accounts/${accountNo}/deposit`, otherToken, { amount: '6.00' }, key);

    // Assess: the second teller's request is new (not a replay of the first teller's); its own
    // reuse with a different body is the 422.
    expect(mine.status).toBe(200);
    expect(theirs.status).toBe(200);
    expect(replayed(theirs)).toBeNull();
    expect(theirs.body.entryId).not.toBe(mine.body.entryId);
    expect(theirs.body.balanceAfter).toBe('10.00');
    expectProblem(theirsDifferent, 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(await stateOf(accountNo)).toEqual({ balance: '10.00', ledgerRows: 2, failedAttempts: 0 });
  });

  it("replays a customer's movement only after the database has checked the PIN, which resets the count", async () => {
    // Prepare: a customer deposit with a key, then one wrong PIN (count 1).
    const customer = await newCustomer();
    const accountNo = await newAccount(undefined, customer);
    const key = newKey();
    const body = { amount: '3.00', pin: PIN };
    const first = await post(`/accounts/${accountNo}/deposit`, customer.token, body, key);
    expect(first.status).toBe(200);
    const wrong = await post(`/accounts/${accountNo}/deposit`, customer.token, {
      amount: '1.00',
      pin: WRONG_PIN,
    });
    expectProblem(wrong, 403, 'INVALID_PIN');
    expect(await stateOf(accountNo)).toEqual({ balance: '3.00', ledgerRows: 1, failedAttempts: 1 });

    // Act
    const replay = await post(`/accounts/${accountNo}/deposit`, customer.token, body, key);

    // Assess: replayed, nothing moved, and the right PIN started the count again.
    expect(replay.status).toBe(200);
    expect(replayed(replay)).toBe('true');
    expect(replay.body).toEqual(first.body);
    expect(await stateOf(accountNo)).toEqual({ balance: '3.00', ledgerRows: 1, failedAttempts: 0 });
  });

  it('is no PIN oracle: a replay with a wrong PIN is a wrong PIN (403, counted), never 422 or the first response', async () => {
    // Prepare
    const customer = await newCustomer();
    const accountNo = await newAccount(undefined, customer);
    const key = newKey();
    const first = await post(
      `/accounts/${accountNo}/deposit`,
      customer.token,
      { amount: '3.00', pin: PIN },
      key,
    );
    expect(first.status).toBe(200);
    // Act: the same body and key with a wrong PIN, and another wrong PIN.
    const other = await post(
      `/accounts/${accountNo}/deposit`,
      customer.token,
      { amount: '3.00', pin: WRONG_PIN },
      key,
    );
    const again = await post(
      `/accounts/${accountNo}/deposit`,
      customer.token,
      { amount: '3.00', pin: '5291' },
      key,
    );
    // Assess: exactly what a wrong PIN without a key answers, and counted.
    expectProblem(other, 403, 'INVALID_PIN');
    expect(other.body.attemptsRemaining).toBe(2);
    expect(replayed(other)).toBeNull();
    expectProblem(again, 403, 'INVALID_PIN');
    expect(again.body.attemptsRemaining).toBe(1);
    expect(await stateOf(accountNo)).toEqual({ balance: '3.00', ledgerRows: 1, failedAttempts: 2 });
    const stored = await query<{ request_hash: string }>(
      stack.db,
      'SELECT request_hash FROM idempotency_keys WHERE key = $1',
      [key],
    );
    // Only a keyed digest of the PIN entered the hash: no plain PIN is stored anywhere.
    expect(stored).toHaveLength(1);
    expect(stored[0]?.request_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('lets a refused movement (422 INSUFFICIENT_FUNDS) run again under the same key once funded', async () => {
    // Prepare
    const from = await newAccount('20.00');
    const to = await newAccount();
    const withdrawKey = newKey();
    const transferKey = newKey();
    const transfer = { fromAccountNo: from, toAccountNo: to, amount: '40.00' };

    // Act
    const refusedWithdraw = await post(
      `/accounts/${from}/withdraw`,
      tellerToken,
      { amount: '50.00' },
      withdrawKey,
    );
    const refusedTransfer = await post('/transfers', tellerToken, transfer, transferKey);
    const stateRefused = await stateOf(from);
    const funding = await post(`/accounts/${from}/deposit`, tellerToken, { amount: '100.00' });
    const retriedWithdraw = await post(
      `/accounts/${from}/withdraw`,
      tellerToken,
      { amount: '50.00' },
      withdrawKey,
    );
    const retriedTransfer = await post('/transfers', tellerToken, transfer, transferKey);
    const replayedTransfer = await post('/transfers', tellerToken, transfer, transferKey);

    // Assess
    expectProblem(refusedWithdraw, 422, 'INSUFFICIENT_FUNDS');
    expectProblem(refusedTransfer, 422, 'INSUFFICIENT_FUNDS');
    expect(stateRefused).toEqual({ balance: '20.00', ledgerRows: 1, failedAttempts: 0 });
    expect(funding.status).toBe(200);
    expect(retriedWithdraw.status).toBe(200);
    expect(replayed(retriedWithdraw)).toBeNull();
    expect(retriedWithdraw.body.balanceAfter).toBe('70.00');
    expect(retriedTransfer.status).toBe(201);
    expect(replayed(retriedTransfer)).toBeNull();
    expect(retriedTransfer.body.fromBalanceAfter).toBe('30.00');
    expect(replayedTransfer.status).toBe(201);
    expect(replayed(replayedTransfer)).toBe('true');
    expect(replayedTransfer.body).toEqual(retriedTransfer.body);
    expect(await stateOf(from)).toEqual({ balance: '30.00', ledgerRows: 4, failedAttempts: 0 });
    expect(await stateOf(to)).toEqual({ balance: '40.00', ledgerRows: 1, failedAttempts: 0 });
  });

  it.each([
    ['empty', ''],
    ['101 characters', 'k'.repeat(101)],
    // (DEL and C0 controls other than tab cannot be sent at all: fetch refuses them client-side.)
    ['a C1 control character', 'key\u00801'],
    ['a tab', 'key\t1'],
    ['a non-ASCII character', 'clé-1'],
  ])('refuses a key that is %s (400), moving nothing', async (_label, key) => {
    // Prepare
    const accountNo = await newAccount('10.00');
    const before = await stateOf(accountNo);

    // Act
    const response = await post(`/accounts/${accountNo}/deposit`, tellerToken, { amount: '1.00' }, key);

    // Assess
    expectProblem(response, 400, 'VALIDATION_FAILED');
    expect(response.body.errors).toEqual([{ path: 'header.Idempotency-Key', message: expect.any(String) }]);
    expect(await stateOf(accountNo)).toEqual(before);
  });

  it('accepts a key of exactly 100 printable characters', async () => {
    // Prepare
    const accountNo = await newAccount();
    const key = `!~ ${randomBytes(48).toString('hex')}`.slice(0, 100).padEnd(100, 'x');
    expect(key).toHaveLength(100);

    // Act
    const first = await post(`/accounts/${accountNo}/deposit`, tellerToken, { amount: '1.00' }, key);
    const second = await post(`/accounts/${accountNo}/deposit`, tellerToken, { amount: '1.00' }, key);

    // Assess
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(replayed(second)).toBe('true');
    expect(await stateOf(accountNo)).toEqual({ balance: '1.00', ledgerRows: 1, failedAttempts: 0 });
  });
});
