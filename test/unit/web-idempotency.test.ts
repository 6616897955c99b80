import { describe, expect, it } from 'vitest';
import { IdempotencyKeys } from '../../web/src/idempotency';

describe("the console's Idempotency-Keys", () => {
  let n = 0;
  const keys = () => new IdempotencyKeys(() => `key-${++n}`);

  it('reuses the key for the same route and body (a double click or a retry replays)', () => {
    const k = keys();
    const body = {
      fromAccountNo: '400000000002',
      toAccountNo: '400000000010',
      amount: '1200.00',
      pin: '4826',
    };
    const first = k.keyFor('/transfers', body);
    expect(k.keyFor('/transfers', { ...body })).toBe(first);
    expect(k.keyFor('/transfers', body)).toBe(first);
  });

  it('keeps the key when only the one-time code changes: the API leaves the code out of a request', () => {
    // The API binds a key to route, accounts, amount, memo and PIN, not to the code: a code is good
    // once, so a retry after a lost answer needs a fresh one, and with the same key it replays the
    // movement that went through. A new key there would move the money a second time.
    const k = keys();
    const body = {
      fromAccountNo: '400000000002',
      toAccountNo: '400000000010',
      amount: '1200.00',
      pin: '4826',
    };
    const refused = k.keyFor('/transfers', body);
    const withCode = k.keyFor('/transfers', { ...body, otp: '492039' });
    const retriedWithFreshCode = k.keyFor('/transfers', { ...body, otp: '118204' });
    expect(withCode).toBe(refused);
    expect(retriedWithFreshCode).toBe(refused);
  });

  it('makes a new key when anything but the code changes', () => {
    const k = keys();
    const body = { amount: '1200.00', pin: '4826', otp: '492039' };
    const first = k.keyFor('/accounts/{accountNo}/withdraw', body);
    const otherAmount = k.keyFor('/accounts/{accountNo}/withdraw', { ...body, amount: '1300.00' });
    const otherPin = k.keyFor('/accounts/{accountNo}/withdraw', { ...body, amount: '1300.00', pin: '5937' });
    const withMemo = k.keyFor('/accounts/{accountNo}/withdraw', {
      ...body,
      amount: '1300.00',
      pin: '5937',
      memo: 'x',
    });
    expect(new Set([first, otherAmount, otherPin, withMemo]).size).toBe(4);
  });

  it('makes a new key for another route with the same body, and after a movement went through', () => {
    const k = keys();
    const body = { amount: '10.00' };
    const deposit = k.keyFor('deposit 400000000002', body);
    const withdraw = k.keyFor('withdraw 400000000002', body);
    expect(withdraw).not.toBe(deposit);
    k.settled();
    expect(k.keyFor('withdraw 400000000002', body)).not.toBe(withdraw);
  });

  it('makes UUIDs by default', () => {
    expect(new IdempotencyKeys().keyFor('/transfers', {})).toMatch(/^[0-9a-f-]{36}$/);
  });
});
