import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiResponse, query, startTestStack, type TestStack } from '../helpers/stack';

/*
 * Money under concurrency, through the whole local request path (gateway → handlers → Data API →
 * PostgreSQL): many clients moving money among a few accounts at once must conserve every cent,
 * keep each balance equal to its ledger, and never deadlock (rows are locked in id order).
 */

const PASSWORD = 'concurrency-password-1';

/** "12.34" → 1234n; the API's money strings, exactly. */
function cents(text: unknown): bigint {
  if (typeof text !== 'string') throw new Error(`not a money string: ${String(text)}`);
  const match = /^([0-9]+)\.([0-9]{2})$/.exec(text);
  if (!match?.[1] || !match[2]) throw new Error(`not a money string: ${text}`);
  return BigInt(match[1]) * 100n + BigInt(match[2]);
}

function money(minor: bigint): string {
  return `${minor / 100n}.${(minor % 100n).toString().padStart(2, '0')}`;
}

/** Deterministic PRNG (mulberry32) so a failing run can be replayed from its printed seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const unique = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

interface Entry {
  entryId: string;
  type: 'DEPOSIT' | 'WITHDRAWAL' | 'TRANSFER_IN' | 'TRANSFER_OUT';
  amount: string;
  balanceAfter: string;
  transferId: string | null;
  counterpartyAccountNo: string | null;
}

let stack: TestStack;
let tellerToken: string;
let deadlocksAtStart: number;
let servicesClosed = false;

async function deadlocks(): Promise<number> {
  const rows = await query<{ deadlocks: string }>(
    stack.db,
    'SELECT pg_stat_clear_snapshot(), deadlocks::text AS deadlocks FROM pg_stat_database WHERE datname = $1',
    [stack.db.name],
  );
  return Number(rows[0]?.deadlocks ?? Number.NaN);
}

async function openAccount(ownerId: string, pin: string): Promise<string> {
  const response = await stack.call('POST', '/accounts', {
    token: tellerToken,
    body: { ownerId, name: 'Concurrency account', pin },
  });
  expect(response.status).toBe(201);
  const accountNo = response.body.accountNo;
  if (typeof accountNo !== 'string') throw new Error('no accountNo');
  return accountNo;
}

async function deposit(accountNo: string, amount: string): Promise<void> {
  const response = await stack.call('POST', `/accounts/${accountNo}/deposit`, {
    token: tellerToken,
    body: { amount },
  });
  expect(response.status).toBe(200);
}

async function balanceOf(accountNo: string): Promise<bigint> {
  const response = await stack.call('GET', `/accounts/${accountNo}`, { token: tellerToken });
  expect(response.status).toBe(200);
  return cents(response.body.balance);
}

/** Every ledger entry of an account through the API, following the cursor (newest first). */
async function historyOf(accountNo: string): Promise<Entry[]> {
  const entries: Entry[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const path = `/accounts/${accountNo}/history?limit=100${cursor ? `&cursor=${cursor}` : ''}`;
    const response = await stack.call('GET', path, { token: tellerToken });
    expect(response.status).toBe(200);
    entries.push(...((response.body.items ?? []) as unknown as Entry[]));
    const next = response.body.nextCursor;
    if (next === null) return entries;
    if (typeof next !== 'string') throw new Error('nextCursor is neither a string nor null');
    cursor = next;
  }
  throw new Error('history did not end within 100 pages');
}

function signed(entry: Entry): bigint {
  const amount = cents(entry.amount);
  return entry.type === 'DEPOSIT' || entry.type === 'TRANSFER_IN' ? amount : -amount;
}

/**
 * The ledger proves the balance: through the API the signed entries sum to the balance, and in
 * the table each entry's balance_after is the previous one plus its signed amount (seq order).
 */
