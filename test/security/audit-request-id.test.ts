import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../helpers/db';
import { totpCode } from '../helpers/totp';

/*
 * audit_logs.request_id is unique (migration 0012), and the request id is whatever the caller of
 * a SQL function puts in its context. The attacker here holds the bank_customer password and a
 * customer's session id (the `sid` claim of a stolen access token), but not the account's PIN nor
 * the authenticator. They first plant an event under a request id (bank_audit_record needs no
 * session), then send guesses under that same request id: each refusal's audit insert meets the
 * planted event. A refusal must still count (wrong PINs lock the account at the third, wrong codes
 * block the codes at the fifth) and still be recorded under the session's user; were its
 * transaction rolled back by the duplicate, every guess would be free and unrecorded, and the
 * error would even say whether the guess was right (a right PIN fails later, at the success event).
 */

type Role = 'bank_customer' | 'bank_teller' | 'bank_auth' | 'superuser';

let db: TestDatabase;
const password = 'request-id-password';
const pin = '4826';
const wrongPin = '1357';
const suffix = randomBytes(3).toString('hex');
const names = { customer: `rid-customer-${suffix}`, teller: `rid-teller-${suffix}` };
const ids = { customer: '', teller: '' };
const sids = { customer: '', teller: '' };
/** 5,000.00 each: one for the PIN attack, one for the code attack. */
let pinAccount = '';
let codeAccount = '';
let secret = '';

