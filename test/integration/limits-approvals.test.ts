import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiResponse, query, startTestStack, type TestStack } from '../helpers/stack';

/*
 * API.md v1.1 "Limits and approvals", through the whole local request path with the default
 * settings (BANK_DAILY_DEBIT_LIMIT 5000.00, BANK_APPROVAL_AMOUNT 50000.00): a customer's daily
 * debit limit under concurrency, and maker-checker for a teller's large movements (approve,
 * reject, expiry, refusals, races, idempotent replay). Outcomes are exact: statuses, codes,
 * balances to the cent, ledger rows and audit rows.
 */

const PASSWORD = 'limits-password-1';
const PIN = '582931';

let s: TestStack;
let maker: { id: string; token: string };
let checker: { id: string; token: string };
let admin: { id: string; token: string };
let customer: { id: string; token: string };

const unique = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

async function user(role: 'customer' | 'teller' | 'admin'): Promise<{ id: string; token: string }> {
  const username = unique(role);
  const id = await s.createUser(username, PASSWORD, role);
  return { id, token: await s.login(username, PASSWORD) };
}

function expectProblem(res: ApiResponse, status: number, code: string): void {
  expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
}

/** A customer's account, funded by an admin (no approval needed) with `amount`. */
async function account(ownerId: string, amount?: string): Promise<string> {
  const res = await s.call('POST', '/accounts', {
    token: admin.token,
    body: { ownerId, name: 'Limits', pin: PIN },
  });
  const accountNo = res.body.accountNo;
  if (res.status !== 201 || typeof accountNo !== 'string') throw new Error(`no account: ${res.text}`);
  if (amount !== undefined) {
    const funded = await s.call('POST', `/accounts/${accountNo}/deposit`, {
      token: admin.token,
      body: { amount },
    });
    expect(funded.status).toBe(200);
  }
  return accountNo;
}

async function balanceOf(accountNo: string): Promise<string> {
  const rows = await query<{ balance: string }>(
    s.db,
    "SELECT (balance_minor / 100)::text || '.' || lpad((balance_minor % 100)::text, 2, '0') AS balance FROM accounts WHERE account_no = $1",
    [accountNo],
  );
  const balance = rows[0]?.balance;
  if (balance === undefined) throw new Error(`no account ${accountNo}`);
  return balance;
}

/** Ledger rows of an account, oldest first: type, amount in minor units, and the acting user. */
async function ledger(accountNo: string): Promise<Array<{ type: string; amount: string; actor: string }>> {
  return query(
    s.db,
    `SELECT h.type, h.amount_minor::text AS amount, h.actor_id::text AS actor
       FROM history h JOIN accounts a ON a.id = h.account_id
      WHERE a.account_no = $1 ORDER BY h.seq`,
    [accountNo],
  );
}

/** The audit events of one request (by its x-request-id). */
async function eventsOf(
  res: ApiResponse,
): Promise<Array<{ action: string; outcome: string; details: Record<string, unknown> }>> {
  const requestId = res.headers.get('x-request-id');
  expect(requestId).toBeTruthy();
  return query(s.db, 'SELECT action, outcome, details FROM audit_logs WHERE request_id = $1 ORDER BY seq', [
    requestId,
  ]);
}

/** A teller's (the maker's) deposit of `amount`: 202, pending. */
async function pendingDeposit(accountNo: string, amount = '50000.00'): Promise<string> {
  const res = await s.call('POST', `/accounts/${accountNo}/deposit`, {
    token: maker.token,
    body: { amount },
  });
  expect(res.status).toBe(202);
  const approvalId = res.body.approvalId;
  if (typeof approvalId !== 'string') throw new Error(`no approval: ${res.text}`);
  return approvalId;
}

beforeAll(async () => {
  s = await startTestStack();
  // These tests are about limits and approvals: a customer's step-up (a TOTP code from 1000.00 by
  // default) is tested in credentials.test.ts, so its threshold is set out of the way here, as
  // the owner sets any setting.
  await query(s.db, "SELECT bank_set_setting('BANK_STEP_UP_AMOUNT', 100000000000)");
  maker = await user('teller');
  checker = await user('teller');
  admin = await user('admin');
  customer = await user('customer');
});

