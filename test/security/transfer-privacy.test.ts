import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { query, startTestStack, type TestStack } from '../helpers/stack';

/*
 * GET /transfers/{transferId} shows a transfer to a customer who owns either side. The payer's
 * balance after it (`fromBalanceAfter`) is the payer's business: the payee, who owns only the
 * receiving account, gets null, through the API and when calling the SQL function directly with
 * the bank_customer password and their own session. The payer, tellers and admins see the figure.
 */
const PASSWORD = 'privacy-password-1';
const suffix = randomBytes(3).toString('hex');
const names = { payer: `payer-${suffix}`, payee: `payee-${suffix}`, teller: `teller-${suffix}` };

let stack: TestStack;
const tokens = { payer: '', payee: '', teller: '', admin: '' };
let payerAccount = '';
let payerSavings = '';
let payeeAccount = '';
/** payer → payee, 30.00 of the payer's 100.00: the payer is left with 70.00, the payee has 30.00. */
let transferId = '';
/** payer → payer's own savings, 5.00: the payer is left with 65.00. */
let ownTransferId = '';

function sidOf(token: string): string {
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
    sid?: unknown;
  };
  if (typeof payload.sid !== 'string') throw new Error('token without sid');
  return payload.sid;
}

async function open(ownerId: string, name: string): Promise<string> {
  const response = await stack.call('POST', '/accounts', {
    token: tokens.teller,
    body: { ownerId, name, pin: '4826' },
  });
  expect(response.status).toBe(201);
  return String(response.body.accountNo);
}

async function transfer(fromAccountNo: string, toAccountNo: string, amount: string): Promise<string> {
  const response = await stack.call('POST', '/transfers', {
    token: tokens.payer,
    body: { fromAccountNo, toAccountNo, amount, pin: '4826' },
  });
  expect(response.status).toBe(201);
  return String(response.body.transferId);
}

/** bank_transfer_get called straight, as `role`, with the session of `token`; extra ctx members are forgeries. */
async function getDirect(
  role: 'bank_customer' | 'bank_teller',
  token: string,
  id: string,
  forged: Record<string, unknown> = {},
): Promise<{ status: number; body?: Record<string, unknown> }> {
  const client = stack.db.client(role);
  await client.connect();
  try {
    const ctx = JSON.stringify({
      requestId: `privacy-${randomBytes(4).toString('hex')}`,
      ip: '198.51.100.7',
      userAgent: 'psql',
      ...forged,
      sid: sidOf(token),
    });
    const result = await client.query<{ v: { status: number; body?: Record<string, unknown> } }>(
      'SELECT bank_transfer_get($1::jsonb, $2::uuid) AS v',
      [ctx, id],
    );
    const row = result.rows[0];
    if (!row) throw new Error('no row');
    return row.v;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  stack = await startTestStack();
  const payerId = await stack.createUser(names.payer, PASSWORD, 'customer');
  const payeeId = await stack.createUser(names.payee, PASSWORD, 'customer');
  await stack.createUser(names.teller, PASSWORD, 'teller');
  await stack.createUser(`admin-${suffix}`, PASSWORD, 'admin');
  tokens.payer = await stack.login(names.payer, PASSWORD);
  tokens.payee = await stack.login(names.payee, PASSWORD);
  tokens.teller = await stack.login(names.teller, PASSWORD);
  tokens.admin = await stack.login(`admin-${suffix}`, PASSWORD);
  payerAccount = await open(payerId, 'Everyday');
  payerSavings = await open(payerId, 'Savings');
  payeeAccount = await open(payeeId, 'Main');
  const deposit = await stack.call('POST', `/accounts/${payerAccount}/deposit`, {
    token: tokens.teller,
    body: { amount: '100.00' },
  });
  expect(deposit.status).toBe(200);
  transferId = await transfer(payerAccount, payeeAccount, '30.00');
  ownTransferId = await transfer(payerAccount, payerSavings, '5.00');
});

afterAll(async () => {
  await stack?.close();
});

describe("the payee does not see the payer's balance", () => {
  it('GET /transfers/{transferId} as the payee: the transfer, fromBalanceAfter null', async () => {
    const response = await stack.call('GET', `/transfers/${transferId}`, { token: tokens.payee });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      transferId,
      fromAccountNo: payerAccount,
      toAccountNo: payeeAccount,
      amount: '30.00',
      fromBalanceAfter: null,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    // Not anywhere else in the answer either.
    expect(response.text).not.toContain('70.00');
    // Its audit event names the transfer and nothing of the balance.
    const events = await query(
      stack.db,
      'SELECT actor, action, outcome, details FROM audit_logs WHERE request_id = $1',
      [response.headers.get('x-request-id')],
    );
    expect(events).toEqual([
      { actor: names.payee, action: 'transfers.get', outcome: 'success', details: { transferId } },
    ]);
  });

  it('the payer, a teller and an admin see the figure', async () => {
    for (const token of [tokens.payer, tokens.teller, tokens.admin]) {
      const response = await stack.call('GET', `/transfers/${transferId}`, { token });
      expect(response.status).toBe(200);
      expect(response.body.fromBalanceAfter).toBe('70.00');
    }
    // POST /transfers answers the payer, always with the figure.
    const own = await stack.call('GET', `/transfers/${ownTransferId}`, { token: tokens.payer });
    expect(own.body).toMatchObject({ toAccountNo: payerSavings, fromBalanceAfter: '65.00' });
  });

  it("the SQL function called directly with the bank_customer password and the payee's session: null", async () => {
    const direct = await getDirect('bank_customer', tokens.payee, transferId);
    expect(direct.status).toBe(200);
    expect(direct.body?.fromBalanceAfter).toBeNull();
    expect(JSON.stringify(direct)).not.toContain('70.00');
    // Claiming to be the payer in the context changes nothing: the session says who calls.
    const payerId = (await stack.call('GET', '/me', { token: tokens.payer })).body.id;
    const forged = await getDirect('bank_customer', tokens.payee, transferId, {
      actorId: payerId,
      actor: names.payer,
      userId: payerId,
    });
    expect(forged.status).toBe(200);
    expect(forged.body?.fromBalanceAfter).toBeNull();
    // Nor does the teller password with the payee's customer session: refused outright.
    await expect(getDirect('bank_teller', tokens.payee, transferId)).rejects.toThrow(/bank:UNAUTHENTICATED/);
  });

  it("the SQL function with the payer's session: the figure", async () => {
    const direct = await getDirect('bank_customer', tokens.payer, transferId);
    expect(direct.status).toBe(200);
    expect(direct.body?.fromBalanceAfter).toBe('70.00');
  });

  it("the payee's other views of the transfer hold no trace of the payer's balance either", async () => {
    const history = await stack.call('GET', `/accounts/${payeeAccount}/history`, { token: tokens.payee });
    expect(history.status).toBe(200);
    expect(history.body.items).toEqual([
      expect.objectContaining({
        type: 'TRANSFER_IN',
        amount: '30.00',
        balanceAfter: '30.00',
        counterpartyAccountNo: payerAccount,
        transferId,
      }),
    ]);
    expect(history.text).not.toContain('70.00');
    const payerSide = await stack.call('GET', `/accounts/${payerAccount}`, { token: tokens.payee });
    expect(payerSide.status).toBe(404);
  });
});