async function assertLedgerMatches(accountNo: string): Promise<Entry[]> {
  const balance = await balanceOf(accountNo);
  const entries = await historyOf(accountNo);
  expect(entries.reduce((sum, e) => sum + signed(e), 0n)).toBe(balance);
  expect(balance >= 0n).toBe(true);
  const newest = entries[0];
  expect(newest && cents(newest.balanceAfter)).toBe(balance);

  const rows = await query<{ type: string; amount: string; after: string }>(
    stack.db,
    `SELECT h.type, h.amount_minor::text AS amount, h.balance_after_minor::text AS after
       FROM history h JOIN accounts a ON a.id = h.account_id
      WHERE a.account_no = $1 ORDER BY h.seq`,
    [accountNo],
  );
  expect(rows).toHaveLength(entries.length);
  let running = 0n;
  for (const row of rows) {
    const amount = BigInt(row.amount);
    running += row.type === 'DEPOSIT' || row.type === 'TRANSFER_IN' ? amount : -amount;
    expect(running >= 0n).toBe(true);
    expect(BigInt(row.after)).toBe(running);
  }
  expect(running).toBe(balance);
  return entries;
}

function expectNoServerError(responses: readonly ApiResponse[]): void {
  const bad = responses.filter((r) => r.status >= 500);
  expect(bad.map((r) => `${r.status} ${r.text}`)).toEqual([]);
  for (const r of responses) expect(r.text).not.toMatch(/deadlock|40P01/i);
}

beforeAll(async () => {
  stack = await startTestStack();
  deadlocksAtStart = await deadlocks();
  const teller = unique('teller');
  await stack.createUser(teller, PASSWORD, 'teller');
  tellerToken = await stack.login(teller, PASSWORD);
});

afterAll(async () => {
  if (servicesClosed) await stack?.db.drop();
  else await stack?.close();
});