async function as<T>(role: Role, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = db.client(role);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

interface Outcome {
  readonly value?: unknown;
  readonly error?: { readonly code?: string; readonly message?: string };
}

async function attempt(role: Role, sql: string, params: unknown[] = []): Promise<Outcome> {
  try {
    const rows = await as(role, (c) => c.query<{ v: unknown }>(sql, params));
    return { value: rows.rows[0]?.v };
  } catch (e) {
    const error = e as { code?: string; message?: string };
    return { error: { code: error.code, message: error.message } };
  }
}

async function value(role: Role, sql: string, params: unknown[] = []): Promise<unknown> {
  const outcome = await attempt(role, sql, params);
  expect(outcome.error, sql).toBeUndefined();
  return outcome.value;
}

const ctxOf = (fields: Record<string, unknown>): string =>
  JSON.stringify({
    requestId: `rid-${randomBytes(6).toString('hex')}`,
    ip: '203.0.113.7',
    userAgent: 'attacker',
    ...fields,
  });

async function login(username: string): Promise<string> {
  const begin = (await value('bank_auth', 'SELECT bank_login_begin($1::jsonb, $2, 10, 50, 900) AS v', [
    ctxOf({}),
    username,
  ])) as { attemptId: string; passwordHash: string };
  const finish = (await value('bank_auth', 'SELECT bank_login_finish($1::jsonb, $2::uuid, $3, NULL) AS v', [
    ctxOf({}),
    begin.attemptId,
    await bcrypt.compare(password, begin.passwordHash),
  ])) as { status: number; sid: string };
  expect(finish.status).toBe(200);
  return finish.sid;
}

/** A request id that already has an audit event, planted with the bank_customer password alone. */
async function plantedRequestId(): Promise<string> {
  const requestId = `planted-${randomBytes(6).toString('hex')}`;
  const planted = await value(
    'bank_customer',
    "SELECT bank_audit_record($1::jsonb, 'accounts.withdraw', 'denied', '{}'::jsonb) AS v",
    [ctxOf({ requestId, actor: 'anonymous' })],
  );
  expect(typeof planted).toBe('string');
  return requestId;
}

interface EventRow {
  readonly actor: string;
  readonly action: string;
  readonly outcome: string;
  readonly code: string | null;
  readonly request_id: string | null;
  readonly taken: string | null;
}

/** The audit events of the customer (the session's user) since `afterSeq`, oldest first. */
async function customerEvents(afterSeq: string): Promise<EventRow[]> {
  return as('superuser', async (c) => {
    const rows = await c.query<EventRow>(
      `SELECT actor, action, outcome, details ->> 'code' AS code, request_id,
              details ->> 'requestIdTaken' AS taken
         FROM audit_logs WHERE actor = $1 AND seq > $2::bigint ORDER BY seq`,
      [names.customer, afterSeq],
    );
    return rows.rows;
  });
}

async function lastSeq(): Promise<string> {
  return String(await value('superuser', 'SELECT coalesce(max(seq), 0)::text AS v FROM audit_logs'));
}

async function duplicateRequestIds(): Promise<number> {
  return Number(
    await value(
      'superuser',
      `SELECT count(*)::int AS v FROM (SELECT request_id FROM audit_logs WHERE request_id IS NOT NULL
        GROUP BY request_id HAVING count(*) > 1) d`,
    ),
  );
}

beforeAll(async () => {
  db = await createTestDatabase();
  const hash = await bcrypt.hash(password, 4);
  await as('superuser', async (c) => {
    for (const [key, role] of [
      ['customer', 'customer'],
      ['teller', 'teller'],
    ] as const) {
      await c.query('SELECT bank_create_user($1, $2, $3)', [names[key], hash, role]);
      const row = await c.query<{ id: string }>('SELECT id FROM users WHERE username = $1', [names[key]]);
      ids[key] = row.rows[0]?.id ?? '';
    }
  });
  sids.customer = await login(names.customer);
  sids.teller = await login(names.teller);
  const open = async (): Promise<string> => {
    const created = (await value(
      'bank_teller',
      "SELECT bank_account_create($1::jsonb, $2::uuid, 'Request ids', $3) AS v",
      [ctxOf({ sid: sids.teller }), ids.customer, pin],
    )) as { status: number; body: { accountNo: string } };
    expect(created.status).toBe(201);
    const deposit = (await value(
      'bank_teller',
      "SELECT bank_move($1::jsonb, 'DEPOSIT', $2, 500000, NULL, NULL, NULL, NULL, NULL) AS v",
      [ctxOf({ sid: sids.teller }), created.body.accountNo],
    )) as { status: number };
    expect(deposit.status).toBe(200);
    return created.body.accountNo;
  };
  pinAccount = await open();
  codeAccount = await open();
  // The customer's authenticator, enrolled and confirmed by the customer (the attacker never sees it).
  const enrolled = (await value('bank_customer', 'SELECT bank_totp_enrol($1::jsonb) AS v', [
    ctxOf({ sid: sids.customer }),
  ])) as { status: number; body: { secret: string } };
  expect(enrolled.status).toBe(201);
  secret = enrolled.body.secret;
  const confirmed = (await value('bank_customer', 'SELECT bank_totp_confirm($1::jsonb, $2) AS v', [
    ctxOf({ sid: sids.customer }),
    totpCode(secret),
  ])) as { status: number };
  expect(confirmed.status).toBe(200);
});

afterAll(async () => {
  await db?.drop();
});

/** A withdrawal of `amountMinor` from `accountNo` with the customer's session, under `requestId`. */
function withdraw(
  requestId: string,
  accountNo: string,
  amountMinor: number,
  guessPin: string,
  otp: string | null,
) {
  return attempt(
    'bank_customer',
    "SELECT bank_move($1::jsonb, 'WITHDRAWAL', $2, $3::bigint, NULL, $4, $5, NULL, NULL) AS v",
    [ctxOf({ sid: sids.customer, requestId }), accountNo, amountMinor, guessPin, otp],
  );
}

describe('a request id that already has an audit event', () => {
  it('does not undo wrong PINs: the third locks the account, each is recorded, and the right PIN then gets 423', async () => {
    // Prepare
    const taken = await plantedRequestId();
    const since = await lastSeq();

    // Act: three wrong PINs, then the right one, all under the planted request id.
    const guesses = [];
    for (let i = 0; i < 3; i += 1) guesses.push(await withdraw(taken, pinAccount, 100, wrongPin, null));
    const right = await withdraw(taken, pinAccount, 100, pin, null);

    // Assess
    expect(guesses).toEqual(
      [2, 1, 0].map((left) => ({
        value: {
          status: 403,
          error: { code: 'INVALID_PIN', detail: 'the PIN is wrong', attemptsRemaining: left },
        },
      })),
    );
    expect(right).toEqual({
      value: { status: 423, error: { code: 'ACCOUNT_LOCKED', detail: 'the account is locked' } },
    });
    const state = await value(
      'superuser',
      `SELECT jsonb_build_object('failed', failed_attempts, 'locked', is_locked, 'reason', locked_reason,
              'balance', balance_minor) AS v FROM accounts WHERE account_no = $1`,
      [pinAccount],
    );
    expect(state).toEqual({ failed: 3, locked: true, reason: 'too many wrong PINs', balance: 500000 });
    // Every refusal is in the trail under the session's user, beside (not instead of) the planted
    // event: the request id it claimed is kept in its details.
    expect(await customerEvents(since)).toEqual([
      ...[1, 2, 3].map(() => ({
        actor: names.customer,
        action: 'accounts.withdraw',
        outcome: 'denied',
        code: 'INVALID_PIN',
        request_id: null,
        taken,
      })),
      {
        actor: names.customer,
        action: 'accounts.withdraw',
        outcome: 'denied',
        code: 'ACCOUNT_LOCKED',
        request_id: null,
        taken,
      },
    ]);
    expect(await duplicateRequestIds()).toBe(0);
  });

  it('does not undo wrong one-time codes: the fifth blocks the codes, and the right code then gets 429', async () => {
    // Prepare: codes that are none of the three the authenticator accepts now (one step of drift).
    const taken = await plantedRequestId();
    const since = await lastSeq();
    const accepted = new Set([-1, 0, 1].map((s) => totpCode(secret, s)));
    const wrongCodes = ['000000', '111111', '222222', '333333', '444444', '555555', '666666'].filter(
      (code) => !accepted.has(code),
    );

    // Act: five wrong codes with the right PIN (a step-up amount, 1,000.00), then the right code.
    const guesses = [];
    for (const code of wrongCodes.slice(0, 5))
      guesses.push(await withdraw(taken, codeAccount, 100000, pin, code));
    const right = await withdraw(taken, codeAccount, 100000, pin, totpCode(secret));

    // Assess
    expect(guesses).toEqual(
      [1, 2, 3, 4, 5].map(() => ({
        value: {
          status: 403,
          error: { code: 'INVALID_OTP', detail: 'the code is wrong or was already used' },
        },
      })),
    );
    expect(right.value).toMatchObject({ status: 429, error: { code: 'RATE_LIMITED' } });
    const totp = await value(
      'superuser',
      `SELECT jsonb_build_object('blocked', blocked_until > now() + interval '14 minutes') AS v
         FROM user_totp WHERE user_id = $1`,
      [ids.customer],
    );
    expect(totp).toEqual({ blocked: true });
    const balance = await value(
      'superuser',
      'SELECT balance_minor::text AS v FROM accounts WHERE account_no = $1',
      [codeAccount],
    );
    expect(balance).toBe('500000');
    expect((await customerEvents(since)).map((e) => [e.outcome, e.code, e.request_id, e.taken])).toEqual([
      ...[1, 2, 3, 4, 5].map(() => ['denied', 'INVALID_OTP', null, taken]),
      ['denied', 'RATE_LIMITED', null, taken],
    ]);
    expect(await duplicateRequestIds()).toBe(0);
  });

  it('a refusal under a fresh request id keeps that request id (nothing changes for honest callers)', async () => {
    // Prepare
    const since = await lastSeq();
    const requestId = `fresh-${randomBytes(6).toString('hex')}`;
    // Act: an account that is not the customer's.
    const refused = await withdraw(requestId, '999999999999', 100, pin, null);
    // Assess
    expect(refused).toEqual({
      value: { status: 404, error: { code: 'NOT_FOUND', detail: 'no such account' } },
    });
    expect(await customerEvents(since)).toEqual([
      {
        actor: names.customer,
        action: 'accounts.withdraw',
        outcome: 'failed',
        code: 'NOT_FOUND',
        request_id: requestId,
        taken: null,
      },
    ]);
  });
});
