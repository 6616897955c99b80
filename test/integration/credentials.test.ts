import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiResponse, type CallOptions, query, startTestStack, type TestStack } from '../helpers/stack';

/*
 * API.md v1.1 "Sessions and credentials" and "Step-up", through HTTP: the gateway, the real
 * handlers, the Data API server and PostgreSQL. Every request made here is checked to leave
 * exactly one audit event (by its x-request-id), and no event may hold a code, a secret, a
 * password or a PIN.
 */

const PASSWORD = 'credentials-password-1';
const NEW_PASSWORD = 'credentials-password-2';
const PIN = '482615';
const NEW_PIN = '739204';

let s: TestStack;
let adminId: string;
let adminToken: string;
let adminSecret: string;
let tellerToken: string;
let tellerId: string;
let counter = 0;
/** Every code, secret, password and PIN this file sent or received: none may be in an audit event. */
const secrets = new Set<string>([PASSWORD, NEW_PASSWORD, PIN, NEW_PIN]);

const uname = (prefix: string) => {
  counter += 1;
  return `${prefix}-${counter}`;
};

const totpOf = (secret: string) =>
  new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 });

/** The current code of an authenticator (or `steps` 30-second steps away). */
function codeOf(secret: string, steps = 0): string {
  const code = totpOf(secret).generate({ timestamp: Date.now() + steps * 30_000 });
  secrets.add(code);
  return code;
}

/**
 * Fixture: forget the last accepted time step of a user, so a test can use several codes within
 * one 30-second step (a code is accepted once, and never one older than the last). Only the
 * superuser can do this; the API cannot.
 */
async function allowNextCode(userId: string): Promise<void> {
  await query(s.db, 'UPDATE user_totp SET last_step = NULL WHERE user_id = $1', [userId]);
}

