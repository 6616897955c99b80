import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiResponse, query, startTestStack, type TestStack } from '../helpers/stack';

/*
 * PIN brute force (API.md "Roles", DESIGN.md "PIN brute force"): after MAX_PIN_ATTEMPTS (3)
 * consecutive wrong PINs the account locks; a correct PIN resets the count; only a teller or admin
 * unlocks; a locked account refuses every money operation. The PIN is compared by the database
 * inside the movement's own transaction, under the account's row lock, so attempts on one account
 * are judged one at a time: a concurrent burst of wrong PINs gets exactly 3 comparisons, and
 * concurrent correct PINs never count against each other.
 */

const PASSWORD = 'pin-lockout-password';
const PIN = '4826';
const WRONG_PIN = '9157';

let stack: TestStack;
let tellerToken: string;

const unique = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

interface Customer {
  readonly username: string;
  readonly token: string;
  readonly accountNo: string;
}

/** A customer with one account holding 100.00 (teller deposit). */
async function customerWithAccount(): Promise<Customer> {
  const username = unique('pin');
  const id = await stack.createUser(username, PASSWORD, 'customer');
  const token = await stack.login(username, PASSWORD);
  const account = await stack.call('POST', '/accounts', {
    token: tellerToken,
    body: { ownerId: id, name: 'Pin test', pin: PIN },
  });
  expect(account.status).toBe(201);
  const accountNo = String(account.body.accountNo);
  const funded = await stack.call('POST', `/accounts/${accountNo}/deposit`, {
    token: tellerToken,
    body: { amount: '100.00' },
  });
  expect(funded.status).toBe(200);
  return { username, token, accountNo };
}

interface AccountState {
  balance: string;
  failedAttempts: number;
  isLocked: boolean;
  ledgerRows: number;
}

async function stateOf(accountNo: string): Promise<AccountState> {
  const rows = await query<{ balance: string; failed_attempts: number; is_locked: boolean; n: string }>(
    stack.db,
    `SELECT (a.balance_minor / 100.0)::numeric(20, 2)::text AS balance, a.failed_attempts, a.is_locked,
            (SELECT count(*) FROM history h WHERE h.account_id = a.id)::text AS n
       FROM accounts a WHERE a.account_no = $1`,
    [accountNo],
  );
  const row = rows[0];
  if (!row) throw new Error(`no account ${accountNo}`);
  return {
    balance: row.balance,
    failedAttempts: row.failed_attempts,
    isLocked: row.is_locked,
    ledgerRows: Number(row.n),
  };
}

function withdraw(customer: Customer, pin: string, amount = '1.00'): Promise<ApiResponse> {
  return stack.call('POST', `/accounts/${customer.accountNo}/withdraw`, {
    token: customer.token,
    body: { amount, pin },
  });
}

function expectProblem(response: ApiResponse, status: number, code: string): void {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ status, code, requestId: response.headers.get('x-request-id') });
}

async function lockByWrongPins(customer: Customer): Promise<void> {
  for (let i = 0; i < 3; i++) expect((await withdraw(customer, WRONG_PIN)).status).toBe(403);
  expect((await stateOf(customer.accountNo)).isLocked).toBe(true);
}

beforeAll(async () => {
  stack = await startTestStack();
  const teller = unique('teller');
  await stack.createUser(teller, PASSWORD, 'teller');
  tellerToken = await stack.login(teller, PASSWORD);
});

afterAll(async () => {
  await stack?.close();
});

