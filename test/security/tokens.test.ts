import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiResponse, query, startTestStack, type TestStack } from '../helpers/stack';

/*
 * Bearer tokens (API.md: 401 UNAUTHENTICATED for a missing, malformed, expired or wrongly signed
 * token; DESIGN.md: jose, explicit algorithm allow-list, iss, aud, exp, 15-minute life). The
 * gateway runs the handlers in this process, so the stack's HS256 key is in process.env and the
 * test can mint tokens that are wrong in exactly one way.
 */

const PASSWORD = 'tokens-password-1';
const DEFAULT_ISSUER = 'https://bank.local/';
const DEFAULT_AUDIENCE = 'bank-api';

let stack: TestStack;
let customer: { id: string; username: string; token: string; sid: string };
let key: Uint8Array;
let issuer: string;
let audience: string;

const now = (): number => Math.floor(Date.now() / 1000);
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

interface MintOptions {
  readonly alg?: string;
  readonly secret?: Uint8Array;
  readonly claims?: Record<string, unknown>;
  readonly sub?: string | null;
  readonly iss?: string;
  readonly aud?: string;
  readonly iat?: number;
  readonly exp?: number;
}

/** A token like the API's own, except for what the options change. */
function mint(options: MintOptions = {}): Promise<string> {
  const jwt = new SignJWT({
    username: customer.username,
    role: 'customer',
    sid: customer.sid,
    ...options.claims,
  })
    .setProtectedHeader({ alg: options.alg ?? 'HS256', typ: 'JWT' })
    .setIssuer(options.iss ?? issuer)
    .setAudience(options.aud ?? audience)
    .setIssuedAt(options.iat ?? now())
    .setExpirationTime(options.exp ?? now() + 600)
    .setJti(randomUUID());
  if (options.sub !== null) jwt.setSubject(options.sub ?? customer.id);
  return jwt.sign(options.secret ?? key);
}

function me(authorization: string | undefined): Promise<ApiResponse> {
  return stack.call('GET', '/me', authorization === undefined ? {} : { headers: { authorization } });
}

/** 401 UNAUTHENTICATED as problem+json, nothing internal in it, and one 'denied' audit event. */
async function expectUnauthenticated(response: ApiResponse): Promise<void> {
  const requestId = response.headers.get('x-request-id');
  expect(response.status).toBe(401);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.body).toEqual({
    type: expect.any(String),
    title: expect.any(String),
    status: 401,
    detail: expect.any(String),
    code: 'UNAUTHENTICATED',
    requestId,
  });
  expect(response.text).not.toMatch(
    /\bat \S+\.(ts|js):\d+|stack|SELECT|bank_[a-z]|postgres|JWS|JWT[A-Z]|jose/i,
  );
  const events = await query<{ action: string; outcome: string }>(
    stack.db,
    'SELECT action, outcome FROM audit_logs WHERE request_id = $1',
    [requestId],
  );
  expect(events).toEqual([{ action: 'me.get', outcome: 'denied' }]);
}

beforeAll(async () => {
  stack = await startTestStack();
  const username = `tok-${randomBytes(4).toString('hex')}`;
  const id = await stack.createUser(username, PASSWORD, 'customer');
  const token = await stack.login(username, PASSWORD);
  const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
    sid?: unknown;
  };
  if (typeof claims.sid !== 'string') throw new Error('the login token carries no sid');
  customer = { id, username, token, sid: claims.sid };
  const secret = process.env.BANK_JWT_SECRET;
  if (!secret) throw new Error('BANK_JWT_SECRET is not set after startTestStack');
  key = new TextEncoder().encode(secret);
  issuer = process.env.BANK_JWT_ISSUER ?? DEFAULT_ISSUER;
  audience = process.env.BANK_JWT_AUDIENCE ?? DEFAULT_AUDIENCE;
});

afterAll(async () => {
  await stack?.close();
});

