import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiResponse, query, startTestStack, type TestStack } from '../helpers/stack';

/*
 * Sessions (API.md "v1.1 additions: Sessions and credentials"): a login opens a session named by
 * the token's `sid`; the database checks it on every call, so a token of an ended or expired
 * session is refused at once (401), even one this function already verified and cached.
 * POST /auth/refresh gives a new token of the same session; POST /auth/logout ends it.
 */

const PASSWORD = 'sessions-password-1';
let stack: TestStack;

const unique = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`;

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

async function eventsOf(
  response: ApiResponse,
): Promise<Array<{ actor: string; action: string; outcome: string }>> {
  return query(stack.db, 'SELECT actor, action, outcome FROM audit_logs WHERE request_id = $1', [
    response.headers.get('x-request-id'),
  ]);
}

function expectUnauthenticated(response: ApiResponse): void {
  expect(response.status).toBe(401);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.body).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
}

async function newUser(role: 'customer' | 'teller' | 'admin'): Promise<{ username: string; id: string }> {
  const username = unique(role.slice(0, 4));
  return { username, id: await stack.createUser(username, PASSWORD, role) };
}

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.close();
});

describe('POST /auth/login', () => {
  it('opens a session: the token carries sid, the database keeps only its SHA-256, 8 hours long', async () => {
    // Prepare
    const user = await newUser('customer');
    // Act
    const response = await stack.call('POST', '/auth/login', {
      body: { username: user.username, password: PASSWORD },
    });
    // Assess
    expect(response.status).toBe(200);
    const sid = claimsOf(String(response.body.accessToken)).sid;
    expect(sid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const rows = await query<{ role: string; life: string; ended: boolean; matches: boolean }>(
      stack.db,
      `SELECT role, (expires_at - created_at)::text AS life, ended_at IS NOT NULL AS ended,
              id_hash = sha256(convert_to($2, 'UTF8')) AS matches
         FROM sessions WHERE user_id = $1`,
      [user.id, sid],
    );
    expect(rows).toEqual([{ role: 'customer', life: '08:00:00', ended: false, matches: true }]);
    expect(await eventsOf(response)).toEqual([
      { actor: user.username, action: 'auth.login', outcome: 'success' },
    ]);
  });

  it('records the source IP the gateway saw, not one the client claims', async () => {
    const user = await newUser('customer');
    await stack.call('POST', '/auth/login', {
      body: { username: user.username, password: 'not-the-password' },
      headers: { 'x-forwarded-for': '198.51.100.7' },
    });
    const attempts = await query<{ ip: string; succeeded: boolean }>(
      stack.db,
      'SELECT ip, succeeded FROM login_attempts WHERE username = $1',
      [user.username],
    );
    expect(attempts).toEqual([{ ip: '127.0.0.1', succeeded: false }]);
  });
});

describe('POST /auth/refresh', () => {
  it('answers like a login: a new token of the same session, one audit event', async () => {
    // Prepare
    const user = await newUser('teller');
    const token = await stack.login(user.username, PASSWORD);
    // Act
    const response = await stack.call('POST', '/auth/refresh', { token, body: {} });
    // Assess
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      accessToken: expect.any(String),
      tokenType: 'Bearer',
      expiresIn: 900,
      user: {
        id: user.id,
        username: user.username,
        role: 'teller',
        createdAt: expect.any(String),
        disabled: false,
        totpEnabled: false,
      },
    });
    const fresh = String(response.body.accessToken);
    expect(fresh).not.toBe(token);
    expect(claimsOf(fresh).sid).toBe(claimsOf(token).sid);
    expect((await stack.call('GET', '/me', { token: fresh })).status).toBe(200);
    expect(await eventsOf(response)).toEqual([
      { actor: user.username, action: 'auth.refresh', outcome: 'success' },
    ]);
  });

  it('is 400 for a body with members, 401 without a token', async () => {
    const user = await newUser('customer');
    const token = await stack.login(user.username, PASSWORD);
    const extra = await stack.call('POST', '/auth/refresh', { token, body: { sid: 'mine' } });
    expect(extra.status).toBe(400);
    expect(extra.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await eventsOf(extra)).toEqual([
      { actor: user.username, action: 'auth.refresh', outcome: 'failed' },
    ]);
    const anonymous = await stack.call('POST', '/auth/refresh', { body: {} });
    expectUnauthenticated(anonymous);
    expect(await eventsOf(anonymous)).toEqual([
      { actor: 'anonymous', action: 'auth.refresh', outcome: 'denied' },
    ]);
  });
});

describe('POST /auth/logout', () => {
  it('ends this session: 204, then every token of it is refused, cached ones included; other sessions live on', async () => {
    // Prepare: two sessions of one user; the first one's token used (and so cached) once.
    const user = await newUser('customer');
    const token = await stack.login(user.username, PASSWORD);
    const other = await stack.login(user.username, PASSWORD);
    expect((await stack.call('GET', '/me', { token })).status).toBe(200);
    const refreshed = await stack.call('POST', '/auth/refresh', { token, body: {} });
    const sibling = String(refreshed.body.accessToken);
    // Act
    const response = await stack.call('POST', '/auth/logout', { token, body: {} });
    // Assess
    expect(response.status).toBe(204);
    expect(response.text).toBe('');
    expect(await eventsOf(response)).toEqual([
      { actor: user.username, action: 'auth.logout', outcome: 'success' },
    ]);
    for (const t of [token, sibling]) {
      const me = await stack.call('GET', '/me', { token: t });
      expectUnauthenticated(me);
      expect(await eventsOf(me)).toEqual([{ actor: user.username, action: 'me.get', outcome: 'denied' }]);
      expectUnauthenticated(await stack.call('POST', '/auth/refresh', { token: t, body: {} }));
      expectUnauthenticated(await stack.call('POST', '/auth/logout', { token: t, body: {} }));
    }
    expect((await stack.call('GET', '/me', { token: other })).status).toBe(200);
  });

  it('refuses a money movement with a token of an ended session, and moves nothing', async () => {
    // Prepare
    const teller = await newUser('teller');
    const tellerToken = await stack.login(teller.username, PASSWORD);
    const owner = await newUser('customer');
    const account = await stack.call('POST', '/accounts', {
      token: tellerToken,
      body: { ownerId: owner.id, name: 'Session test', pin: '4826' },
    });
    const accountNo = String(account.body.accountNo);
    expect(
      (
        await stack.call('POST', `/accounts/${accountNo}/deposit`, {
          token: tellerToken,
          body: { amount: '5.00' },
        })
      ).status,
    ).toBe(200);
    expect((await stack.call('POST', '/auth/logout', { token: tellerToken, body: {} })).status).toBe(204);
    // Act
    const deposit = await stack.call('POST', `/accounts/${accountNo}/deposit`, {
      token: tellerToken,
      body: { amount: '1000.00' },
    });
    // Assess
    expectUnauthenticated(deposit);
    const balance = await query<{ balance_minor: string }>(
      stack.db,
      'SELECT balance_minor::text FROM accounts WHERE account_no = $1',
      [accountNo],
    );
    expect(balance).toEqual([{ balance_minor: '500' }]);
  });

  it('refuses a token of an expired session (past its 8 hours) before its own exp', async () => {
    const user = await newUser('admin');
    const token = await stack.login(user.username, PASSWORD);
    expect((await stack.call('GET', '/me', { token })).status).toBe(200);
    await query(
      stack.db,
      `UPDATE sessions SET created_at = now() - interval '8 hours 1 minute', expires_at = now() - interval '1 minute'
        WHERE user_id = $1`,
      [user.id],
    );
    expectUnauthenticated(await stack.call('GET', '/me', { token }));
    expectUnauthenticated(await stack.call('POST', '/auth/refresh', { token, body: {} }));
  });
});