/** A request that must leave exactly one audit event; returns the response and that event. */
async function api(
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<ApiResponse & { event: { action: string; outcome: string; details: Record<string, unknown> } }> {
  const res = await s.call(method, path, options);
  const requestId = res.headers.get('x-request-id');
  const events = await query<{ action: string; outcome: string; details: Record<string, unknown> }>(
    s.db,
    'SELECT action, outcome, details FROM audit_logs WHERE request_id = $1',
    [requestId],
  );
  expect(events, `${method} ${path} ${res.status}: one audit event`).toHaveLength(1);
  const [event] = events;
  if (!event) throw new Error('no audit event');
  return { ...res, event };
}

interface Person {
  readonly id: string;
  readonly username: string;
  token: string;
}

async function person(role: 'customer' | 'teller' | 'admin'): Promise<Person> {
  const username = uname(role.slice(0, 4));
  const id = await s.createUser(username, PASSWORD, role);
  return { id, username, token: await s.login(username, PASSWORD) };
}

/** Enrols an authenticator through the API (POST /me/totp, then /me/totp/confirm); its secret. */
async function enrol(who: { id: string; token: string }): Promise<string> {
  const started = await api('POST', '/me/totp', { token: who.token, body: {} });
  expect(started.status).toBe(201);
  const secret = String(started.body.secret);
  secrets.add(secret);
  const confirmed = await api('POST', '/me/totp/confirm', {
    token: who.token,
    body: { otp: codeOf(secret) },
  });
  expect(confirmed.status).toBe(200);
  await allowNextCode(who.id);
  return secret;
}

async function openAccount(ownerId: string, balance: string): Promise<string> {
  const res = await s.call('POST', '/accounts', {
    token: tellerToken,
    body: { ownerId, name: 'Main', pin: PIN },
  });
  const accountNo = String(res.body.accountNo);
  expect(res.status).toBe(201);
  if (balance !== '0.00') {
    // An admin funds it: a teller's deposit at or over the approval amount waits for a checker.
    const funded = await s.call('POST', `/accounts/${accountNo}/deposit`, {
      token: adminToken,
      body: { amount: balance },
    });
    expect(funded.status).toBe(200);
  }
  return accountNo;
}

async function balanceOf(accountNo: string): Promise<string> {
  const rows = await query<{ b: string }>(
    s.db,
    'SELECT bank_fmt(balance_minor) AS b FROM accounts WHERE account_no = $1',
    [accountNo],
  );
  return rows[0]?.b ?? 'none';
}

async function liveSessions(userId: string): Promise<number> {
  const rows = await query<{ n: string }>(
    s.db,
    'SELECT count(*) AS n FROM sessions WHERE user_id = $1 AND ended_at IS NULL AND expires_at > now()',
    [userId],
  );
  return Number(rows[0]?.n);
}

beforeAll(async () => {
  s = await startTestStack();
  const admin = await person('admin');
  adminId = admin.id;
  adminToken = admin.token;
  const teller = await person('teller');
  tellerId = teller.id;
  tellerToken = teller.token;
  adminSecret = await enrol(admin);
});

afterAll(async () => {
  // No audit event of this file holds a code, a secret, a password or a PIN.
  const leaks = await query<{ action: string }>(
    s.db,
    `SELECT action FROM audit_logs a
      WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) x WHERE jsonb_path_exists(a.details, '$.** ? (@ == $x)', jsonb_build_object('x', x))
                       OR a.details::text LIKE '%' || x || '%' AND length(x) > 6)`,
    [[...secrets]],
  );
  expect(leaks).toEqual([]);
  await s?.close();
});

describe('TOTP codes (RFC 6238) computed by the database', () => {
  it('matches the RFC 6238 SHA-1 test vectors and the otpauth library', async () => {
    // RFC 6238 appendix B, SHA-1 seed "12345678901234567890", the last 6 of the 8 digits.
    const vectors: Array<[number, string]> = [
      [59, '287082'],
      [1111111109, '081804'],
      [1111111111, '050471'],
      [1234567890, '005924'],
      [2000000000, '279037'],
      [20000000000, '353130'],
    ];
    for (const [time, expected] of vectors) {
      const rows = await query<{ v: string }>(
        s.db,
        "SELECT bank_hotp(convert_to('12345678901234567890', 'UTF8'), $1::bigint) AS v",
        [Math.floor(time / 30)],
      );
      expect({ time, code: rows[0]?.v }).toEqual({ time, code: expected });
    }
    const secret = new Secret({ size: 20 });
    for (let step = 56_000_000; step < 56_000_020; step += 1) {
      const rows = await query<{ v: string }>(s.db, "SELECT bank_hotp(decode($1, 'hex'), $2::bigint) AS v", [
        secret.hex,
        step,
      ]);
      const library = new TOTP({ secret, algorithm: 'SHA1', digits: 6, period: 30 }).generate({
        timestamp: step * 30_000,
      });
      expect(rows[0]?.v).toBe(library);
    }
  });
});

describe('enrolment and login with TOTP', () => {
  it('enrols (pending until confirmed, replaced by a new enrolment), then needs a code at every login, once each', async () => {
    const c = await person('customer');
    const first = await api('POST', '/me/totp', { token: c.token, body: {} });
    expect(first.status).toBe(201);
    expect(first.body).toEqual({
      secret: expect.stringMatching(/^[A-Z2-7]{32}$/),
      otpauthUri: expect.any(String),
    });
    const uri = new URL(String(first.body.otpauthUri));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.searchParams.get('secret')).toBe(first.body.secret);
    expect(uri.searchParams.get('algorithm')).toBe('SHA1');
    expect(uri.searchParams.get('digits')).toBe('6');
    expect(uri.searchParams.get('period')).toBe('30');
    expect(first.event).toEqual({ action: 'me.totp.enrol', outcome: 'success', details: {} });
    secrets.add(String(first.body.secret));
    // Pending: login needs no code yet.
    expect(
      (await s.call('POST', '/auth/login', { body: { username: c.username, password: PASSWORD } })).status,
    ).toBe(200);

    const second = await api('POST', '/me/totp', { token: c.token, body: {} });
    const secret = String(second.body.secret);
    secrets.add(secret);
    expect(secret).not.toBe(first.body.secret);
    const stale = await api('POST', '/me/totp/confirm', {
      token: c.token,
      body: { otp: codeOf(String(first.body.secret)) },
    });
    expect([stale.status, stale.body.code]).toEqual([403, 'INVALID_OTP']);
    const confirmed = await api('POST', '/me/totp/confirm', {
      token: c.token,
      body: { otp: codeOf(secret) },
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toMatchObject({ id: c.id, totpEnabled: true, disabled: false });
    const again = await api('POST', '/me/totp', { token: c.token, body: {} });
    expect([again.status, again.body.code]).toEqual([409, 'CONFLICT']);

    await allowNextCode(c.id);
    const missing = await api('POST', '/auth/login', { body: { username: c.username, password: PASSWORD } });
    expect([missing.status, missing.body.code]).toEqual([401, 'OTP_REQUIRED']);
    const wrong = await api('POST', '/auth/login', {
      body: { username: c.username, password: PASSWORD, otp: codeOf(secret, 10) },
    });
    expect([wrong.status, wrong.body.code]).toEqual([401, 'UNAUTHENTICATED']);
    // A wrong password with a right code is a wrong password, and the code is not spent.
    const code = codeOf(secret);
    const badPassword = await api('POST', '/auth/login', {
      body: { username: c.username, password: NEW_PASSWORD, otp: code },
    });
    expect([badPassword.status, badPassword.body.code]).toEqual([401, 'UNAUTHENTICATED']);
    const ok = await api('POST', '/auth/login', {
      body: { username: c.username, password: PASSWORD, otp: code },
    });
    expect(ok.status).toBe(200);
    expect(ok.body.user).toMatchObject({ totpEnabled: true });
    const replay = await api('POST', '/auth/login', {
      body: { username: c.username, password: PASSWORD, otp: code },
    });
    expect([replay.status, replay.body.code]).toEqual([401, 'UNAUTHENTICATED']);
  });

  it('blocks a user’s codes for 15 minutes after five wrong ones in a row (429 with retry-after), login included', async () => {
    const c = await person('customer');
    const secret = await enrol(c);
    const account = await openAccount(c.id, '5000.00');
    const wrong = codeOf(secret, 20);
    for (let i = 0; i < 5; i += 1) {
      const res = await api('POST', `/accounts/${account}/withdraw`, {
        token: c.token,
        body: { amount: '1000.00', pin: PIN, otp: wrong },
      });
      expect([i, res.status, res.body.code]).toEqual([i, 403, 'INVALID_OTP']);
    }
    const blocked = await api('POST', `/accounts/${account}/withdraw`, {
      token: c.token,
      body: { amount: '1000.00', pin: PIN, otp: codeOf(secret) },
    });
    expect([blocked.status, blocked.body.code]).toEqual([429, 'RATE_LIMITED']);
    const retryAfter = Number(blocked.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(880);
    expect(retryAfter).toBeLessThanOrEqual(900);
    expect(blocked.body.retryAfter).toBe(retryAfter);
    const login = await api('POST', '/auth/login', {
      body: { username: c.username, password: PASSWORD, otp: codeOf(secret) },
    });
    expect([login.status, login.body.code]).toEqual([429, 'RATE_LIMITED']);
    expect(await balanceOf(account)).toBe('5000.00');
  });

  it('answers a disabled user’s login exactly as an unknown user’s, from the same code path', async () => {
    const c = await person('customer');
    const disabled = await api('POST', `/users/${c.id}/disable`, {
      token: adminToken,
      body: { reason: 'left' },
    });
    expect(disabled.status).toBe(200);
    const known = await api('POST', '/auth/login', { body: { username: c.username, password: PASSWORD } });
    const unknown = await api('POST', '/auth/login', {
      body: { username: uname('nobody'), password: PASSWORD },
    });
    const strip = (r: ApiResponse) => ({ ...r.body, requestId: undefined });
    expect([known.status, unknown.status]).toEqual([401, 401]);
    expect(strip(known)).toEqual(strip(unknown));
    // Call 1 of the login gives no hash for a disabled user: the function burns the same dummy
    // bcrypt comparison as for an unknown name.
    const auth = s.db.client('bank_auth');
    await auth.connect();
    try {
      const begin = await auth.query<{ v: { userExists: boolean; passwordHash: string | null } }>(
        'SELECT bank_login_begin($1::jsonb, $2, 10, 50, 900) AS v',
        [JSON.stringify({ requestId: 'r', ip: '198.51.100.9' }), c.username],
      );
      expect(begin.rows[0]?.v).toMatchObject({ userExists: false, passwordHash: null });
    } finally {
      await auth.end();
    }
  });
});

describe('step-up', () => {
  it("needs a fresh code for a customer's movement of at least BANK_STEP_UP_AMOUNT, judged in the movement", async () => {
    const c = await person('customer');
    const account = await openAccount(c.id, '10000.00');
    const other = await openAccount((await person('customer')).id, '0.00');

    const notEnrolled = await api('POST', `/accounts/${account}/deposit`, {
      token: c.token,
      body: { amount: '1000.00', pin: PIN },
    });
    expect([notEnrolled.status, notEnrolled.body.code, notEnrolled.body.enrolmentRequired]).toEqual([
      403,
      'STEP_UP_REQUIRED',
      true,
    ]);
    const small = await api('POST', `/accounts/${account}/deposit`, {
      token: c.token,
      body: { amount: '999.99', pin: PIN },
    });
    expect(small.status).toBe(200);

    const secret = await enrol(c);
    const missing = await api('POST', `/accounts/${account}/withdraw`, {
      token: c.token,
      body: { amount: '1000.00', pin: PIN },
    });
    expect([missing.status, missing.body.code, 'enrolmentRequired' in missing.body]).toEqual([
      403,
      'STEP_UP_REQUIRED',
      false,
    ]);
    const wrong = await api('POST', `/accounts/${account}/withdraw`, {
      token: c.token,
      body: { amount: '1000.00', pin: PIN, otp: codeOf(secret, 20) },
    });
    expect([wrong.status, wrong.body.code]).toEqual([403, 'INVALID_OTP']);

    const code = codeOf(secret);
    const withdraw = await api('POST', `/accounts/${account}/withdraw`, {
      token: c.token,
      headers: { 'idempotency-key': 'step-up-1' },
      body: { amount: '1000.00', pin: PIN, otp: code },
    });
    expect(withdraw.status).toBe(200);
    // A retry of the accepted request replays it without a second code.
    const retried = await api('POST', `/accounts/${account}/withdraw`, {
      token: c.token,
      headers: { 'idempotency-key': 'step-up-1' },
      body: { amount: '1000.00', pin: PIN },
    });
    expect(retried.status).toBe(200);
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect(retried.body).toEqual(withdraw.body);
    // The same code for another request: reused.
    const reused = await api('POST', '/transfers', {
      token: c.token,
      body: { fromAccountNo: account, toAccountNo: other, amount: '2500.00', pin: PIN, otp: code },
    });
    expect([reused.status, reused.body.code]).toEqual([403, 'INVALID_OTP']);
    await allowNextCode(c.id);
    const transfer = await api('POST', '/transfers', {
      token: c.token,
      body: { fromAccountNo: account, toAccountNo: other, amount: '2500.00', pin: PIN, otp: codeOf(secret) },
    });
    expect(transfer.status).toBe(201);

    // Tellers and admins act without a code.
    const teller = await api('POST', `/accounts/${account}/withdraw`, {
      token: tellerToken,
      body: { amount: '1500.00' },
    });
    expect(teller.status).toBe(200);
    expect(await balanceOf(account)).toBe('5999.99');
    expect(await balanceOf(other)).toBe('2500.00');
  });

  it('keeps one Idempotency-Key across the step-up, as the console sends it: a fresh code on a retry replays, it never moves twice', async () => {
    const c = await person('customer');
    const secret = await enrol(c);
    const account = await openAccount(c.id, '5000.00');
    const other = await openAccount((await person('customer')).id, '0.00');
    const body = { fromAccountNo: account, toAccountNo: other, amount: '1200.00', pin: PIN };
    const send = (otp?: string) =>
      api('POST', '/transfers', {
        token: c.token,
        headers: { 'idempotency-key': 'console-form-1' },
        body: otp === undefined ? body : { ...body, otp },
      });

    // The console's first Confirm: refused for want of a code, the key given back.
    const refused = await send();
    expect([refused.status, refused.body.code]).toEqual([403, 'STEP_UP_REQUIRED']);
    // Confirm again with the code: the same key is accepted.
    const sent = await send(codeOf(secret));
    expect(sent.status).toBe(201);
    // Its answer was lost; the code has been spent, so the user types the next one: a replay.
    await allowNextCode(c.id);
    const retried = await send(codeOf(secret));
    expect(retried.status).toBe(201);
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect(retried.body).toEqual(sent.body);
    expect(retried.event).toMatchObject({ outcome: 'success', details: { idempotencyKeyReplay: true } });
    expect(await balanceOf(account)).toBe('3800.00');
    expect(await balanceOf(other)).toBe('1200.00');
  });

  it('needs a code from an admin creating a teller or an admin, not a customer', async () => {
    const admin = await person('admin');
    const unenrolled = await api('POST', '/users', {
      token: admin.token,
      body: { username: uname('t'), password: PASSWORD, role: 'teller' },
    });
    expect([unenrolled.status, unenrolled.body.code, unenrolled.body.enrolmentRequired]).toEqual([
      403,
      'STEP_UP_REQUIRED',
      true,
    ]);
    const customer = await api('POST', '/users', {
      token: admin.token,
      body: { username: uname('c'), password: PASSWORD, role: 'customer' },
    });
    expect(customer.status).toBe(201);
    await allowNextCode(adminId);
    for (const role of ['teller', 'admin'] as const) {
      const missing = await api('POST', '/users', {
        token: adminToken,
        body: { username: uname(role), password: PASSWORD, role },
      });
      expect([missing.status, missing.body.code]).toEqual([403, 'STEP_UP_REQUIRED']);
      await allowNextCode(adminId);
      const made = await api('POST', '/users', {
        token: adminToken,
        body: { username: uname(role), password: PASSWORD, role, otp: codeOf(adminSecret) },
      });
      expect(made.status).toBe(201);
      expect(made.body).toMatchObject({ role, disabled: false, totpEnabled: false });
    }
  });

  it('accepts one code once under 10 concurrent logins and 10 concurrent step-ups (exactly one each)', async () => {
    const c = await person('customer');
    const secret = await enrol(c);
    const account = await openAccount(c.id, '50000.00');
    const sessionsBefore = await liveSessions(c.id);

    const loginCode = codeOf(secret);
    const logins = await Promise.all(
      Array.from({ length: 10 }, () =>
        s.call('POST', '/auth/login', { body: { username: c.username, password: PASSWORD, otp: loginCode } }),
      ),
    );
    const loginOutcomes = logins.map((r) => `${r.status} ${String(r.body.code ?? '')}`.trim()).sort();
    // The code's first use wins; every other use is a reused code, counted as wrong: five of them
    // block the user's codes, so the last four meet the block.
    expect(loginOutcomes).toEqual([
      '200',
      ...Array(5).fill('401 UNAUTHENTICATED'),
      ...Array(4).fill('429 RATE_LIMITED'),
    ]);
    expect(await liveSessions(c.id)).toBe(sessionsBefore + 1);

    await query(
      s.db,
      'UPDATE user_totp SET last_step = NULL, failures = 0, blocked_until = NULL WHERE user_id = $1',
      [c.id],
    );
    const moveCode = codeOf(secret);
    const moves = await Promise.all(
      Array.from({ length: 10 }, () =>
        s.call('POST', `/accounts/${account}/withdraw`, {
          token: c.token,
          body: { amount: '1000.00', pin: PIN, otp: moveCode },
        }),
      ),
    );
    const moveOutcomes = moves.map((r) => `${r.status} ${String(r.body.code ?? '')}`.trim()).sort();
    expect(moveOutcomes).toEqual([
      '200',
      ...Array(5).fill('403 INVALID_OTP'),
      ...Array(4).fill('429 RATE_LIMITED'),
    ]);
    expect(await balanceOf(account)).toBe('49000.00');
    const history = await query<{ n: string }>(
      s.db,
      "SELECT count(*) AS n FROM history h JOIN accounts a ON a.id = h.account_id WHERE a.account_no = $1 AND h.type = 'WITHDRAWAL'",
      [account],
    );
    expect(Number(history[0]?.n)).toBe(1);
  });
});

describe('passwords', () => {
  it('POST /me/password: current password, a code, then every other session ends', async () => {
    const c = await person('customer');
    const unenrolled = await api('POST', '/me/password', {
      token: c.token,
      body: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
    });
    expect([unenrolled.status, unenrolled.body.code, unenrolled.body.enrolmentRequired]).toEqual([
      403,
      'STEP_UP_REQUIRED',
      true,
    ]);
    const secret = await enrol(c);
    const wrongCurrent = await api('POST', '/me/password', {
      token: c.token,
      body: { currentPassword: NEW_PASSWORD, newPassword: NEW_PASSWORD, otp: codeOf(secret) },
    });
    expect([wrongCurrent.status, wrongCurrent.body.code]).toEqual([401, 'UNAUTHENTICATED']);
    expect(wrongCurrent.event).toMatchObject({ action: 'me.password', outcome: 'denied' });
    const attempts = await query<{ succeeded: boolean }>(
      s.db,
      'SELECT succeeded FROM login_attempts WHERE username = $1 ORDER BY created_at DESC, id LIMIT 1',
      [c.username],
    );
    expect(attempts).toEqual([{ succeeded: false }]);

    await allowNextCode(c.id);
    const other = await s.call('POST', '/auth/login', {
      body: { username: c.username, password: PASSWORD, otp: codeOf(secret) },
    });
    expect(other.status).toBe(200);
    expect(await liveSessions(c.id)).toBe(2);
    await allowNextCode(c.id);
    const changed = await api('POST', '/me/password', {
      token: c.token,
      body: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD, otp: codeOf(secret) },
    });
    expect(changed.status).toBe(204);
    expect(changed.text).toBe('');
    expect(changed.event).toEqual({
      action: 'me.password',
      outcome: 'success',
      details: { sessionsEnded: 1 },
    });
    expect(await liveSessions(c.id)).toBe(1);
    expect((await s.call('GET', '/me', { token: c.token })).status).toBe(200);
    const ended = await s.call('GET', '/me', { token: String(other.body.accessToken) });
    expect([ended.status, ended.body.code]).toEqual([401, 'UNAUTHENTICATED']);
    await allowNextCode(c.id);
    const oldLogin = await s.call('POST', '/auth/login', {
      body: { username: c.username, password: PASSWORD, otp: codeOf(secret) },
    });
    expect(oldLogin.status).toBe(401);
    const newLogin = await s.call('POST', '/auth/login', {
      body: { username: c.username, password: NEW_PASSWORD, otp: codeOf(secret) },
    });
    expect(newLogin.status).toBe(200);
  });

  it('counts wrong current passwords toward the login limits (the 11th is 429)', async () => {
    const c = await person('customer');
    for (let i = 0; i < 10; i += 1) {
      const res = await api('POST', '/me/password', {
        token: c.token,
        body: { currentPassword: `wrong-password-${i}`, newPassword: NEW_PASSWORD },
      });
      expect([i, res.status, res.body.code]).toEqual([i, 401, 'UNAUTHENTICATED']);
    }
    const limited = await api('POST', '/me/password', {
      token: c.token,
      body: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
    });
    expect([limited.status, limited.body.code]).toEqual([429, 'RATE_LIMITED']);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    const login = await api('POST', '/auth/login', { body: { username: c.username, password: PASSWORD } });
    expect([login.status, login.body.code]).toEqual([429, 'RATE_LIMITED']);
  });

  it('POST /users/{userId}/password: a teller for customers only, an admin for anyone; every session ends', async () => {
    const c = await person('customer');
    const reset = await api('POST', `/users/${c.id}/password`, {
      token: tellerToken,
      body: { newPassword: NEW_PASSWORD },
    });
    expect(reset.status).toBe(204);
    expect(reset.event).toEqual({
      action: 'users.password',
      outcome: 'success',
      details: { userId: c.id, username: c.username, sessionsEnded: 1 },
    });
    expect(await liveSessions(c.id)).toBe(0);
    expect((await s.call('GET', '/me', { token: c.token })).status).toBe(401);
    expect(
      (await s.call('POST', '/auth/login', { body: { username: c.username, password: NEW_PASSWORD } }))
        .status,
    ).toBe(200);
    const t = await person('teller');
    const onTeller = await api('POST', `/users/${t.id}/password`, {
      token: tellerToken,
      body: { newPassword: NEW_PASSWORD },
    });
    expect([onTeller.status, onTeller.body.code]).toEqual([403, 'FORBIDDEN']);
    expect(await liveSessions(t.id)).toBe(1);
    const unknown = await api('POST', '/users/00000000-0000-4000-8000-000000000000/password', {
      token: tellerToken,
      body: { newPassword: NEW_PASSWORD },
    });
    expect([unknown.status, unknown.body.code]).toEqual([404, 'NOT_FOUND']);
    const byAdmin = await api('POST', `/users/${t.id}/password`, {
      token: adminToken,
      body: { newPassword: NEW_PASSWORD },
    });
    expect(byAdmin.status).toBe(204);
    expect(await liveSessions(t.id)).toBe(0);
    const byCustomer = await api('POST', `/users/${t.id}/password`, {
      token: (await person('customer')).token,
      body: { newPassword: NEW_PASSWORD },
    });
    expect([byCustomer.status, byCustomer.body.code]).toEqual([403, 'FORBIDDEN']);
  });
});

describe('disable and enable', () => {
  it('ends every session at once and refuses login; enable lets the user log in again; never self', async () => {
    const c = await person('customer');
    const second = await s.login(c.username, PASSWORD);
    const disabled = await api('POST', `/users/${c.id}/disable`, {
      token: adminToken,
      body: { reason: 'fraud review' },
    });
    expect(disabled.status).toBe(200);
    expect(disabled.body).toEqual({
      id: c.id,
      username: c.username,
      role: 'customer',
      createdAt: expect.any(String),
      disabled: true,
      totpEnabled: false,
    });
    expect(disabled.event).toEqual({
      action: 'users.disable',
      outcome: 'success',
      details: { userId: c.id, username: c.username, reason: 'fraud review', sessionsEnded: 2 },
    });
    expect(await liveSessions(c.id)).toBe(0);
    for (const token of [c.token, second]) {
      const me = await api('GET', '/me', { token });
      expect([me.status, me.body.code]).toEqual([401, 'UNAUTHENTICATED']);
    }
    const self = await api('POST', `/users/${adminId}/disable`, {
      token: adminToken,
      body: { reason: 'self' },
    });
    expect([self.status, self.body.code]).toEqual([403, 'FORBIDDEN']);
    const byTeller = await api('POST', `/users/${c.id}/enable`, { token: tellerToken, body: {} });
    expect([byTeller.status, byTeller.body.code]).toEqual([403, 'FORBIDDEN']);
    const enabled = await api('POST', `/users/${c.id}/enable`, { token: adminToken, body: {} });
    expect(enabled.status).toBe(200);
    expect(enabled.body).toMatchObject({ disabled: false });
    expect(await liveSessions(c.id)).toBe(0);
    expect(
      (await s.call('POST', '/auth/login', { body: { username: c.username, password: PASSWORD } })).status,
    ).toBe(200);
  });

  it('refuses every request of a disabled user that starts after the disable, while requests are in flight', async () => {
    const c = await person('customer');
    const account = await openAccount(c.id, '500.00');
    let done = false;
    const outcomes: Array<{ status: number; code: unknown; startedAfter: boolean }> = [];
    let disabledAt = 0;
    const worker = async () => {
      while (!done) {
        const startedAfter = disabledAt !== 0;
        const res = await s.call('POST', `/accounts/${account}/deposit`, {
          token: c.token,
          body: { amount: '1.00', pin: PIN },
        });
        outcomes.push({ status: res.status, code: res.body.code, startedAfter });
        if (startedAfter) done = true;
      }
    };
    const workers = Array.from({ length: 4 }, worker);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const disabled = await s.call('POST', `/users/${c.id}/disable`, {
      token: adminToken,
      body: { reason: 'race' },
    });
    disabledAt = Date.now();
    expect(disabled.status).toBe(200);
    await Promise.all(workers);

    const after = outcomes.filter((o) => o.startedAfter);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((o) => o.status === 401 && o.code === 'UNAUTHENTICATED')).toBe(true);
    expect(
      outcomes.every((o) => o.status === 200 || (o.status === 401 && o.code === 'UNAUTHENTICATED')),
    ).toBe(true);
    expect(await liveSessions(c.id)).toBe(0);
    // A request in flight when the disable commits either completed as a whole (serialised before
    // the disable: its session check read the live session) or was refused; none is half-done.
    const successes = outcomes.filter((o) => o.status === 200).length;
    const deposits = await query<{ n: string }>(
      s.db,
      `SELECT count(*) AS n FROM history h JOIN accounts a ON a.id = h.account_id
        WHERE a.account_no = $1 AND h.type = 'DEPOSIT' AND h.actor_id = a.user_id`,
      [account],
    );
    expect(Number(deposits[0]?.n)).toBe(successes);
    expect(await balanceOf(account)).toBe(`${500 + successes}.00`);
  });
});

describe('account PIN', () => {
  it('a customer changes their own PIN with the current one and a code; a wrong current PIN counts', async () => {
    const c = await person('customer');
    const account = await openAccount(c.id, '100.00');
    const noCode = await api('POST', `/accounts/${account}/pin`, {
      token: c.token,
      body: { currentPin: PIN, newPin: NEW_PIN },
    });
    expect([noCode.status, noCode.body.code, noCode.body.enrolmentRequired]).toEqual([
      403,
      'STEP_UP_REQUIRED',
      true,
    ]);
    const secret = await enrol(c);
    const wrongPin = await api('POST', `/accounts/${account}/pin`, {
      token: c.token,
      body: { currentPin: '591836', newPin: NEW_PIN, otp: codeOf(secret) },
    });
    expect([wrongPin.status, wrongPin.body.code, wrongPin.body.attemptsRemaining]).toEqual([
      403,
      'INVALID_PIN',
      2,
    ]);
    await allowNextCode(c.id);
    const changed = await api('POST', `/accounts/${account}/pin`, {
      token: c.token,
      body: { currentPin: PIN, newPin: NEW_PIN, otp: codeOf(secret) },
    });
    expect(changed.status).toBe(204);
    expect(changed.event).toEqual({
      action: 'accounts.pin',
      outcome: 'success',
      details: { accountNo: account },
    });
    const state = await query<{ failed_attempts: number; is_locked: boolean }>(
      s.db,
      'SELECT failed_attempts, is_locked FROM accounts WHERE account_no = $1',
      [account],
    );
    expect(state).toEqual([{ failed_attempts: 0, is_locked: false }]);
    const oldPin = await s.call('POST', `/accounts/${account}/deposit`, {
      token: c.token,
      body: { amount: '1.00', pin: PIN },
    });
    expect([oldPin.status, oldPin.body.code]).toEqual([403, 'INVALID_PIN']);
    const newPin = await s.call('POST', `/accounts/${account}/deposit`, {
      token: c.token,
      body: { amount: '1.00', pin: NEW_PIN },
    });
    expect(newPin.status).toBe(200);
    const foreign = await api(
      'POST',
      `/accounts/${await openAccount((await person('customer')).id, '0.00')}/pin`,
      {
        token: c.token,
        body: { currentPin: PIN, newPin: NEW_PIN, otp: codeOf(secret) },
      },
    );
    expect([foreign.status, foreign.body.code]).toEqual([404, 'NOT_FOUND']);
    const noCurrent = await api('POST', `/accounts/${account}/pin`, {
      token: c.token,
      body: { newPin: NEW_PIN },
    });
    expect([noCurrent.status, noCurrent.body.code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('a teller sets a PIN without the current one: the count starts again, a lock stays', async () => {
    const c = await person('customer');
    const account = await openAccount(c.id, '100.00');
    for (let i = 0; i < 3; i += 1) {
      await s.call('POST', `/accounts/${account}/withdraw`, {
        token: c.token,
        body: { amount: '1.00', pin: '591836' },
      });
    }
    const set = await api('POST', `/accounts/${account}/pin`, {
      token: tellerToken,
      body: { newPin: NEW_PIN },
    });
    expect(set.status).toBe(204);
    const state = await query<{ failed_attempts: number; is_locked: boolean }>(
      s.db,
      'SELECT failed_attempts, is_locked FROM accounts WHERE account_no = $1',
      [account],
    );
    expect(state).toEqual([{ failed_attempts: 0, is_locked: true }]);
    const withCurrent = await api('POST', `/accounts/${account}/pin`, {
      token: tellerToken,
      body: { currentPin: PIN, newPin: NEW_PIN },
    });
    expect([withCurrent.status, withCurrent.body.code]).toEqual([400, 'VALIDATION_FAILED']);
  });
});

describe('finding things', () => {
  it('GET /users?query=&role=: a teller finds customers only; an admin anyone', async () => {
    const prefix = uname('find');
    const c1 = await s.createUser(`${prefix}-a`, PASSWORD, 'customer');
    const c2 = await s.createUser(`${prefix}-b`, PASSWORD, 'customer');
    const t1 = await s.createUser(`${prefix}-t`, PASSWORD, 'teller');
    const byTeller = await api('GET', `/users?query=${prefix}`, { token: tellerToken });
    expect(byTeller.status).toBe(200);
    expect(byTeller.body.items?.map((u) => u.id)).toEqual([c2, c1]);
    expect(byTeller.body.nextCursor).toBeNull();
    const tellersByTeller = await api('GET', '/users?role=teller', { token: tellerToken });
    expect([tellersByTeller.status, tellersByTeller.body.code]).toEqual([403, 'FORBIDDEN']);
    const byAdmin = await api('GET', `/users?query=${prefix}`, { token: adminToken });
    expect(byAdmin.body.items?.map((u) => u.id)).toEqual([t1, c2, c1]);
    const tellers = await api('GET', `/users?query=${prefix}&role=teller`, { token: adminToken });
    expect(tellers.body.items?.map((u) => u.id)).toEqual([t1]);
    const paged = await api('GET', `/users?query=${prefix}&limit=1`, { token: tellerToken });
    expect(paged.body.items?.map((u) => u.id)).toEqual([c2]);
    const next = await api('GET', `/users?query=${prefix}&limit=1&cursor=${String(paged.body.nextCursor)}`, {
      token: tellerToken,
    });
    expect(next.body.items?.map((u) => u.id)).toEqual([c1]);
    expect(next.body.nextCursor).toBeNull();
    const wildcard = await api('GET', '/users?query=%25', { token: adminToken });
    expect([wildcard.status, wildcard.body.code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('GET /transfers/{transferId}: either side’s owner, tellers and admins; anyone else 404', async () => {
    const a = await person('customer');
    const b = await person('customer');
    const stranger = await person('customer');
    const from = await openAccount(a.id, '100.00');
    const to = await openAccount(b.id, '0.00');
    const made = await s.call('POST', '/transfers', {
      token: a.token,
      body: { fromAccountNo: from, toAccountNo: to, amount: '40.00', pin: PIN },
    });
    expect(made.status).toBe(201);
    const id = String(made.body.transferId);
    for (const token of [a.token, tellerToken, adminToken]) {
      const got = await api('GET', `/transfers/${id}`, { token });
      expect(got.status).toBe(200);
      expect(got.body).toEqual(made.body);
    }
    // The payee sees the transfer, but not the payer's balance after it.
    const payee = await api('GET', `/transfers/${id}`, { token: b.token });
    expect(payee.status).toBe(200);
    expect(payee.body).toEqual({ ...made.body, fromBalanceAfter: null });
    const foreign = await api('GET', `/transfers/${id}`, { token: stranger.token });
    expect([foreign.status, foreign.body.code]).toEqual([404, 'NOT_FOUND']);
    const unknown = await api('GET', '/transfers/00000000-0000-4000-8000-000000000000', {
      token: tellerToken,
    });
    expect([unknown.status, unknown.body.code]).toEqual([404, 'NOT_FOUND']);
  });

  it('?from=&to= on history and audit logs (from inclusive, to exclusive), ?accountNo= on audit logs', async () => {
    const c = await person('customer');
    const account = await openAccount(c.id, '0.00');
    const entries: string[] = [];
    for (const amount of ['1.00', '2.00', '3.00']) {
      const res = await s.call('POST', `/accounts/${account}/deposit`, {
        token: tellerToken,
        body: { amount },
      });
      entries.push(String(res.body.createdAt));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const [, second, third] = entries;
    const from = await api('GET', `/accounts/${account}/history?from=${second}`, { token: c.token });
    expect(from.body.items?.map((e) => e.amount)).toEqual(['3.00', '2.00']);
    const to = await api('GET', `/accounts/${account}/history?to=${second}`, { token: c.token });
    expect(to.body.items?.map((e) => e.amount)).toEqual(['1.00']);
    const window = await api('GET', `/accounts/${account}/history?from=${second}&to=${third}`, {
      token: c.token,
    });
    expect(window.body.items?.map((e) => e.amount)).toEqual(['2.00']);
    const offset = await api(
      'GET',
      `/accounts/${account}/history?from=${encodeURIComponent('2000-01-01T01:00:00+01:00')}`,
      {
        token: c.token,
      },
    );
    expect(offset.body.items).toHaveLength(3);
    const bad = await api('GET', `/accounts/${account}/history?from=yesterday`, { token: c.token });
    expect([bad.status, bad.body.code]).toEqual([400, 'VALIDATION_FAILED']);

    const byAccount = await api('GET', `/audit-logs?accountNo=${account}&action=accounts.deposit`, {
      token: adminToken,
    });
    expect(byAccount.body.items?.map((e) => (e.details as { amount: string }).amount)).toEqual([
      '3.00',
      '2.00',
      '1.00',
    ]);
    const auditWindow = await api(
      'GET',
      `/audit-logs?accountNo=${account}&action=accounts.deposit&from=${second}&to=${third}`,
      { token: adminToken },
    );
    // An event is written in the same transaction as its entry, a moment after it.
    expect(auditWindow.body.items?.map((e) => (e.details as { amount: string }).amount)).toEqual(['2.00']);
  });
});

describe('TOTP management', () => {
  it('POST /me/totp/disable needs the password and a code; an admin resets another user’s, never their own', async () => {
    const c = await person('customer');
    const secret = await enrol(c);
    const wrongPassword = await api('POST', '/me/totp/disable', {
      token: c.token,
      body: { otp: codeOf(secret), password: NEW_PASSWORD },
    });
    expect([wrongPassword.status, wrongPassword.body.code]).toEqual([401, 'UNAUTHENTICATED']);
    const wrongCode = await api('POST', '/me/totp/disable', {
      token: c.token,
      body: { otp: codeOf(secret, 20), password: PASSWORD },
    });
    expect([wrongCode.status, wrongCode.body.code]).toEqual([403, 'INVALID_OTP']);
    const off = await api('POST', '/me/totp/disable', {
      token: c.token,
      body: { otp: codeOf(secret), password: PASSWORD },
    });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ id: c.id, totpEnabled: false });
    expect(
      (await s.call('POST', '/auth/login', { body: { username: c.username, password: PASSWORD } })).status,
    ).toBe(200);

    await enrol(c);
    const self = await api('POST', `/users/${adminId}/totp/reset`, {
      token: adminToken,
      body: { reason: 'self' },
    });
    expect([self.status, self.body.code]).toEqual([403, 'FORBIDDEN']);
    const byTeller = await api('POST', `/users/${c.id}/totp/reset`, {
      token: tellerToken,
      body: { reason: 'x' },
    });
    expect([byTeller.status, byTeller.body.code]).toEqual([403, 'FORBIDDEN']);
    const reset = await api('POST', `/users/${c.id}/totp/reset`, {
      token: adminToken,
      body: { reason: 'lost phone' },
    });
    expect(reset.status).toBe(200);
    expect(reset.body).toMatchObject({ id: c.id, totpEnabled: false });
    expect(reset.event).toEqual({
      action: 'users.totp.reset',
      outcome: 'success',
      details: { userId: c.id, username: c.username, reason: 'lost phone' },
    });
    expect(
      (await s.call('POST', '/auth/login', { body: { username: c.username, password: PASSWORD } })).status,
    ).toBe(200);
    expect(tellerId).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('the OpenAPI document', () => {
  it('carries every v1.1 route with its body, parameters and the error codes API.md gives it', async () => {
    const res = await s.call('GET', '/openapi.json');
    expect(res.status).toBe(200);
    const paths = res.body.paths as Record<string, Record<string, Record<string, unknown>>>;
    const codesOf = (method: string, path: string, status: string): unknown => {
      const responses = paths[path]?.[method]?.responses as
        | Record<string, Record<string, unknown>>
        | undefined;
      return responses?.[status]?.['x-codes'];
    };
    const operations: Array<[string, string, string]> = [
      ['post', '/me/password', 'me.password'],
      ['post', '/users/{userId}/password', 'users.password'],
      ['post', '/users/{userId}/disable', 'users.disable'],
      ['post', '/users/{userId}/enable', 'users.enable'],
      ['post', '/accounts/{accountNo}/pin', 'accounts.pin'],
      ['get', '/transfers/{transferId}', 'transfers.get'],
      ['post', '/me/totp', 'me.totp.enrol'],
      ['post', '/me/totp/confirm', 'me.totp.confirm'],
      ['post', '/me/totp/disable', 'me.totp.disable'],
      ['post', '/users/{userId}/totp/reset', 'users.totp.reset'],
    ];
    for (const [method, path, id] of operations) {
      expect(paths[path]?.[method]?.operationId, `${method} ${path}`).toBe(id);
    }
    // Step-up: 403 names STEP_UP_REQUIRED and INVALID_OTP where a code may be asked for.
    for (const [method, path] of [
      ['post', '/accounts/{accountNo}/deposit'],
      ['post', '/accounts/{accountNo}/withdraw'],
      ['post', '/transfers'],
      ['post', '/me/password'],
      ['post', '/accounts/{accountNo}/pin'],
      ['post', '/users'],
    ] as const) {
      expect(codesOf(method, path, '403'), `${method} ${path}`).toEqual(
        expect.arrayContaining(['STEP_UP_REQUIRED', 'INVALID_OTP']),
      );
      expect(codesOf(method, path, '429'), `${method} ${path}`).toEqual(['RATE_LIMITED']);
    }
    expect([...((codesOf('post', '/auth/login', '401') as string[] | undefined) ?? [])].sort()).toEqual([
      'OTP_REQUIRED',
      'UNAUTHENTICATED',
    ]);
    const errorCodes = res.body['x-error-codes'] as Record<string, number>;
    expect(errorCodes).toMatchObject({ OTP_REQUIRED: 401, STEP_UP_REQUIRED: 403, INVALID_OTP: 403 });
    // The bodies with otp, and the user shape with its two new members.
    // A request body is a named schema: follow its $ref into components.schemas.
    const components = (res.body.components as { schemas: Record<string, unknown> }).schemas;
    const schemaOf = (method: string, path: string) => {
      const body = JSON.stringify(paths[path]?.[method]?.requestBody ?? {});
      const ref = /"#\/components\/schemas\/(\w+)"/.exec(body)?.[1];
      return ref ? `${body}${JSON.stringify(components[ref])}` : body;
    };
    for (const [method, path] of [
      ['post', '/auth/login'],
      ['post', '/users'],
      ['post', '/accounts/{accountNo}/deposit'],
      ['post', '/transfers'],
      ['post', '/me/password'],
      ['post', '/accounts/{accountNo}/pin'],
    ] as const) {
      expect(schemaOf(method, path), `${method} ${path}`).toContain('"otp"');
    }
    const me = JSON.stringify(components.User);
    expect(me).toContain('"disabled"');
    expect(me).toContain('"totpEnabled"');
    const parameterNames = (path: string): string[] =>
      ((paths[path]?.get?.parameters ?? []) as Array<{ name: string }>).map((p) => p.name);
    const history = parameterNames('/accounts/{accountNo}/history');
    expect(history).toEqual(expect.arrayContaining(['from', 'to']));
    const audit = parameterNames('/audit-logs');
    expect(audit).toEqual(expect.arrayContaining(['from', 'to', 'accountNo']));
    const users = parameterNames('/users');
    expect(users).toEqual(expect.arrayContaining(['query', 'role']));
  });
});