afterAll(async () => {
  await s?.close();
});

describe('daily debit limit (customers)', () => {
  it('gives exactly 12 of 20 concurrent 400.00 withdrawals against a 5000.00 limit; the rest 422 LIMIT_EXCEEDED', async () => {
    // Prepare: funds far above the limit, so only the limit decides.
    const accountNo = await account(customer.id, '10000.00');
    // Act
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        s.call('POST', `/accounts/${accountNo}/withdraw`, {
          token: customer.token,
          body: { amount: '400.00', pin: PIN },
        }),
      ),
    );
    // Assess
    const ok = responses.filter((r) => r.status === 200);
    const refused = responses.filter((r) => r.status !== 200);
    expect(ok).toHaveLength(12);
    expect(refused).toHaveLength(8);
    for (const r of refused) {
      expectProblem(r, 422, 'LIMIT_EXCEEDED');
      expect({ limit: r.body.limit, remaining: r.body.remaining }).toEqual({
        limit: '5000.00',
        remaining: '200.00',
      });
    }
    expect(await balanceOf(accountNo)).toBe('5200.00');
    const rows = await ledger(accountNo);
    expect(rows.filter((r) => r.type === 'WITHDRAWAL')).toHaveLength(12);
    expect(rows.filter((r) => r.type === 'WITHDRAWAL').every((r) => r.amount === '40000')).toBe(true);
    const audit = await query<{ outcome: string; n: string }>(
      s.db,
      `SELECT outcome, count(*)::text AS n FROM audit_logs
        WHERE action = 'accounts.withdraw' AND details ->> 'accountNo' = $1 GROUP BY outcome ORDER BY outcome`,
      [accountNo],
    );
    expect(audit).toEqual([
      { outcome: 'failed', n: '8' },
      { outcome: 'success', n: '12' },
    ]);
  });

  it('counts withdrawals and outgoing transfers together, per account; deposits, incoming money and staff debits do not count', async () => {
    // Prepare
    const a = await account(customer.id, '9000.00');
    const b = await account(customer.id, '9000.00');
    // Act: 3000.00 out by withdrawal, staff withdraw and a deposit and an incoming transfer that do not count.
    const withdrawal = await s.call('POST', `/accounts/${a}/withdraw`, {
      token: customer.token,
      body: { amount: '3000.00', pin: PIN },
    });
    const byTeller = await s.call('POST', `/accounts/${a}/withdraw`, {
      token: maker.token,
      body: { amount: '1000.00' },
    });
    const deposit = await s.call('POST', `/accounts/${a}/deposit`, {
      token: customer.token,
      body: { amount: '500.00', pin: PIN },
    });
    const incoming = await s.call('POST', '/transfers', {
      token: customer.token,
      body: { fromAccountNo: b, toAccountNo: a, amount: '900.00', pin: PIN },
    });
    const over = await s.call('POST', '/transfers', {
      token: customer.token,
      body: { fromAccountNo: a, toAccountNo: b, amount: '2000.01', pin: PIN },
    });
    const exact = await s.call('POST', '/transfers', {
      token: customer.token,
      body: { fromAccountNo: a, toAccountNo: b, amount: '2000.00', pin: PIN },
    });
    const oneCent = await s.call('POST', `/accounts/${a}/withdraw`, {
      token: customer.token,
      body: { amount: '0.01', pin: PIN },
    });
    // Assess
    expect([withdrawal.status, byTeller.status, deposit.status, incoming.status]).toEqual([
      200, 200, 200, 201,
    ]);
    expectProblem(over, 422, 'LIMIT_EXCEEDED');
    expect(over.body).toMatchObject({
      limit: '5000.00',
      remaining: '2000.00',
      detail: 'the amount would exceed the daily debit limit of this account',
    });
    expect(exact.status).toBe(201);
    expectProblem(oneCent, 422, 'LIMIT_EXCEEDED');
    expect(oneCent.body).toMatchObject({ limit: '5000.00', remaining: '0.00' });
    // 9000 - 3000 - 1000 + 500 + 900 - 2000 = 4400.00; b: 9000 - 900 + 2000 = 10100.00
    expect(await balanceOf(a)).toBe('4400.00');
    expect(await balanceOf(b)).toBe('10100.00');
    // b's own limit is untouched by a's: it moved 900.00 out today.
    const fromB = await s.call('POST', `/accounts/${b}/withdraw`, {
      token: customer.token,
      body: { amount: '4100.00', pin: PIN },
    });
    expect(fromB.status).toBe(200);
    expect((await ledger(a)).map((r) => r.type)).toEqual([
      'DEPOSIT',
      'WITHDRAWAL',
      'WITHDRAWAL',
      'DEPOSIT',
      'TRANSFER_IN',
      'TRANSFER_OUT',
    ]);
  });

  it('resets at the UTC day boundary (yesterday counts for nothing today)', async () => {
    // Prepare: 5000.00 debited today, then moved to yesterday as the owner.
    const accountNo = await account(customer.id, '6000.00');
    const first = await s.call('POST', `/accounts/${accountNo}/withdraw`, {
      token: customer.token,
      body: { amount: '5000.00', pin: PIN },
    });
    expect(first.status).toBe(200);
    const refused = await s.call('POST', `/accounts/${accountNo}/withdraw`, {
      token: customer.token,
      body: { amount: '0.01', pin: PIN },
    });
    expectProblem(refused, 422, 'LIMIT_EXCEEDED');
    await query(
      s.db,
      `UPDATE customer_debits_daily SET day = day - 1
        WHERE account_id = (SELECT id FROM accounts WHERE account_no = $1)`,
      [accountNo],
    );
    // Act
    const today = await s.call('POST', `/accounts/${accountNo}/withdraw`, {
      token: customer.token,
      body: { amount: '1000.00', pin: PIN },
    });
    // Assess
    expect(today.status).toBe(200);
    expect(await balanceOf(accountNo)).toBe('0.00');
  });
});

