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

  it('makes a new key when the body changes: a one-time code added after STEP_UP_REQUIRED', () => {
    const k = keys();
    const body = { amount: '1200.00', pin: '4826' };
    const first = k.keyFor('/accounts/{accountNo}/withdraw', body);
    const withCode = k.keyFor('/accounts/{accountNo}/withdraw', { ...body, otp: '492039' });
    expect(withCode).not.toBe(first);
    // A fresh code (the first one was wrong or spent) is another body again.
    const nextCode = k.keyFor('/accounts/{accountNo}/withdraw', { ...body, otp: '118204' });
    expect(new Set([first, withCode, nextCode]).size).toBe(3);
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