describe('GET /me with a valid token', () => {
  it("accepts the token from POST /auth/login and answers the token's user", async () => {
    const response = await me(`Bearer ${customer.token}`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      id: customer.id,
      username: customer.username,
      role: 'customer',
      createdAt: expect.any(String),
      disabled: false,
      totpEnabled: false,
    });
  });

  it('accepts a token minted here with the stack key (so the refusals below are for one flaw each)', async () => {
    const response = await me(`Bearer ${await mint()}`);
    expect(response.status).toBe(200);
    expect(response.body.id).toBe(customer.id);
  });
});

describe('GET /me refuses with 401 UNAUTHENTICATED', () => {
  it('an alg "none" token', async () => {
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({
      sub: customer.id,
      username: customer.username,
      role: 'admin',
      iss: issuer,
      aud: audience,
      iat: now(),
      exp: now() + 600,
    })}.`;
    await expectUnauthenticated(await me(`Bearer ${unsigned}`));
  });

  it('a real token whose claims were changed (role → admin) under the original signature', async () => {
    const [header, payload, signature] = customer.token.split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    expect(claims.role).toBe('customer');
    const tampered = `${header}.${b64({ ...claims, role: 'admin' })}.${signature}`;
    await expectUnauthenticated(await me(`Bearer ${tampered}`));
  });

  it('a token signed with a foreign key', async () => {
    await expectUnauthenticated(await me(`Bearer ${await mint({ secret: randomBytes(48) })}`));
  });

  it('an expired token', async () => {
    await expectUnauthenticated(await me(`Bearer ${await mint({ iat: now() - 1800, exp: now() - 900 })}`));
  });

  it('a token issued more than 15 minutes ago, even with a later exp', async () => {
    await expectUnauthenticated(await me(`Bearer ${await mint({ iat: now() - 1200, exp: now() + 600 })}`));
  });

  it('a token from another issuer', async () => {
    await expectUnauthenticated(await me(`Bearer ${await mint({ iss: 'https://evil.example/' })}`));
  });

  it('a token for another audience', async () => {
    await expectUnauthenticated(await me(`Bearer ${await mint({ aud: 'another-api' })}`));
  });

  it('a token signed with HS512 and the right key (algorithm not allowed)', async () => {
    await expectUnauthenticated(await me(`Bearer ${await mint({ alg: 'HS512' })}`));
  });

  it('a token without sub', async () => {
    await expectUnauthenticated(await me(`Bearer ${await mint({ sub: null })}`));
  });

  it('a correctly signed token without a session id, or naming a session that does not exist', async () => {
    await expectUnauthenticated(await me(`Bearer ${await mint({ claims: { sid: undefined } })}`));
    await expectUnauthenticated(
      await me(`Bearer ${await mint({ claims: { sid: randomBytes(32).toString('base64url') } })}`),
    );
  });

  it('a correctly signed token whose sub names another user: the session alone says who acts', async () => {
    // Even with the signing key, a token acts only as its session's user (the database never
    // reads sub), so a leaked key without a live session id impersonates nobody.
    const response = await me(`Bearer ${await mint({ sub: randomUUID() })}`);
    expect(response.status).toBe(200);
    expect(response.body.id).toBe(customer.id);
  });

  it("a correctly signed token whose role is not the user's role (the database checks it)", async () => {
    await expectUnauthenticated(await me(`Bearer ${await mint({ claims: { role: 'teller' } })}`));
  });

  it.each([
    ['no Authorization header', undefined],
    ['garbage', 'Bearer garbage'],
    ['three garbage segments', 'Bearer abc.def.ghi'],
    ['"Bearer " without a token', 'Bearer '],
    ['"Bearer" alone', 'Bearer'],
    ['the Basic scheme', `Basic ${Buffer.from('someone:some-password').toString('base64')}`],
    ['a token without a scheme', 'eyJhbGciOiJIUzI1NiJ9.e30.c2ln'],
  ])('%s', async (_label, authorization) => {
    await expectUnauthenticated(await me(authorization));
  });

  it('a token longer than any the API issues', async () => {
    const long = await mint({ claims: { padding: 'x'.repeat(6000) } });
    await expectUnauthenticated(await me(`Bearer ${long}`));
  });
});