describe('maker-checker (tellers)', () => {
  it("holds a teller's deposit of the approval amount: 202 pending, nothing moved, one audit event", async () => {
    // Prepare
    const accountNo = await account(customer.id, '1.00');
    // Act
    const below = await s.call('POST', `/accounts/${accountNo}/deposit`, {
      token: maker.token,
      body: { amount: '49999.99' },
    });
    const held = await s.call('POST', `/accounts/${accountNo}/deposit`, {
      token: maker.token,
      body: { amount: '50000.00', memo: 'branch cash' },
    });
    // Assess
    expect(below.status).toBe(200);
    expect(held.status).toBe(202);
    expect(held.body).toEqual({
      approvalId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      action: 'accounts.deposit',
      request: { accountNo, amount: '50000.00', memo: 'branch cash' },
      status: 'pending',
      makerId: maker.id,
      checkerId: null,
      reason: null,
      result: null,
      createdAt: expect.stringMatching(/Z$/),
      decidedAt: null,
    });
    expect(await balanceOf(accountNo)).toBe('50000.99');
    expect(await ledger(accountNo)).toHaveLength(2);
    expect(await eventsOf(held)).toEqual([
      {
        action: 'accounts.deposit',
        outcome: 'success',
        details: expect.objectContaining({ approvalId: held.body.approvalId, approvalStatus: 'pending' }),
      },
    ]);
  });

  it('executes on approval by another teller: 200 approval with the movement, ledger actor the maker, one audit event naming the approval', async () => {
    // Prepare
    const accountNo = await account(customer.id, '10.00');
    const approvalId = await pendingDeposit(accountNo);
    // Act
    const approved = await s.call('POST', `/approvals/${approvalId}/approve`, {
      token: checker.token,
      body: {},
    });
    const again = await s.call('POST', `/approvals/${approvalId}/approve`, { token: admin.token, body: {} });
    const rejectAfter = await s.call('POST', `/approvals/${approvalId}/reject`, {
      token: admin.token,
      body: { reason: 'too late' },
    });
    // Assess
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({
      approvalId,
      status: 'approved',
      makerId: maker.id,
      checkerId: checker.id,
      reason: null,
      decidedAt: expect.stringMatching(/Z$/),
      result: { accountNo, type: 'DEPOSIT', amount: '50000.00', balanceAfter: '50010.00' },
    });
    expectProblem(again, 409, 'CONFLICT');
    expect(again.body.detail).toBe('the approval is already approved');
    expectProblem(rejectAfter, 409, 'CONFLICT');
    expect(await balanceOf(accountNo)).toBe('50010.00');
    expect(await ledger(accountNo)).toEqual([
      { type: 'DEPOSIT', amount: '1000', actor: admin.id },
      { type: 'DEPOSIT', amount: '5000000', actor: maker.id },
    ]);
    expect(await eventsOf(approved)).toEqual([
      {
        action: 'approvals.approve',
        outcome: 'success',
        details: expect.objectContaining({ approvalId, makerId: maker.id }),
      },
    ]);
    expect(await eventsOf(again)).toEqual([
      {
        action: 'approvals.approve',
        outcome: 'failed',
        details: expect.objectContaining({ approvalId, code: 'CONFLICT', status: 409 }),
      },
    ]);
  });

  it('refuses the maker: 403 FORBIDDEN on approve and reject, the approval stays pending', async () => {
    const accountNo = await account(customer.id);
    const approvalId = await pendingDeposit(accountNo);
    const approve = await s.call('POST', `/approvals/${approvalId}/approve`, {
      token: maker.token,
      body: {},
    });
    const reject = await s.call('POST', `/approvals/${approvalId}/reject`, {
      token: maker.token,
      body: { reason: 'mine' },
    });
    expectProblem(approve, 403, 'FORBIDDEN');
    expectProblem(reject, 403, 'FORBIDDEN');
    expect(await eventsOf(approve)).toEqual([
      { action: 'approvals.approve', outcome: 'denied', details: expect.objectContaining({ approvalId }) },
    ]);
    const listed = await s.call('GET', '/approvals?status=pending&limit=100', { token: checker.token });
    expect(listed.body.items?.find((a) => a.approvalId === approvalId)).toMatchObject({ status: 'pending' });
    expect(await balanceOf(accountNo)).toBe('0.00');
  });

  it('rejects with a reason: 200 rejected, nothing moves, listed as rejected, one audit event', async () => {
    const accountNo = await account(customer.id);
    const approvalId = await pendingDeposit(accountNo);
    const rejected = await s.call('POST', `/approvals/${approvalId}/reject`, {
      token: admin.token,
      body: { reason: 'no cash received' },
    });
    const approveAfter = await s.call('POST', `/approvals/${approvalId}/approve`, {
      token: checker.token,
      body: {},
    });
    expect(rejected.status).toBe(200);
    expect(rejected.body).toMatchObject({
      approvalId,
      status: 'rejected',
      checkerId: admin.id,
      reason: 'no cash received',
      result: null,
      decidedAt: expect.stringMatching(/Z$/),
    });
    expectProblem(approveAfter, 409, 'CONFLICT');
    expect(await balanceOf(accountNo)).toBe('0.00');
    expect(await ledger(accountNo)).toEqual([]);
    expect(await eventsOf(rejected)).toEqual([
      {
        action: 'approvals.reject',
        outcome: 'success',
        details: expect.objectContaining({ approvalId, reason: 'no cash received' }),
      },
    ]);
    const listed = await s.call('GET', '/approvals?status=rejected&limit=100', { token: maker.token });
    expect(listed.status).toBe(200);
    expect(listed.body.items?.some((a) => a.approvalId === approvalId)).toBe(true);
    expect(listed.body.items?.every((a) => a.status === 'rejected')).toBe(true);
  });

  it("lets an admin's own movement of any size through at once, and holds a teller's transfer until approved", async () => {
    const from = await account(customer.id);
    const to = await account(customer.id);
    const byAdmin = await s.call('POST', `/accounts/${from}/deposit`, {
      token: admin.token,
      body: { amount: '1000000000.00' },
    });
    expect(byAdmin.status).toBe(200);
    const held = await s.call('POST', '/transfers', {
      token: maker.token,
      body: { fromAccountNo: from, toAccountNo: to, amount: '999999999.99' },
    });
    expect(held.status).toBe(202);
    expect(held.body).toMatchObject({
      action: 'transfers.create',
      request: { fromAccountNo: from, toAccountNo: to, amount: '999999999.99' },
      status: 'pending',
    });
    expect(await balanceOf(to)).toBe('0.00');
    const approved = await s.call('POST', `/approvals/${String(held.body.approvalId)}/approve`, {
      token: admin.token,
      body: {},
    });
    expect(approved.status).toBe(200);
    expect(approved.body.result).toMatchObject({
      fromAccountNo: from,
      toAccountNo: to,
      amount: '999999999.99',
      fromBalanceAfter: '0.01',
    });
    expect(await balanceOf(from)).toBe('0.01');
    expect(await balanceOf(to)).toBe('999999999.99');
    expect((await ledger(to)).map((r) => [r.type, r.amount, r.actor])).toEqual([
      ['TRANSFER_IN', '99999999999', maker.id],
    ]);
  });

  it('refuses an approval as the movement would be (422 funds, 423 lock), keeps it pending, and executes it once fixed', async () => {
    // Prepare: a pending withdrawal larger than the balance.
    const accountNo = await account(customer.id, '100.00');
    const held = await s.call('POST', `/accounts/${accountNo}/withdraw`, {
      token: maker.token,
      body: { amount: '60000.00' },
    });
    expect(held.status).toBe(202);
    const approvalId = String(held.body.approvalId);
    const approve = () =>
      s.call('POST', `/approvals/${approvalId}/approve`, { token: checker.token, body: {} });
    // Act / Assess: funds
    const poor = await approve();
    expectProblem(poor, 422, 'INSUFFICIENT_FUNDS');
    expect(await eventsOf(poor)).toEqual([
      {
        action: 'approvals.approve',
        outcome: 'failed',
        details: expect.objectContaining({ approvalId, code: 'INSUFFICIENT_FUNDS' }),
      },
    ]);
    // Lock
    await s.call('POST', `/accounts/${accountNo}/deposit`, {
      token: admin.token,
      body: { amount: '59900.00' },
    });
    const lock = await s.call('POST', `/accounts/${accountNo}/lock`, {
      token: admin.token,
      body: { reason: 'check' },
    });
    expect(lock.status).toBe(200);
    const locked = await approve();
    expectProblem(locked, 423, 'ACCOUNT_LOCKED');
    const list = await s.call('GET', '/approvals?status=pending&limit=100', { token: admin.token });
    expect(list.body.items?.find((a) => a.approvalId === approvalId)).toMatchObject({ status: 'pending' });
    // Fixed: executes once.
    await s.call('POST', `/accounts/${accountNo}/unlock`, { token: admin.token, body: {} });
    const done = await approve();
    expect(done.status).toBe(200);
    expect(done.body.result).toMatchObject({ type: 'WITHDRAWAL', amount: '60000.00', balanceAfter: '0.00' });
    expect(await balanceOf(accountNo)).toBe('0.00');
    expect((await ledger(accountNo)).filter((r) => r.type === 'WITHDRAWAL')).toEqual([
      { type: 'WITHDRAWAL', amount: '6000000', actor: maker.id },
    ]);
  });

  it('executes an approval exactly once under 10 concurrent approvals: one 200, nine 409, one ledger row', async () => {
    // Prepare: 10 checkers (tellers and admins), none the maker.
    const accountNo = await account(customer.id, '0.01');
    const approvalId = await pendingDeposit(accountNo, '75000.25');
    const checkers = [
      checker,
      admin,
      ...(await Promise.all(Array.from({ length: 8 }, () => user('teller')))),
    ];
    // Act
    const responses = await Promise.all(
      checkers.map((c) => s.call('POST', `/approvals/${approvalId}/approve`, { token: c.token, body: {} })),
    );
    // Assess
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
    for (const r of responses.filter((x) => x.status === 409)) expectProblem(r, 409, 'CONFLICT');
    expect(await balanceOf(accountNo)).toBe('75000.26');
    expect((await ledger(accountNo)).filter((r) => r.amount === '7500025')).toHaveLength(1);
    const audit = await query<{ outcome: string; n: string }>(
      s.db,
      `SELECT outcome, count(*)::text AS n FROM audit_logs
        WHERE action = 'approvals.approve' AND details ->> 'approvalId' = $1 GROUP BY outcome ORDER BY outcome`,
      [approvalId],
    );
    expect(audit).toEqual([
      { outcome: 'failed', n: '9' },
      { outcome: 'success', n: '1' },
    ]);
  });

  it('races an approval against a withdrawal draining the funds: exactly one debit happens, never below zero', async () => {
    for (let round = 0; round < 5; round += 1) {
      // Prepare: 60000.00, a pending teller withdrawal of all of it.
      const accountNo = await account(customer.id, '60000.00');
      const held = await s.call('POST', `/accounts/${accountNo}/withdraw`, {
        token: maker.token,
        body: { amount: '60000.00' },
      });
      expect(held.status).toBe(202);
      // Act: a checker approves while an admin withdraws everything.
      const [approval, drain] = await Promise.all([
        s.call('POST', `/approvals/${String(held.body.approvalId)}/approve`, {
          token: checker.token,
          body: {},
        }),
        s.call('POST', `/accounts/${accountNo}/withdraw`, {
          token: admin.token,
          body: { amount: '60000.00' },
        }),
      ]);
      // Assess: one of them, the other refused for funds; the approval pending if it lost.
      const outcome = [approval.status, drain.status];
      expect([
        [200, 422],
        [422, 200],
      ]).toContainEqual(outcome);
      if (approval.status === 422) {
        expectProblem(approval, 422, 'INSUFFICIENT_FUNDS');
        const list = await s.call('GET', '/approvals?status=pending&limit=100', { token: admin.token });
        expect(list.body.items?.some((a) => a.approvalId === held.body.approvalId)).toBe(true);
      } else {
        expectProblem(drain, 422, 'INSUFFICIENT_FUNDS');
      }
      expect(await balanceOf(accountNo)).toBe('0.00');
      expect((await ledger(accountNo)).filter((r) => r.type === 'WITHDRAWAL')).toHaveLength(1);
    }
  });

  it('expires a pending approval after 24 hours: listed as expired, approve and reject 409 CONFLICT, nothing moves', async () => {
    // Prepare: two pending approvals, one just under 24 h old, one just over (as the owner).
    const accountNo = await account(customer.id);
    const fresh = await pendingDeposit(accountNo);
    const old = await pendingDeposit(accountNo);
    await query(
      s.db,
      "UPDATE approvals SET created_at = now() - interval '23 hours 59 minutes' WHERE id = $1",
      [fresh],
    );
    await query(
      s.db,
      "UPDATE approvals SET created_at = now() - interval '24 hours 1 second' WHERE id = $1",
      [old],
    );
    // Act
    const expired = await s.call('GET', '/approvals?status=expired&limit=100', { token: checker.token });
    const pending = await s.call('GET', '/approvals?status=pending&limit=100', { token: checker.token });
    const approveOld = await s.call('POST', `/approvals/${old}/approve`, { token: checker.token, body: {} });
    const rejectOld = await s.call('POST', `/approvals/${old}/reject`, {
      token: checker.token,
      body: { reason: 'late' },
    });
    const approveFresh = await s.call('POST', `/approvals/${fresh}/approve`, {
      token: checker.token,
      body: {},
    });
    // Assess
    expect(expired.body.items?.find((a) => a.approvalId === old)).toMatchObject({ status: 'expired' });
    expect(expired.body.items?.some((a) => a.approvalId === fresh)).toBe(false);
    expect(pending.body.items?.some((a) => a.approvalId === old)).toBe(false);
    expectProblem(approveOld, 409, 'CONFLICT');
    expect(approveOld.body.detail).toBe('the approval has expired');
    expectProblem(rejectOld, 409, 'CONFLICT');
    expect(approveFresh.status).toBe(200);
    expect(await balanceOf(accountNo)).toBe('50000.00');
    expect(await ledger(accountNo)).toHaveLength(1);
  });

  it('replays the 202 for the same Idempotency-Key: same body, Idempotent-Replayed, one approval', async () => {
    const accountNo = await account(customer.id);
    const key = unique('approval-key');
    const send = () =>
      s.call('POST', `/accounts/${accountNo}/deposit`, {
        token: maker.token,
        body: { amount: '50000.00' },
        headers: { 'idempotency-key': key },
      });
    const first = await send();
    const replay = await send();
    expect(first.status).toBe(202);
    expect(replay.status).toBe(202);
    expect(replay.body).toEqual(first.body);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const rows = await query<{ n: string }>(
      s.db,
      "SELECT count(*)::text AS n FROM approvals WHERE request ->> 'accountNo' = $1",
      [accountNo],
    );
    expect(rows).toEqual([{ n: '1' }]);
  });

  it('lists newest first with pages, and answers bad input 400 and an unknown approval 404, each with one audit event', async () => {
    const accountNo = await account(customer.id);
    const ids = [
      await pendingDeposit(accountNo),
      await pendingDeposit(accountNo),
      await pendingDeposit(accountNo),
    ];
    const page1 = await s.call('GET', '/approvals?status=pending&limit=2', { token: admin.token });
    expect(page1.status).toBe(200);
    expect(page1.body.items?.map((a) => a.approvalId)).toEqual([ids[2], ids[1]]);
    expect(typeof page1.body.nextCursor).toBe('string');
    const page2 = await s.call(
      'GET',
      `/approvals?status=pending&limit=2&cursor=${String(page1.body.nextCursor)}`,
      {
        token: admin.token,
      },
    );
    expect(page2.body.items?.[0]?.approvalId).toBe(ids[0]);
    expect(await eventsOf(page1)).toEqual([
      { action: 'approvals.list', outcome: 'success', details: { status: 'pending', count: 2 } },
    ]);

    const badStatus = await s.call('GET', '/approvals?status=open', { token: admin.token });
    const badId = await s.call('POST', '/approvals/not-a-uuid/approve', { token: admin.token, body: {} });
    const extra = await s.call('POST', `/approvals/${ids[0]}/approve`, {
      token: admin.token,
      body: { force: true },
    });
    const noReason = await s.call('POST', `/approvals/${ids[0]}/reject`, { token: admin.token, body: {} });
    const unknown = await s.call(
      'POST',
      `/approvals/${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}/approve`,
      {
        token: admin.token,
        body: {},
      },
    );
    for (const r of [badStatus, badId, extra, noReason]) expectProblem(r, 400, 'VALIDATION_FAILED');
    expectProblem(unknown, 404, 'NOT_FOUND');
    for (const r of [badStatus, badId, extra, noReason, unknown]) expect(await eventsOf(r)).toHaveLength(1);
    const customerList = await s.call('GET', '/approvals', { token: customer.token });
    expectProblem(customerList, 403, 'FORBIDDEN');
    expect(await balanceOf(accountNo)).toBe('0.00');
  });
});