describe('PIN lockout', () => {
  it('gives 40 concurrent wrong PINs exactly 3 comparisons: 3 × 403 INVALID_PIN, 37 × 423', async () => {
    // Prepare
    const customer = await customerWithAccount();
    const before = await stateOf(customer.accountNo);

    // Act
    const responses = await Promise.all(Array.from({ length: 40 }, () => withdraw(customer, WRONG_PIN)));

    // Assess: a 403 INVALID_PIN can only follow a comparison; a 423 is refused before one, once
    // the third wrong PIN has locked the account. Judged one at a time: three comparisons.
    const invalid = responses.filter((r) => r.status === 403);
    const locked = responses.filter((r) => r.status === 423);
    expect(invalid).toHaveLength(3);
    expect(locked).toHaveLength(37);
    for (const r of invalid) {
      expectProblem(r, 403, 'INVALID_PIN');
      expect([0, 1, 2]).toContain(r.body.attemptsRemaining);
    }
    for (const r of locked) expectProblem(r, 423, 'ACCOUNT_LOCKED');
    const after = await stateOf(customer.accountNo);
    expect(after).toEqual({ ...before, failedAttempts: 3, isLocked: true });
    expect(after.balance).toBe('100.00');
    const account = await stack.call('GET', `/accounts/${customer.accountNo}`, { token: tellerToken });
    expect(account.body).toMatchObject({ balance: '100.00', isLocked: true });

    // One audit event per request, all denied, with the code each response carried.
    const audit = await query<{ request_id: string; outcome: string; code: string }>(
      stack.db,
      `SELECT request_id, outcome, details ->> 'code' AS code FROM audit_logs
        WHERE actor = $1 AND action = 'accounts.withdraw'`,
      [customer.username],
    );
    expect(audit).toHaveLength(40);
    const byRequest = new Map(audit.map((a) => [a.request_id, a]));
    for (const r of responses) {
      expect(byRequest.get(String(r.headers.get('x-request-id')))).toMatchObject({
        outcome: 'denied',
        code: r.body.code,
      });
    }
  });

  it('never locks the owner for concurrent correct PINs: 8 concurrent withdrawals all succeed', async () => {
    // Prepare
    const customer = await customerWithAccount();
    // Act
    const responses = await Promise.all(Array.from({ length: 8 }, () => withdraw(customer, PIN, '1.00')));
    // Assess
    expect(responses.map((r) => r.status)).toEqual(Array.from({ length: 8 }, () => 200));
    const balances = responses.map((r) => String(r.body.balanceAfter)).sort();
    expect(balances).toEqual(['92.00', '93.00', '94.00', '95.00', '96.00', '97.00', '98.00', '99.00']);
    expect(await stateOf(customer.accountNo)).toEqual({
      balance: '92.00',
      failedAttempts: 0,
      isLocked: false,
      ledgerRows: 9,
    });
  });

  it('fails concurrent correct PINs only for funds: 8 withdrawals of 30.00 from 100.00, 3 × 200 and 5 × 422', async () => {
    // Prepare
    const customer = await customerWithAccount();
    // Act
    const responses = await Promise.all(Array.from({ length: 8 }, () => withdraw(customer, PIN, '30.00')));
    // Assess
    const ok = responses.filter((r) => r.status === 200);
    const poor = responses.filter((r) => r.status === 422);
    expect(ok).toHaveLength(3);
    expect(poor).toHaveLength(5);
    for (const r of poor) expectProblem(r, 422, 'INSUFFICIENT_FUNDS');
    expect(await stateOf(customer.accountNo)).toEqual({
      balance: '10.00',
      failedAttempts: 0,
      isLocked: false,
      ledgerRows: 4,
    });
  });

  it('keeps a customer movement to ONE database call: the PIN travels to the database, no hash comes back', async () => {
    // Prepare
    const customer = await customerWithAccount();
    const before = stack.services.dataApi.stats.calls;
    // Act
    const response = await withdraw(customer, PIN, '2.00');
    // Assess: one ExecuteStatement (the audit event is written in it), no transaction calls.
    expect(response.status).toBe(200);
    const after = stack.services.dataApi.stats.calls;
    const delta = Object.fromEntries(
      Object.entries(after)
        .map(([name, n]) => [name, n - (before[name] ?? 0)] as const)
        .filter(([, n]) => n !== 0),
    );
    expect(delta).toEqual({ ExecuteStatement: 1 });
    expect(JSON.stringify(response.body)).not.toMatch(/\$2[aby]\$/);
  });

  it('counts attemptsRemaining down 2, 1, 0 on three sequential wrong PINs; the third locks', async () => {
    // Prepare
    const customer = await customerWithAccount();

    // Act
    const first = await withdraw(customer, WRONG_PIN);
    const afterFirst = await stateOf(customer.accountNo);
    const second = await withdraw(customer, WRONG_PIN);
    const third = await withdraw(customer, WRONG_PIN);
    const fourth = await withdraw(customer, WRONG_PIN);

    // Assess
    expectProblem(first, 403, 'INVALID_PIN');
    expect(first.body.attemptsRemaining).toBe(2);
    expect(afterFirst).toMatchObject({ failedAttempts: 1, isLocked: false });
    expectProblem(second, 403, 'INVALID_PIN');
    expect(second.body.attemptsRemaining).toBe(1);
    expectProblem(third, 403, 'INVALID_PIN');
    expect(third.body.attemptsRemaining).toBe(0);
    expectProblem(fourth, 423, 'ACCOUNT_LOCKED');
    expect(await stateOf(customer.accountNo)).toEqual({
      balance: '100.00',
      failedAttempts: 3,
      isLocked: true,
      ledgerRows: 1,
    });
    for (const r of [first, second, third, fourth]) expect(r.text).not.toContain(WRONG_PIN);
  });

  it('resets the count on a correct PIN: 2 wrong, 1 right, 2 wrong leaves the account unlocked', async () => {
    // Prepare
    const customer = await customerWithAccount();

    // Act
    const wrong1 = await withdraw(customer, WRONG_PIN);
    const wrong2 = await withdraw(customer, WRONG_PIN);
    const right = await withdraw(customer, PIN, '10.25');
    const afterRight = await stateOf(customer.accountNo);
    const wrong3 = await withdraw(customer, WRONG_PIN);
    const wrong4 = await withdraw(customer, WRONG_PIN);

    // Assess
    expect([wrong1.body.attemptsRemaining, wrong2.body.attemptsRemaining]).toEqual([2, 1]);
    expect(right.status).toBe(200);
    expect(right.body).toMatchObject({ type: 'WITHDRAWAL', amount: '10.25', balanceAfter: '89.75' });
    expect(afterRight).toMatchObject({ failedAttempts: 0, isLocked: false });
    expect([wrong3.status, wrong4.status]).toEqual([403, 403]);
    expect([wrong3.body.attemptsRemaining, wrong4.body.attemptsRemaining]).toEqual([2, 1]);
    expect(await stateOf(customer.accountNo)).toEqual({
      balance: '89.75',
      failedAttempts: 2,
      isLocked: false,
      ledgerRows: 2,
    });
  });

  it('refuses the correct PIN too while locked (423), and a teller unlock resets the count', async () => {
    // Prepare
    const customer = await customerWithAccount();
    await lockByWrongPins(customer);

    // Act
    const correctWhileLocked = await withdraw(customer, PIN);
    const stateWhileLocked = await stateOf(customer.accountNo);
    const unlock = await stack.call('POST', `/accounts/${customer.accountNo}/unlock`, {
      token: tellerToken,
      body: {},
    });
    const stateAfterUnlock = await stateOf(customer.accountNo);
    const wrongAfterUnlock = await withdraw(customer, WRONG_PIN);
    const rightAfterUnlock = await withdraw(customer, PIN, '0.01');

    // Assess
    expectProblem(correctWhileLocked, 423, 'ACCOUNT_LOCKED');
    expect(stateWhileLocked).toEqual({ balance: '100.00', failedAttempts: 3, isLocked: true, ledgerRows: 1 });
    expect(unlock.status).toBe(200);
    expect(unlock.body).toMatchObject({ accountNo: customer.accountNo, isLocked: false, balance: '100.00' });
    expect(stateAfterUnlock).toMatchObject({ failedAttempts: 0, isLocked: false });
    expectProblem(wrongAfterUnlock, 403, 'INVALID_PIN');
    expect(wrongAfterUnlock.body.attemptsRemaining).toBe(2);
    expect(rightAfterUnlock.status).toBe(200);
    expect(rightAfterUnlock.body.balanceAfter).toBe('99.99');
    expect(await stateOf(customer.accountNo)).toEqual({
      balance: '99.99',
      failedAttempts: 0,
      isLocked: false,
      ledgerRows: 2,
    });
  });

  it('refuses deposits, withdrawals and transfers from and to a locked account, for any role', async () => {
    // Prepare: a locked account (by wrong PINs) and an open one of another customer.
    const locked = await customerWithAccount();
    const other = await customerWithAccount();
    await lockByWrongPins(locked);
    const lockedBefore = await stateOf(locked.accountNo);
    const otherBefore = await stateOf(other.accountNo);

    // Act
    const customerDeposit = await stack.call('POST', `/accounts/${locked.accountNo}/deposit`, {
      token: locked.token,
      body: { amount: '5.00', pin: PIN },
    });
    const tellerDeposit = await stack.call('POST', `/accounts/${locked.accountNo}/deposit`, {
      token: tellerToken,
      body: { amount: '5.00' },
    });
    const tellerWithdraw = await stack.call('POST', `/accounts/${locked.accountNo}/withdraw`, {
      token: tellerToken,
      body: { amount: '5.00' },
    });
    const customerTransferFrom = await stack.call('POST', '/transfers', {
      token: locked.token,
      body: { fromAccountNo: locked.accountNo, toAccountNo: other.accountNo, amount: '5.00', pin: PIN },
    });
    const tellerTransferFrom = await stack.call('POST', '/transfers', {
      token: tellerToken,
      body: { fromAccountNo: locked.accountNo, toAccountNo: other.accountNo, amount: '5.00' },
    });
    const tellerTransferTo = await stack.call('POST', '/transfers', {
      token: tellerToken,
      body: { fromAccountNo: other.accountNo, toAccountNo: locked.accountNo, amount: '5.00' },
    });
    const customerTransferTo = await stack.call('POST', '/transfers', {
      token: other.token,
      body: { fromAccountNo: other.accountNo, toAccountNo: locked.accountNo, amount: '5.00', pin: PIN },
    });

    // Assess: every one 423, nothing moved, no ledger row, no attempt counted.
    for (const r of [
      customerDeposit,
      tellerDeposit,
      tellerWithdraw,
      customerTransferFrom,
      tellerTransferFrom,
      tellerTransferTo,
      customerTransferTo,
    ]) {
      expectProblem(r, 423, 'ACCOUNT_LOCKED');
    }
    expect(await stateOf(locked.accountNo)).toEqual(lockedBefore);
    expect(await stateOf(other.accountNo)).toEqual(otherBefore);
    expect(otherBefore).toEqual({ balance: '100.00', failedAttempts: 0, isLocked: false, ledgerRows: 1 });
  });

  it('locks by teller too: a teller-locked account refuses the owner with the right PIN', async () => {
    // Prepare
    const customer = await customerWithAccount();
    const lock = await stack.call('POST', `/accounts/${customer.accountNo}/lock`, {
      token: tellerToken,
      body: { reason: 'suspicious activity' },
    });
    expect(lock.status).toBe(200);
    expect(lock.body.isLocked).toBe(true);

    // Act
    const response = await withdraw(customer, PIN);

    // Assess
    expectProblem(response, 423, 'ACCOUNT_LOCKED');
    expect(await stateOf(customer.accountNo)).toEqual({
      balance: '100.00',
      failedAttempts: 0,
      isLocked: true,
      ledgerRows: 1,
    });
  });
});