describe('concurrent transfers', () => {
  it('conserves every cent across 300+ random transfers from 24 concurrent clients', async () => {
    // Prepare: 6 accounts of 3 customers, 1000.00 each by teller deposits; 22 teller clients
    // and 2 customer clients (each on its own account, with its PIN, one request at a time).
    const seed = Date.now() % 2_147_483_647;
    const random = prng(seed);
    const pins = ['4826', '5917', '3068', '7395', '2640', '8152'];
    const customerIds: string[] = [];
    const customerTokens: string[] = [];
    for (let i = 0; i < 3; i++) {
      const username = unique(`cust${i}`);
      customerIds.push(await stack.createUser(username, PASSWORD, 'customer'));
      customerTokens.push(await stack.login(username, PASSWORD));
    }
    const accounts: string[] = [];
    for (let i = 0; i < 6; i++) {
      const owner = customerIds[i % 3];
      const pin = pins[i];
      if (!owner || !pin) throw new Error('fixture');
      accounts.push(await openAccount(owner, pin));
    }
    for (const accountNo of accounts) await deposit(accountNo, '1000.00');
    const total = 6n * 100_000n;
    const pick = (): number => Math.floor(random() * accounts.length);
    const amount = (): string => money(BigInt(1 + Math.floor(random() * 50_000))); // 0.01..500.00

    interface Planned {
      token: string;
      body: Record<string, string>;
    }
    const plans: Planned[][] = [];
    for (let client = 0; client < 22; client++) {
      const plan: Planned[] = [];
      for (let k = 0; k < 14; k++) {
        const from = pick();
        let to = pick();
        while (to === from) to = pick();
        const fromAccountNo = accounts[from];
        const toAccountNo = accounts[to];
        if (!fromAccountNo || !toAccountNo) throw new Error('fixture');
        plan.push({ token: tellerToken, body: { fromAccountNo, toAccountNo, amount: amount() } });
      }
      plans.push(plan);
    }
    // Customers 0 and 1 own accounts 0 and 1 (i % 3): they transfer from those with the PIN.
    for (let c = 0; c < 2; c++) {
      const token = customerTokens[c];
      const fromAccountNo = accounts[c];
      const pin = pins[c];
      if (!token || !fromAccountNo || !pin) throw new Error('fixture');
      const plan: Planned[] = [];
      for (let k = 0; k < 10; k++) {
        let to = pick();
        while (to === c) to = pick();
        const toAccountNo = accounts[to];
        if (!toAccountNo) throw new Error('fixture');
        plan.push({ token, body: { fromAccountNo, toAccountNo, amount: amount(), pin } });
      }
      plans.push(plan);
    }
    const planned = plans.reduce((n, p) => n + p.length, 0);
    expect(plans).toHaveLength(24);
    expect(planned).toBeGreaterThanOrEqual(300);
    const auditBefore = await query<{ n: string }>(
      stack.db,
      "SELECT count(*)::text AS n FROM audit_logs WHERE action = 'transfers.create'",
    );

    // Act: every client runs its plan sequentially; the 24 clients run at once.
    const results: { body: Record<string, string>; response: ApiResponse }[] = [];
    const started = performance.now();
    await Promise.all(
      plans.map(async (plan) => {
        for (const step of plan) {
          const response = await stack.call('POST', '/transfers', { token: step.token, body: step.body });
          results.push({ body: step.body, response });
        }
      }),
    );
    const wallSeconds = (performance.now() - started) / 1000;

    // Assess: only 201 or 422 INSUFFICIENT_FUNDS, nothing else.
    const responses = results.map((r) => r.response);
    expectNoServerError(responses);
    const created = results.filter((r) => r.response.status === 201);
    const refused = results.filter((r) => r.response.status === 422);
    expect(created.length + refused.length).toBe(planned);
    expect(created.length).toBeGreaterThan(0);
    for (const r of refused) expect(r.response.body.code).toBe('INSUFFICIENT_FUNDS');
    for (const r of created) {
      expect(r.response.body.fromAccountNo).toBe(r.body.fromAccountNo);
      expect(r.response.body.toAccountNo).toBe(r.body.toAccountNo);
      expect(r.response.body.amount).toBe(r.body.amount);
    }
    console.log(
      `[concurrency] seed=${seed} transfers=${planned} 201=${created.length} 422=${refused.length} ` +
        `wall=${wallSeconds.toFixed(2)}s → ${(created.length / wallSeconds).toFixed(1)} transfers/s (201 / wall s)`,
    );

    // Conservation: the sum of balances is what was deposited, to the cent; none negative.
    const balances = await Promise.all(accounts.map(balanceOf));
    expect(balances.reduce((a, b) => a + b, 0n)).toBe(total);
    for (const b of balances) expect(b >= 0n).toBe(true);
    const sqlTotal = await query<{ total: string }>(
      stack.db,
      'SELECT sum(balance_minor)::text AS total FROM accounts WHERE account_no = ANY($1)',
      [accounts],
    );
    expect(sqlTotal[0]?.total).toBe(total.toString());

    // Ledger: each balance is its entries' sum; each 201 wrote exactly one OUT and one IN entry
    // of its amount, and no refused transfer wrote anything.
    const entries = (await Promise.all(accounts.map(assertLedgerMatches))).flat();
    const transferEntries = entries.filter((e) => e.transferId !== null);
    expect(transferEntries).toHaveLength(2 * created.length);
    const byTransfer = new Map<string, Entry[]>();
    for (const e of transferEntries) {
      const id = e.transferId ?? '';
      byTransfer.set(id, [...(byTransfer.get(id) ?? []), e]);
    }
    expect(new Set(byTransfer.keys())).toEqual(new Set(created.map((r) => r.response.body.transferId)));
    for (const r of created) {
      const pair = byTransfer.get(String(r.response.body.transferId)) ?? [];
      expect(pair.map((e) => e.type).sort()).toEqual(['TRANSFER_IN', 'TRANSFER_OUT']);
      for (const e of pair) expect(e.amount).toBe(r.body.amount);
      const out = pair.find((e) => e.type === 'TRANSFER_OUT');
      expect(out?.counterpartyAccountNo).toBe(r.body.toAccountNo);
      expect(out?.balanceAfter).toBe(r.response.body.fromBalanceAfter);
    }
    expect(entries.filter((e) => e.type === 'DEPOSIT')).toHaveLength(6);

    // One audit event per request: 201s succeeded, 422s failed.
    const audit = await query<{ outcome: string; n: string }>(
      stack.db,
      "SELECT outcome, count(*)::text AS n FROM audit_logs WHERE action = 'transfers.create' GROUP BY outcome",
    );
    const byOutcome = Object.fromEntries(audit.map((a) => [a.outcome, Number(a.n)]));
    expect(Number(auditBefore[0]?.n)).toBe(0);
    expect(byOutcome).toEqual({
      success: created.length,
      ...(refused.length > 0 ? { failed: refused.length } : {}),
    });

    // The customers' correct PINs never accumulated: their accounts are unlocked with 0 attempts.
    const pinState = await query<{ failed_attempts: number; is_locked: boolean }>(
      stack.db,
      'SELECT failed_attempts, is_locked FROM accounts WHERE account_no = ANY($1)',
      [accounts],
    );
    expect(pinState).toHaveLength(6);
    for (const row of pinState) expect(row).toEqual({ failed_attempts: 0, is_locked: false });
  }, 180_000);

  it('runs A→B and B→A at the same time without a deadlock, all 201', async () => {
    // Prepare: two accounts of 100.00. 100 transfers each way of 0.01..0.50: even if one
    // direction ran entirely first it would take at most 50.00, so every transfer must succeed.
    const owner = await stack.createUser(unique('pair'), PASSWORD, 'customer');
    const a = await openAccount(owner, '4826');
    const b = await openAccount(owner, '5917');
    await deposit(a, '100.00');
    await deposit(b, '100.00');
    const random = prng(20_240_601);
    const ab = Array.from({ length: 100 }, () => BigInt(1 + Math.floor(random() * 50)));
    const ba = Array.from({ length: 100 }, () => BigInt(1 + Math.floor(random() * 50)));
    const interleaved = ab.flatMap((amount, i) => [
      { fromAccountNo: a, toAccountNo: b, amount: money(amount) },
      { fromAccountNo: b, toAccountNo: a, amount: money(ba[i] ?? 0n) },
    ]);

    // Act: all 200 at once.
    const responses = await Promise.all(
      interleaved.map((body) => stack.call('POST', '/transfers', { token: tellerToken, body })),
    );

    // Assess
    expectNoServerError(responses);
    expect(responses.map((r) => r.status)).toEqual(interleaved.map(() => 201));
    const sumAb = ab.reduce((x, y) => x + y, 0n);
    const sumBa = ba.reduce((x, y) => x + y, 0n);
    expect(await balanceOf(a)).toBe(10_000n - sumAb + sumBa);
    expect(await balanceOf(b)).toBe(10_000n - sumBa + sumAb);
    const entriesA = await assertLedgerMatches(a);
    const entriesB = await assertLedgerMatches(b);
    expect(entriesA).toHaveLength(201);
    expect(entriesB).toHaveLength(201);
  }, 120_000);

  it('left no deadlock in pg_stat_database for this test database', async () => {
    // Prepare: end the Data API's pooled connections so their backends flush their statistics.
    servicesClosed = true;
    await stack.services.close();
    for (let i = 0; i < 100; i++) {
      const rows = await query<{ n: string }>(
        stack.db,
        'SELECT count(*)::text AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [stack.db.name],
      );
      if (rows[0]?.n === '0') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Act
    const after = await deadlocks();
    // Assess
    expect(Number.isFinite(deadlocksAtStart)).toBe(true);
    expect(after).toBe(deadlocksAtStart);
  });
});