describe('settings read by the database', () => {
  it('applies the values in bank_settings (written by the owner), not values of the caller', async () => {
    // Prepare: lower thresholds, as `npm start` with other variables would write them.
    const set = (name: string, minor: number) =>
      query(s.db, 'SELECT bank_set_setting($1, $2::bigint)', [name, String(minor)]);
    const accountNo = await account(customer.id, '500.00');
    await set('BANK_DAILY_DEBIT_LIMIT', 10000);
    await set('BANK_APPROVAL_AMOUNT', 100000);
    try {
      // Act
      const over = await s.call('POST', `/accounts/${accountNo}/withdraw`, {
        token: customer.token,
        body: { amount: '100.01', pin: PIN },
      });
      const held = await s.call('POST', `/accounts/${accountNo}/deposit`, {
        token: maker.token,
        body: { amount: '1000.00' },
      });
      const below = await s.call('POST', `/accounts/${accountNo}/deposit`, {
        token: maker.token,
        body: { amount: '999.99' },
      });
      // Assess
      expectProblem(over, 422, 'LIMIT_EXCEEDED');
      expect(over.body).toMatchObject({ limit: '100.00', remaining: '100.00' });
      expect(held.status).toBe(202);
      expect(below.status).toBe(200);
      expect(await balanceOf(accountNo)).toBe('1499.99');
    } finally {
      await set('BANK_DAILY_DEBIT_LIMIT', 500000);
      await set('BANK_APPROVAL_AMOUNT', 5000000);
    }
  });
});

describe('GET /openapi.json for limits and approvals', () => {
  it('documents the 202 approval, LIMIT_EXCEEDED with limit and remaining, and the approval routes with their codes', async () => {
    const res = await s.call('GET', '/openapi.json');
    expect(res.status).toBe(200);
    type Operation = {
      parameters: Array<{ name: string; in: string; schema: Record<string, unknown> }>;
      responses: Record<string, { 'x-codes'?: string[]; content?: Record<string, { schema: unknown }> }>;
    };
    const paths = res.body.paths as Record<string, Record<string, Operation>>;
    const op = (path: string, method: string): Operation => {
      const found = paths[path]?.[method];
      if (!found) throw new Error(`no ${method} ${path}`);
      return found;
    };
    for (const [path, success] of [
      ['/accounts/{accountNo}/deposit', '200'],
      ['/accounts/{accountNo}/withdraw', '200'],
      ['/transfers', '201'],
    ] as const) {
      const responses = op(path, 'post').responses;
      expect(Object.keys(responses)).toContain(success);
      // The approval is a named schema: follow its $ref into components.schemas.
      const ref = responses['202']?.content?.['application/json']?.schema as { $ref?: string } | undefined;
      const named = ref?.$ref?.replace('#/components/schemas/', '') ?? '';
      const components = (res.body.components as { schemas: Record<string, unknown> }).schemas;
      const accepted = JSON.stringify(components[named]);
      for (const member of ['approvalId', 'makerId', 'checkerId', 'decidedAt', 'expired'])
        expect(accepted, path).toContain(member);
      expect(responses['422']?.['x-codes']).toEqual(
        expect.arrayContaining(['INSUFFICIENT_FUNDS', 'IDEMPOTENCY_KEY_REUSED', 'LIMIT_EXCEEDED']),
      );
    }
    const approve = op('/approvals/{approvalId}/approve', 'post').responses;
    expect(approve['200']).toBeDefined();
    expect(approve['403']?.['x-codes']).toEqual(['FORBIDDEN']);
    expect(approve['409']?.['x-codes']).toEqual(['CONFLICT']);
    expect(approve['422']?.['x-codes']).toEqual(['INSUFFICIENT_FUNDS']);
    expect(approve['423']?.['x-codes']).toEqual(['ACCOUNT_LOCKED']);
    expect(op('/approvals/{approvalId}/reject', 'post').responses['409']?.['x-codes']).toEqual(['CONFLICT']);
    const status = op('/approvals', 'get').parameters.find((p) => p.name === 'status');
    expect(status).toMatchObject({
      in: 'query',
      schema: { enum: ['pending', 'approved', 'rejected', 'expired'] },
    });
    expect((res.body['x-error-codes'] as Record<string, number>).LIMIT_EXCEEDED).toBe(422);
    expect(res.text).toContain('"remaining"');
  });
});
