import http from 'node:http';
import bcrypt from 'bcryptjs';
import * as fc from 'fast-check';
import { SignJWT } from 'jose';
import type pg from 'pg';
import { luhnCheckDigit } from '../../shared/account-no';
import { formatMinor } from '../../shared/money';
import { OpenApiValidator, type OperationSpec } from './openapi-validator';

/**
 * Fuzzing the whole API from its OpenAPI document: fast-check generates requests (valid and
 * invalid bodies, paths, queries, headers; real tokens of each role and forged, expired and
 * garbage ones; random Idempotency-Keys), they go through the real gateway and handlers, and
 * every answer is held to the contract: never a 5xx, nothing leaked, valid against the document,
 * and exactly one audit event per request to a route.
 *
 * The fuzzer keeps its principals (an admin, a teller, two customers) alive so that success
 * paths stay reachable for the whole run: a logout with a principal's token goes out on a
 * throwaway session of that principal; the destructive user routes aim at throwaway users; a
 * principal whose session was ended anyway (a refused token, a password set) logs in again; and
 * every few hundred requests its accounts are unlocked, topped up and given their PINs back.
 * That upkeep comes from another loopback address than the fuzzed traffic, so the per-IP login
 * limit that the fuzzed logins may reach never locks the principals out.
 */
/** Operations whose 401 judges a credential in the body (a password, a login), not the token. */
const credentialChecks: ReadonlySet<string> = new Set(['auth.login', 'me.password', 'me.totp.disable']);

export interface FuzzTarget {
  readonly url: string;
  /** The key the local stack signs tokens with (to make expired and wrongly aimed ones). */
  readonly jwtSecret: string;
  readonly adminUsername: string;
  readonly adminPassword: string;
  /** A superuser connection to the bank database, for the audit check. */
  readonly db: () => pg.Client;
}

export interface FuzzOptions {
  readonly seed: number;
  readonly requests: number;
  readonly concurrency: number;
  readonly log: (line: string) => void;
  /** Called before request `index` goes out (tests: to end the principals' sessions behind their back). */
  readonly beforeRequest?: (index: number) => Promise<void>;
}

export interface FuzzReport {
  readonly seed: number;
  readonly requests: number;
  readonly byStatus: Record<string, number>;
  readonly byOperation: Record<string, number>;
  /** Each operation's answers by status, e.g. `{ "transfers.create": { "201": 40, "403": 12 } }`. */
  readonly byOperationStatus: Record<string, Record<string, number>>;
  readonly tokenKinds: Record<string, number>;
  readonly findings: string[];
  readonly counts: {
    readonly connectionResetsRetried: number;
    readonly serverErrors: number;
    readonly leaks: number;
    readonly invalidResponses: number;
    readonly auditMismatches: number;
    readonly routed: number;
  };
  /** How the principals were kept alive (not the API's findings). */
  readonly keeper: {
    readonly throwawaySessions: number;
    readonly sessionsRenewed: number;
    readonly tokensRefreshed: number;
    readonly loginsRefused: number;
    readonly unlocks: number;
    readonly topUps: number;
    readonly pinResets: number;
  };
  /** Requests sent with a principal's token, and how many were answered 401 where only the token is judged. */
  readonly principalRequests: number;
  readonly principalUnauthenticated: number;
  /** What the upkeep could not do (a refused re-login, an unlock that failed): coverage lost, not a finding. */
  readonly keeperProblems: string[];
}

/**
 * A path parameter known only at run time (a throwaway user, an approval or a transfer made by an
 * earlier request, the caller's own id), picked by its index when the request goes out, so that
 * the generated sequence stays the seed's.
 */
interface Ref {
  readonly ref: 'victim' | 'self' | 'principal' | 'approval' | 'transfer';
  readonly n: number;
}
/** Literal parts are already percent-encoded. */
type PathPart = string | Ref;

type PrincipalName = 'admin' | 'teller' | 'customer' | 'customer2';
const principalNames: readonly PrincipalName[] = ['admin', 'teller', 'customer', 'customer2'];
const isPrincipalName = (name: string): name is PrincipalName =>
  (principalNames as readonly string[]).includes(name);

interface FuzzRequest {
  readonly method: string;
  readonly path: readonly PathPart[];
  readonly query: string;
  readonly token: string;
  readonly contentType: string | undefined;
  readonly idempotencyKey: string | undefined;
  readonly body: string | undefined;
}

const leakPatterns: readonly [string, RegExp][] = [
  ['stack trace', /\bat .*\.(ts|js|mjs):\d+/],
  ['stack frame', /\n\s+at \S+ \(/],
  ['bcrypt hash', /\$2[aby]\$\d\d\$/],
  ['long hex', /\b[0-9a-f]{40,}\b/i],
];
/** Only in refusals and errors: a success may echo a memo that says anything. */
const errorLeakPatterns: readonly [string, RegExp][] = [
  ['SQL text', /\b(select|insert|update|delete)\b[\s\S]{0,80}\b(from|into|set|where)\b/i],
  ['SQL error', /syntax error|relation "|column "|violates|pl\/pgsql|\bpg_[a-z_]+|bank:[A-Z_]+|SQLSTATE/i],
  ['internal name', /DatabaseCallError|DatabaseErrorException|BadRequestException|TypeError|ReferenceError/],
];

function luhnComplete(first11: string): string {
  return `${first11}${luhnCheckDigit(first11)}`;
}

interface Pools {
  /** The token kinds to draw from: the principals' first, then the forged ones. */
  readonly tokenKinds: readonly string[];
  readonly accountNos: readonly string[];
  readonly userIds: readonly string[];
  readonly usernames: readonly string[];
  readonly pins: readonly string[];
  readonly password: string;
}

/** Undefined nine times in ten: an unknown member or parameter, now and then (fc.option's freq is the reverse). */
const rare = <T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });

const cents = (min: number, max: number): fc.Arbitrary<string> =>
  fc.integer({ min, max }).map((c) => formatMinor(BigInt(c)));

function arbitraries(validator: OpenApiValidator, pools: Pools) {
  const text = fc.oneof(
    fc.string({ maxLength: 90 }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.constantFrom(
      "'; DROP TABLE accounts; --",
      'SELECT * FROM users WHERE 1=1',
      '%s%n%x',
      '\u0000',
      '../../etc/passwd',
      '<script>alert(1)</script>',
      `\${jndi:ldap://x}`,
      'x'.repeat(81),
      'x'.repeat(201),
      '',
      ' ',
    ),
  );
  const accountNo = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...pools.accountNos) },
    { weight: 2, arbitrary: fc.stringMatching(/^[0-9]{11}$/).map(luhnComplete) },
    { weight: 1, arbitrary: fc.stringMatching(/^[0-9]{12}$/) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('000000000000', '999999999999', '-1', '0', '1e11', '4000000000024'),
    },
    { weight: 1, arbitrary: text },
  );
  const money = fc.oneof(
    { weight: 5, arbitrary: cents(1, 50_000) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '0',
        '0.00',
        '-1.00',
        '1e3',
        '1000000000.00',
        '1000000000.01',
        '0.001',
        ' 1',
        '01',
        '9999999999999.99',
        '1.5',
        'NaN',
      ),
    },
    { weight: 1, arbitrary: fc.oneof(fc.double(), fc.integer(), fc.bigInt().map(String), text) },
  );
  const pin = fc.oneof(
    fc.constantFrom(...pools.pins),
    fc.stringMatching(/^[0-9]{4,6}$/),
    fc.constantFrom('1111', '1234', '4321', '12345678'),
    text,
  );
  const uuid = fc.oneof(fc.constantFrom(...pools.userIds), fc.uuid(), text);
  const otp = fc.oneof(fc.stringMatching(/^[0-9]{6}$/), fc.integer({ min: 0, max: 999_999 }), text);
  const field: Record<string, fc.Arbitrary<unknown>> = {
    amount: money,
    pin,
    currentPin: pin,
    newPin: pin,
    memo: text,
    name: text,
    reason: text,
    username: fc.oneof(fc.constantFrom(...pools.usernames), fc.stringMatching(/^[a-z0-9._-]{3,32}$/), text),
    password: fc.oneof(fc.constant(pools.password), fc.string({ minLength: 8, maxLength: 140 }), text),
    role: fc.constantFrom('customer', 'teller', 'admin', 'superuser', 'ADMIN', ''),
    ownerId: uuid,
    fromAccountNo: accountNo,
    toAccountNo: accountNo,
    otp,
    currentPassword: fc.oneof(fc.constant(pools.password), text),
    newPassword: fc.oneof(fc.string({ minLength: 8, maxLength: 140 }), text),
  };
  // Values that pass the schema, so that many requests get past validation to the operations.
  const label = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 .,'-]{0,39}$/);
  const validField: Record<string, fc.Arbitrary<unknown>> = {
    // Mostly small; now and then at the customers' step-up amount, or at the tellers' approval
    // amount (a pending approval that the approvals routes then find).
    amount: fc.oneof(
      { weight: 8, arbitrary: cents(1, 20_000) },
      { weight: 1, arbitrary: cents(100_000, 499_999) },
      { weight: 1, arbitrary: cents(5_000_000, 6_000_000) },
    ),
    pin: fc.constantFrom(...pools.pins),
    currentPin: fc.constantFrom(...pools.pins),
    // A PIN set by a teller or an admin stays one the customers know.
    newPin: fc.constantFrom(...pools.pins),
    memo: label,
    name: label,
    reason: label,
    username: fc.oneof(fc.constantFrom(...pools.usernames), fc.stringMatching(/^[a-z0-9._-]{3,32}$/)),
    password: fc.oneof(fc.constant(pools.password), fc.stringMatching(/^[ -~]{10,40}$/)),
    role: fc.constantFrom('customer', 'teller', 'admin'),
    ownerId: fc.constantFrom(...pools.userIds),
    fromAccountNo: fc.constantFrom(...pools.accountNos),
    toAccountNo: fc.constantFrom(...pools.accountNos),
    otp: fc.stringMatching(/^[0-9]{6}$/),
    currentPassword: fc.constant(pools.password),
    newPassword: fc.stringMatching(/^[ -~]{10,40}$/),
  };
  const valueFor = (name: string): fc.Arbitrary<unknown> =>
    fc.oneof(
      { weight: 8, arbitrary: validField[name] ?? fc.jsonValue() },
      { weight: 3, arbitrary: field[name] ?? fc.jsonValue() },
      { weight: 1, arbitrary: fc.jsonValue() },
    );

  const bodyFor = (op: OperationSpec | undefined): fc.Arbitrary<string | undefined> => {
    const properties = (op?.requestSchema?.properties ?? {}) as Record<string, unknown>;
    const required = new Set((op?.requestSchema?.required ?? []) as string[]);
    const names = Object.keys(properties);
    const shaped = fc
      .tuple(
        ...names.map((name) =>
          fc.option(valueFor(name), { freq: required.has(name) ? 12 : 2, nil: undefined }),
        ),
        rare(fc.tuple(fc.string({ maxLength: 12 }), fc.jsonValue())),
      )
      .map((values) => {
        const out: Record<string, unknown> = {};
        names.forEach((name, i) => {
          const value = values[i];
          if (value !== undefined) out[name] = value;
        });
        const extra = values[names.length] as [string, unknown] | undefined;
        if (extra) out[extra[0]] = extra[1];
        return JSON.stringify(out);
      });
    return fc.oneof(
      { weight: 12, arbitrary: shaped },
      { weight: 2, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
      { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          undefined,
          '',
          '{',
          '{"amount": 1e400}',
          'null',
          '[]',
          '{"__proto__": {"x": 1}}',
        ),
      },
    );
  };

  const instant = fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .date({
          min: new Date('2020-01-01T00:00:00Z'),
          max: new Date('2035-01-01T00:00:00Z'),
          noInvalidDate: true,
        })
        .map((d) => d.toISOString()),
    },
    { weight: 1, arbitrary: fc.constantFrom('2026-13-01T00:00:00Z', '2026-01-01', 'yesterday', '0', '') },
  );
  const queryFor = (op: OperationSpec | undefined): fc.Arbitrary<string> => {
    const params = (op?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
    const queryValue: Record<string, fc.Arbitrary<string>> = {
      limit: fc.oneof(
        fc.constantFrom('1', '20', '100', '0', '101', '-1', '1.5', 'abc', '999999999999', ''),
        fc.integer().map(String),
      ),
      cursor: fc.oneof(
        fc.string({ maxLength: 70 }),
        fc.integer({ min: 1, max: 10_000 }).map((n) => Buffer.from(`v1:${n}`).toString('base64url')),
        fc.constantFrom(
          Buffer.from('v1:99999999999999999999').toString('base64url'),
          Buffer.from('v2:1').toString('base64url'),
        ),
      ),
      ownerId: uuid.map(String),
      actor: fc.oneof(fc.constantFrom(...pools.usernames, 'anonymous'), fc.string({ maxLength: 70 })),
      action: fc.oneof(fc.constantFrom('accounts.deposit', 'auth.login', 'x'), fc.string({ maxLength: 50 })),
      outcome: fc.constantFrom('success', 'denied', 'failed', 'other', ''),
      status: fc.constantFrom('pending', 'approved', 'rejected', 'expired', 'other', ''),
      role: fc.constantFrom('customer', 'teller', 'admin', 'superuser', ''),
      query: fc.oneof(fc.constantFrom('fz', 'fz-c', 'adm', 'a', ''), fc.string({ maxLength: 40 })),
      accountNo: accountNo.map(String),
      from: instant,
      to: instant,
    };
    return fc
      .tuple(
        ...params.map((name) =>
          fc.option(queryValue[name] ?? fc.string({ maxLength: 20 }), { freq: 2, nil: undefined }),
        ),
        rare(fc.tuple(fc.string({ minLength: 1, maxLength: 10 }), fc.string({ maxLength: 10 }))),
      )
      .map((values) => {
        const pairs: string[] = [];
        params.forEach((name, i) => {
          const v = values[i];
          if (typeof v === 'string') pairs.push(`${encodeURIComponent(name)}=${encodeURIComponent(v)}`);
        });
        const extra = values[params.length] as [string, string] | undefined;
        if (extra) pairs.push(`${encodeURIComponent(extra[0])}=${encodeURIComponent(extra[1])}`);
        return pairs.length > 0 ? `?${pairs.join('&')}` : '';
      });
  };

  const ref = (kind: Ref['ref']): fc.Arbitrary<PathPart> =>
    fc.nat({ max: 9999 }).map((n) => ({ ref: kind, n }));
  const encoded = (arbitrary: fc.Arbitrary<unknown>): fc.Arbitrary<PathPart> =>
    arbitrary.map((v) => encodeURIComponent(String(v)));
  const someId = encoded(fc.oneof(fc.uuid(), text));
  // Known ids four times in five. The destructive user routes aim at throwaway users (and at the
  // caller itself where that is refused), never at a principal; the harmless ones at principals too.
  const userIdFor: Record<string, fc.Arbitrary<PathPart>> = {
    'users.password': fc.oneof({ weight: 4, arbitrary: ref('victim') }, { weight: 1, arbitrary: someId }),
    'users.disable': fc.oneof(
      { weight: 3, arbitrary: ref('victim') },
      { weight: 1, arbitrary: ref('self') },
      { weight: 1, arbitrary: someId },
    ),
    'users.enable': fc.oneof(
      { weight: 3, arbitrary: ref('victim') },
      { weight: 1, arbitrary: ref('principal') },
      { weight: 1, arbitrary: someId },
    ),
    'users.totp.reset': fc.oneof(
      { weight: 2, arbitrary: ref('victim') },
      { weight: 1, arbitrary: ref('self') },
      { weight: 1, arbitrary: ref('principal') },
      { weight: 1, arbitrary: someId },
    ),
  };
  const wellFormedUserId: Record<string, fc.Arbitrary<PathPart>> = {
    'users.disable': fc.oneof({ weight: 4, arbitrary: ref('victim') }, { weight: 1, arbitrary: ref('self') }),
    'users.enable': fc.oneof(
      { weight: 3, arbitrary: ref('victim') },
      { weight: 1, arbitrary: ref('principal') },
    ),
    'users.totp.reset': fc.oneof(
      { weight: 2, arbitrary: ref('victim') },
      { weight: 1, arbitrary: ref('self') },
      { weight: 1, arbitrary: ref('principal') },
    ),
  };
  const paramFor = (op: OperationSpec, name: string, wellFormed: boolean): fc.Arbitrary<PathPart> => {
    if (wellFormed) {
      if (name === 'accountNo') return fc.constantFrom(...pools.accountNos);
      if (name === 'userId') return wellFormedUserId[op.operationId] ?? ref('victim');
      if (name === 'approvalId') return ref('approval');
      if (name === 'transferId') return ref('transfer');
    }
    if (name === 'accountNo') return encoded(accountNo);
    if (name === 'userId') return userIdFor[op.operationId] ?? someId;
    if (name === 'approvalId')
      return fc.oneof({ weight: 4, arbitrary: ref('approval') }, { weight: 1, arbitrary: someId });
    if (name === 'transferId')
      return fc.oneof({ weight: 4, arbitrary: ref('transfer') }, { weight: 1, arbitrary: someId });
    return encoded(text);
  };

  const pathFor = (op: OperationSpec | undefined, wellFormed = false): fc.Arbitrary<readonly PathPart[]> => {
    if (!op) {
      return fc
        .array(
          fc.oneof(
            fc.constantFrom('accounts', 'users', 'transfers', 'audit-logs', 'me', 'admin', '..', '%2e%2e'),
            fc.string({ maxLength: 12 }).map(encodeURIComponent),
          ),
          { minLength: 1, maxLength: 4 },
        )
        .map((parts) => [`/${parts.join('/')}`]);
    }
    // The template cut at its parameters: literal, parameter, literal, ...
    const pieces = op.template.split(/\{([^}]+)\}/);
    const names = pieces.filter((_, i) => i % 2 === 1);
    return fc
      .tuple(...names.map((name) => paramFor(op, name, wellFormed)))
      .map((values) => pieces.map((piece, i) => (i % 2 === 1 ? (values[(i - 1) / 2] ?? '') : piece)));
  };

  // Well-formed requests: what a correct client sends (valid members only, an OTP only where the
  // schema requires one: no code the fuzzer makes is right; known ids; JSON),
  // so that every operation's success paths and its business refusals (funds, PINs, limits,
  // locks, approvals, idempotency) are reached as often as its validation.
  const wellFormedBody = (op: OperationSpec): fc.Arbitrary<string> => {
    const properties = (op.requestSchema?.properties ?? {}) as Record<string, unknown>;
    const required = new Set((op.requestSchema?.required ?? []) as string[]);
    const names = Object.keys(properties).filter((name) => name !== 'otp' || required.has(name));
    return fc
      .tuple(
        ...names.map((name) => {
          const value = validField[name] ?? fc.jsonValue();
          return required.has(name) ? value : fc.option(value, { freq: 2, nil: undefined });
        }),
      )
      .map((values) => {
        const out: Record<string, unknown> = {};
        names.forEach((name, i) => {
          if (values[i] !== undefined) out[name] = values[i];
        });
        return JSON.stringify(out);
      });
  };
  const validQueryValue: Record<string, fc.Arbitrary<string>> = {
    limit: fc.integer({ min: 1, max: 100 }).map(String),
    ownerId: fc.constantFrom(...pools.userIds),
    actor: fc.constantFrom(...pools.usernames, 'anonymous'),
    action: fc.constantFrom('accounts.deposit', 'auth.login', 'transfers.create', 'users.create'),
    outcome: fc.constantFrom('success', 'denied', 'failed'),
    status: fc.constantFrom('pending', 'approved', 'rejected', 'expired'),
    role: fc.constantFrom('customer', 'teller', 'admin'),
    query: fc.constantFrom('fz', 'fz-c', 'adm'),
    accountNo: fc.constantFrom(...pools.accountNos),
    from: fc
      .date({
        min: new Date('2020-01-01T00:00:00Z'),
        max: new Date('2026-01-01T00:00:00Z'),
        noInvalidDate: true,
      })
      .map((d) => d.toISOString()),
    to: fc
      .date({
        min: new Date('2030-01-01T00:00:00Z'),
        max: new Date('2035-01-01T00:00:00Z'),
        noInvalidDate: true,
      })
      .map((d) => d.toISOString()),
  };
  const wellFormedQuery = (op: OperationSpec): fc.Arbitrary<string> => {
    const params = (op.parameters ?? [])
      .filter((p) => p.in === 'query')
      .map((p) => p.name)
      .filter((name) => validQueryValue[name] !== undefined);
    return fc
      .tuple(
        ...params.map((name) =>
          fc.option(validQueryValue[name] ?? fc.constant(''), { freq: 2, nil: undefined }),
        ),
      )
      .map((values) => {
        const pairs: string[] = [];
        params.forEach((name, i) => {
          const v = values[i];
          if (typeof v === 'string') pairs.push(`${encodeURIComponent(name)}=${encodeURIComponent(v)}`);
        });
        return pairs.length > 0 ? `?${pairs.join('&')}` : '';
      });
  };
  // Each principal's token six times as often as each forged kind: about two requests in three
  // carry a live session and reach the handlers' checks; the rest try every way in without one.
  const token = fc.oneof(
    ...pools.tokenKinds.map((name) => ({
      weight: isPrincipalName(name) ? 6 : 1,
      arbitrary: fc.constant(name),
    })),
  );
  const wellFormedRequest: fc.Arbitrary<FuzzRequest> = fc.constantFrom(...validator.operations).chain((op) =>
    fc.record({
      method: fc.constant(op.method),
      path: pathFor(op, true),
      query: wellFormedQuery(op),
      token,
      contentType: fc.constant('application/json'),
      idempotencyKey: fc.oneof(
        { weight: 4, arbitrary: fc.constant(undefined) },
        { weight: 2, arbitrary: fc.uuid() },
        { weight: 1, arbitrary: fc.constantFrom('fuzz-key-1', 'fuzz-key-2') },
      ),
      body: op.method === 'POST' ? wellFormedBody(op) : fc.constant(undefined),
    }),
  );

  const fuzzedRequest: fc.Arbitrary<FuzzRequest> = fc
    .tuple(
      fc.oneof(
        { weight: 19, arbitrary: fc.constantFrom(...validator.operations) },
        { weight: 1, arbitrary: fc.constant(undefined) },
      ),
      fc.oneof(
        { weight: 19, arbitrary: fc.constant(undefined) },
        { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH') },
      ),
    )
    .chain(([op, otherMethod]) =>
      fc.record({
        method: fc.constant(otherMethod ?? op?.method ?? 'GET'),
        path: pathFor(op),
        query: queryFor(op),
        token,
        contentType: fc.oneof(
          { weight: 12, arbitrary: fc.constant('application/json') },
          {
            weight: 1,
            arbitrary: fc.constantFrom(
              undefined,
              'text/plain',
              'application/json; charset=utf-16',
              'application/x-www-form-urlencoded',
              'application/problem+json',
            ),
          },
        ),
        idempotencyKey: fc.oneof(
          { weight: 4, arbitrary: fc.constant(undefined) },
          { weight: 2, arbitrary: fc.uuid() },
          { weight: 2, arbitrary: fc.constantFrom('fuzz-key-1', 'fuzz-key-2') },
          { weight: 1, arbitrary: fc.string({ maxLength: 120 }) },
        ),
        body: op?.method === 'POST' || otherMethod ? bodyFor(op) : fc.constant(undefined),
      }),
    );
  return fc.oneof(fuzzedRequest, wellFormedRequest);
}

/** The forged and malformed Authorization headers, by kind (made once, from the admin's first token). */
async function forgedTokens(
  target: FuzzTarget,
  adminReal: string,
  knownUser: { id: string; username: string },
) {
  const key = new TextEncoder().encode(target.jwtSecret);
  const wrongKey = new TextEncoder().encode('a-different-key-that-is-long-enough-to-sign-with');
  const now = Math.floor(Date.now() / 1000);
  const sign = (
    claims: Record<string, unknown>,
    k: Uint8Array,
    iss = 'https://bank.local/',
    aud = 'bank-api',
    iat = now,
    exp = now + 600,
  ) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(knownUser.id)
      .setIssuer(iss)
      .setAudience(aud)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(k);
  const base64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const noneToken = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ sub: knownUser.id, username: knownUser.username, role: 'admin', iss: 'https://bank.local/', aud: 'bank-api', exp: now + 600, iat: now })}.`;
  const tokens = new Map<string, string>();
  tokens.set('none', '');
  tokens.set('garbage', 'Bearer not.a.token');
  tokens.set('basic', 'Basic YWRtaW46YWRtaW4=');
  tokens.set('alg none', `Bearer ${noneToken}`);
  tokens.set('wrong key', `Bearer ${await sign({ username: knownUser.username, role: 'admin' }, wrongKey)}`);
  tokens.set(
    'expired',
    `Bearer ${await sign({ username: knownUser.username, role: 'teller' }, key, undefined, undefined, now - 3600, now - 1800)}`,
  );
  tokens.set(
    'wrong audience',
    `Bearer ${await sign({ username: knownUser.username, role: 'admin' }, key, undefined, 'other-api')}`,
  );
  tokens.set(
    'escalated role',
    `Bearer ${await sign({ username: knownUser.username, role: 'admin' }, wrongKey)}`,
  );
  tokens.set('truncated', `Bearer ${adminReal.slice(0, -5)}`);
  tokens.set(
    'tampered payload',
    `Bearer ${adminReal
      .split('.')
      .map((part, i) =>
        i === 1 ? base64url({ sub: knownUser.id, username: 'x', role: 'admin', exp: now + 999 }) : part,
      )
      .join('.')}`,
  );
  // Signed with the real key (only the server has it) for a user that does not exist: robustness.
  tokens.set(
    'unknown user',
    `Bearer ${await new SignJWT({ username: 'ghost-user', role: 'teller' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject('00000000-0000-4000-8000-000000000000')
      .setIssuer('https://bank.local/')
      .setAudience('bank-api')
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(key)}`,
  );
  return tokens;
}

interface KeeperAnswer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly text: string;
}

/**
 * The fuzzer's own calls (set-up and upkeep), not fuzzed and not counted. Against a bank on
 * 127.0.0.1 they come from 127.0.0.2: the login limit per source IP counts the fuzzed logins'
 * failures, and must not refuse the logins that keep the principals alive.
 */
function keeperClient(base: URL) {
  const localAddress = base.hostname === '127.0.0.1' ? '127.0.0.2' : undefined;
  return (method: string, path: string, token?: string, body?: unknown): Promise<KeeperAnswer> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const request = http.request(
        {
          protocol: base.protocol,
          host: base.hostname,
          port: base.port,
          method,
          path,
          ...(localAddress ? { localAddress } : {}),
          headers: {
            ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          timeout: 30_000,
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', reject);
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: Record<string, unknown> = {};
            try {
              const value: unknown = text === '' ? {} : JSON.parse(text);
              if (typeof value === 'object' && value !== null && !Array.isArray(value))
                parsed = value as Record<string, unknown>;
            } catch {
              parsed = {};
            }
            resolve({ status: response.statusCode ?? 0, body: parsed, text });
          });
        },
      );
      request.on('timeout', () => request.destroy(new Error(`${method} ${path}: no answer in 30 s`)));
      request.on('error', reject);
      request.end(payload);
    });
}

/** One of the fuzzer's users whose tokens the fuzzed requests carry; kept logged in. */
interface Principal {
  readonly name: PrincipalName;
  readonly username: string;
  readonly id: string;
  password: string;
  /** The token the fuzzed requests carry now. */
  token: string;
  /** A check of the session, and a new login if it ended, in progress. */
  renewal: Promise<void> | undefined;
}

/** A pool account below this is topped up to `topUpTo` by the upkeep (an admin's deposit). */
const balanceFloorMinor = 50_000n;
const topUpToMinor = 200_000n;
/** Upkeep every this many requests. */
const upkeepEvery = 200;
/** At most this many ids harvested from answers, of each kind. */
const harvestMax = 500;
/** A well-formed id that names nothing: what a reference resolves to before anything was harvested. */
const nobodyId = '00000000-0000-4000-8000-000000000001';

export async function runFuzz(target: FuzzTarget, options: FuzzOptions): Promise<FuzzReport> {
  const { url } = target;
  const { log } = options;
  const document = (await (await fetch(`${url}/openapi.json`)).json()) as unknown;
  const validator = new OpenApiValidator(document);
  log(`OpenAPI document: ${validator.operations.length} operations`);
  const keeperCall = keeperClient(new URL(url));
  const setUp = async (method: string, path: string, token?: string, body?: unknown) => {
    const answer = await keeperCall(method, path, token, body);
    if (answer.status >= 300) throw new Error(`set-up ${method} ${path}: ${answer.status} ${answer.text}`);
    return answer.body;
  };
  const login = async (username: string, password: string): Promise<string> => {
    const answer = await keeperCall('POST', '/auth/login', undefined, { username, password });
    if (answer.status !== 200 || typeof answer.body.accessToken !== 'string')
      throw new Error(`login of ${username}: ${answer.status} ${answer.text.slice(0, 200)}`);
    return answer.body.accessToken;
  };

  const db = target.db();
  await db.connect();
  try {
    // Set-up: one principal of each role (two customers with two accounts each), and throwaway
    // users for the routes that change or disable a user.
    const password = 'fuzz-password-1';
    const suffix = options.seed.toString(36);
    const adminToken = await login(target.adminUsername, target.adminPassword);
    const adminId = String((await setUp('GET', '/me', adminToken)).id);
    // An admin creating a teller needs a TOTP code (API.md step-up): the set-up makes its tellers
    // as the owner makes the first admin (bank_create_user), and its customers through the API.
    const passwordHash = await bcrypt.hash(password, 4);
    const ownerMadeTeller = async (username: string): Promise<string> => {
      await db.query("SELECT bank_create_user($1, $2, 'teller')", [username, passwordHash]);
      const row = await db.query<{ id: string }>('SELECT id::text FROM users WHERE username = $1', [
        username,
      ]);
      const id = row.rows[0]?.id;
      if (!id) throw new Error(`set-up lost ${username}`);
      return id;
    };
    const apiMadeCustomer = async (username: string): Promise<string> =>
      String((await setUp('POST', '/users', adminToken, { username, password, role: 'customer' })).id);
    const tellerUsername = `fz-teller-${suffix}`;
    const tellerId = await ownerMadeTeller(tellerUsername);
    const customerIds: Record<'customer' | 'customer2', { id: string; username: string }> = {
      customer: { id: '', username: `fz-customer-${suffix}` },
      customer2: { id: '', username: `fz-customer2-${suffix}` },
    };
    for (const c of Object.values(customerIds)) c.id = await apiMadeCustomer(c.username);
    const victims: string[] = [
      await apiMadeCustomer(`fz-victim-1-${suffix}`),
      await apiMadeCustomer(`fz-victim-2-${suffix}`),
      await ownerMadeTeller(`fz-victim-3-${suffix}`),
    ];
    const principal = (name: PrincipalName, username: string, id: string, pw: string, token: string) => ({
      name,
      username,
      id,
      password: pw,
      token,
      renewal: undefined,
    });
    const principals: Record<PrincipalName, Principal> = {
      admin: principal('admin', target.adminUsername, adminId, target.adminPassword, adminToken),
      teller: principal('teller', tellerUsername, tellerId, password, await login(tellerUsername, password)),
      customer: principal(
        'customer',
        customerIds.customer.username,
        customerIds.customer.id,
        password,
        await login(customerIds.customer.username, password),
      ),
      customer2: principal(
        'customer2',
        customerIds.customer2.username,
        customerIds.customer2.id,
        password,
        await login(customerIds.customer2.username, password),
      ),
    };
    const principalIds = new Set(Object.values(principals).map((p) => p.id));
    const accountNos: string[] = [];
    const pins = ['2580', '7391'];
    /** Each pool account's PIN as the set-up made it, given back by the upkeep after a change. */
    const pinOf = new Map<string, string>();
    for (const name of ['customer', 'customer2'] as const) {
      for (const pin of pins) {
        const account = await setUp('POST', '/accounts', principals.teller.token, {
          ownerId: principals[name].id,
          name: `fuzz ${name}`,
          pin,
        });
        const accountNo = String(account.accountNo);
        accountNos.push(accountNo);
        pinOf.set(accountNo, pin);
        await setUp('POST', `/accounts/${accountNo}/deposit`, principals.teller.token, {
          amount: formatMinor(topUpToMinor),
        });
      }
    }
    const forged = await forgedTokens(target, adminToken, principals.customer);
    const pools: Pools = {
      tokenKinds: [...principalNames, ...forged.keys()],
      accountNos,
      userIds: [...principalNames.map((n) => principals[n].id), ...victims],
      usernames: [
        target.adminUsername,
        ...principalNames.slice(1).map((n) => principals[n].username),
        `fz-victim-1-${suffix}`,
      ],
      pins,
      password,
    };

    // The upkeep: principals' sessions, pool accounts unlocked, funded and with their PINs.
    const keeper = {
      throwawaySessions: 0,
      sessionsRenewed: 0,
      tokensRefreshed: 0,
      loginsRefused: 0,
      unlocks: 0,
      topUps: 0,
      pinResets: 0,
    };
    const keeperProblems: string[] = [];
    const problem = (message: string): void => {
      if (keeperProblems.length < 50) keeperProblems.push(message);
    };
    const freshSession = async (p: Principal): Promise<string | undefined> => {
      try {
        return await login(p.username, p.password);
      } catch (error) {
        keeper.loginsRefused += 1;
        problem(`${p.name}: ${error instanceof Error ? error.message : String(error)}`);
        return undefined;
      }
    };
    /** After a 401 to `used`: if the principal's session is over, a new login (once, whoever asks). */
    const ensureAlive = (p: Principal, used: string): Promise<void> => {
      if (p.token !== used) return Promise.resolve();
      if (p.renewal) return p.renewal;
      const renewal = (async () => {
        const me = await keeperCall('GET', '/me', used);
        if (me.status !== 401) return;
        const token = await freshSession(p);
        if (token) {
          p.token = token;
          keeper.sessionsRenewed += 1;
        }
      })()
        .catch((error: unknown) => problem(`${p.name}'s session check: ${String(error)}`))
        .finally(() => {
          p.renewal = undefined;
        });
      p.renewal = renewal;
      return renewal;
    };
    const pinChanged = new Set<string>();
    const upkeepRound = async (): Promise<void> => {
      const admin = principals.admin;
      await admin.renewal;
      const rows = await db.query<{ account_no: string; is_locked: boolean; balance: string }>(
        'SELECT account_no, is_locked, balance_minor::text AS balance FROM accounts WHERE account_no = ANY($1)',
        [accountNos],
      );
      const fix = async (what: string, path: string, body: unknown): Promise<boolean> => {
        const answer = await keeperCall('POST', path, admin.token, body);
        if (answer.status === 401) await ensureAlive(admin, admin.token);
        if (answer.status >= 300) problem(`${what} ${path}: ${answer.status} ${answer.text.slice(0, 200)}`);
        return answer.status < 300;
      };
      for (const row of rows.rows) {
        if (row.is_locked && (await fix('unlock', `/accounts/${row.account_no}/unlock`, {})))
          keeper.unlocks += 1;
        const balance = BigInt(row.balance);
        if (
          balance < balanceFloorMinor &&
          (await fix('top-up', `/accounts/${row.account_no}/deposit`, {
            amount: formatMinor(topUpToMinor - balance),
          }))
        )
          keeper.topUps += 1;
      }
      for (const accountNo of [...pinChanged]) {
        pinChanged.delete(accountNo);
        if (await fix('PIN', `/accounts/${accountNo}/pin`, { newPin: pinOf.get(accountNo) }))
          keeper.pinResets += 1;
      }
    };
    const upkeep = (): Promise<void> =>
      upkeepRound().catch((error: unknown) => problem(`upkeep: ${String(error)}`));
    let upkeepChain: Promise<void> = Promise.resolve();

    // Ids that only answers reveal, for the path references.
    const harvested = { victim: victims, approval: [] as string[], transfer: [] as string[] };
    const harvest = (kind: 'victim' | 'approval' | 'transfer', id: unknown): void => {
      const list = harvested[kind];
      if (typeof id === 'string' && list.length < harvestMax && !principalIds.has(id) && !list.includes(id))
        list.push(id);
    };
    const resolve = (part: PathPart, caller: Principal | undefined): string => {
      if (typeof part === 'string') return part;
      const pick = (list: readonly string[]): string => list[part.n % Math.max(list.length, 1)] ?? nobodyId;
      switch (part.ref) {
        case 'self':
          return caller?.id ?? nobodyId;
        case 'principal':
          return pick(principalNames.map((n) => principals[n].id));
        default:
          return pick(harvested[part.ref]);
      }
    };

    const requests = fc.sample(arbitraries(validator, pools), {
      seed: options.seed,
      numRuns: options.requests,
    });
    const byStatus: Record<string, number> = {};
    const byOperation: Record<string, number> = {};
    const byOperationStatus: Record<string, Record<string, number>> = {};
    const tokenKinds: Record<string, number> = {};
    const findings: string[] = [];
    const counts = {
      connectionResetsRetried: 0,
      serverErrors: 0,
      leaks: 0,
      invalidResponses: 0,
      auditMismatches: 0,
      routed: 0,
    };
    let principalRequests = 0;
    let principalUnauthenticated = 0;
    const routed: { requestId: string; describe: string }[] = [];
    const finding = (kind: keyof typeof counts, message: string): void => {
      counts[kind] += 1;
      if (findings.length < 200) findings.push(message);
    };
    const bodyMember = (raw: string | undefined, name: string): unknown => {
      try {
        const value: unknown = raw === undefined ? undefined : JSON.parse(raw);
        return typeof value === 'object' && value !== null
          ? (value as Record<string, unknown>)[name]
          : undefined;
      } catch {
        return undefined;
      }
    };

    let next = 0;
    const worker = async (): Promise<void> => {
      for (let i = next++; i < requests.length; i = next++) {
        const r = requests[i];
        if (!r) continue;
        if (i > 0 && i % upkeepEvery === 0) {
          upkeepChain = upkeepChain.then(upkeep);
          await upkeepChain;
        }
        if (options.beforeRequest) await options.beforeRequest(i);
        const caller = isPrincipalName(r.token) ? principals[r.token] : undefined;
        const path = r.path.map((part) => resolve(part, caller)).join('');
        // The path as it went out: the URL parser resolves dot segments (`/me/../accounts`) first.
        const sentPath = new URL(`${url}${path}`).pathname;
        let decodedPath: string;
        try {
          decodedPath = decodeURIComponent(sentPath);
        } catch {
          decodedPath = sentPath;
        }
        const op = validator.match(r.method, decodedPath);
        const headers: Record<string, string> = {};
        let usedToken: string | undefined;
        if (caller) {
          await caller.renewal;
          usedToken = caller.token;
          // A logout ends the session it is sent with: a throwaway one of the same principal.
          if (op?.operationId === 'auth.logout') {
            const throwaway = await freshSession(caller);
            if (throwaway) {
              usedToken = throwaway;
              keeper.throwawaySessions += 1;
            }
          }
          headers.authorization = `Bearer ${usedToken}`;
        } else {
          const auth = forged.get(r.token);
          if (auth) headers.authorization = auth;
        }
        if (r.contentType && r.body !== undefined) headers['content-type'] = r.contentType;
        if (r.idempotencyKey !== undefined) {
          // fetch refuses header values it cannot send (control characters, non-Latin-1).
          if (/^[\x20-\x7e]*$/.test(r.idempotencyKey)) headers['idempotency-key'] = r.idempotencyKey;
        }
        const describe = `#${i} ${r.method} ${path}${r.query} token=${r.token} key=${JSON.stringify(r.idempotencyKey)} body=${r.body?.slice(0, 200)}`;
        let response: Response;
        let text: string;
        const send = () =>
          fetch(`${url}${path}${r.query}`, {
            method: r.method,
            headers,
            ...(r.body !== undefined && r.method !== 'GET' ? { body: r.body } : {}),
            signal: AbortSignal.timeout(30_000),
          });
        try {
          try {
            response = await send();
          } catch (error) {
            // A kept-alive socket the server closed as the request went out (the client's race, not
            // the API's): sent once more, on a fresh connection; a second failure is a finding.
            if (!(error instanceof Error && String(error.cause).includes('ECONNRESET'))) throw error;
            counts.connectionResetsRetried += 1;
            response = await send();
          }
          text = await response.text();
        } catch (error) {
          const cause = error instanceof Error && error.cause ? ` (${String(error.cause)})` : '';
          finding('serverErrors', `no answer: ${String(error)}${cause} for ${describe}`);
          continue;
        }
        tokenKinds[r.token] = (tokenKinds[r.token] ?? 0) + 1;
        byStatus[String(response.status)] = (byStatus[String(response.status)] ?? 0) + 1;
        if (caller) {
          principalRequests += 1;
          // On these a 401 is the answer to a wrong password or login, not a session that ended.
          if (response.status === 401 && !credentialChecks.has(op?.operationId ?? ''))
            principalUnauthenticated += 1;
        }
        if (response.status >= 500)
          finding('serverErrors', `${response.status} ${text.slice(0, 300)} for ${describe}`);
        for (const [name, pattern] of leakPatterns)
          if (pattern.test(text))
            finding('leaks', `${name} in ${response.status} ${text.slice(0, 300)} for ${describe}`);
        if (response.status >= 400)
          for (const [name, pattern] of errorLeakPatterns)
            if (pattern.test(text))
              finding('leaks', `${name} in ${response.status} ${text.slice(0, 300)} for ${describe}`);
        const requestId = response.headers.get('x-request-id');
        if (!requestId) finding('invalidResponses', `no x-request-id on ${response.status} for ${describe}`);
        let body: unknown;
        try {
          body = text === '' ? undefined : JSON.parse(text);
        } catch {
          finding('invalidResponses', `a body that is not JSON on ${response.status} for ${describe}`);
          continue;
        }
        const gatewayAnswer =
          (response.status === 404 &&
            typeof body === 'object' &&
            body !== null &&
            String((body as { detail?: unknown }).detail).startsWith('No route for')) ||
          response.status === 405 ||
          response.status === 413;
        if (op && !gatewayAnswer) {
          byOperation[op.operationId] = (byOperation[op.operationId] ?? 0) + 1;
          const statuses = byOperationStatus[op.operationId] ?? {};
          byOperationStatus[op.operationId] = statuses;
          statuses[String(response.status)] = (statuses[String(response.status)] ?? 0) + 1;
          const verdict = validator.validate(
            op,
            response.status,
            response.headers.get('content-type') ?? '',
            body,
          );
          if (!verdict.ok)
            finding('invalidResponses', `${verdict.problem} — ${text.slice(0, 200)} for ${describe}`);
          if (requestId && op.template !== '/health' && op.template !== '/openapi.json') {
            counts.routed += 1;
            routed.push({ requestId, describe: `${response.status} ${describe}` });
          }
        } else {
          byOperation['(no route)'] = (byOperation['(no route)'] ?? 0) + 1;
          const problem = body as { status?: unknown; code?: unknown } | undefined;
          if (
            response.status < 400 ||
            typeof problem?.code !== 'string' ||
            problem.status !== response.status
          )
            finding(
              'invalidResponses',
              `unrouted request answered ${response.status} ${text.slice(0, 200)} for ${describe}`,
            );
        }

        // What the answer changed for the principals, and the ids it revealed.
        const answer = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
        const items = Array.isArray(answer.items) ? (answer.items as Record<string, unknown>[]) : [];
        const segments = decodedPath.split('/');
        const operationId = op && !gatewayAnswer ? op.operationId : undefined;
        if (caller && usedToken === caller.token && response.status === 401 && operationId !== 'auth.login')
          await ensureAlive(caller, usedToken);
        if (
          caller &&
          usedToken === caller.token &&
          operationId === 'auth.refresh' &&
          response.status === 200
        ) {
          if (typeof answer.accessToken === 'string') {
            caller.token = answer.accessToken;
            keeper.tokensRefreshed += 1;
          }
        }
        if (caller && operationId === 'me.password' && response.status === 204) {
          const newPassword = bodyMember(r.body, 'newPassword');
          if (typeof newPassword === 'string') caller.password = newPassword;
        }
        if (operationId === 'users.password' && response.status === 204) {
          const victim = Object.values(principals).find((p) => p.id === segments[2]);
          const newPassword = bodyMember(r.body, 'newPassword');
          if (victim && typeof newPassword === 'string') {
            victim.password = newPassword;
            await ensureAlive(victim, victim.token);
          }
        }
        if (operationId === 'accounts.pin' && response.status === 204 && pinOf.has(segments[2] ?? ''))
          pinChanged.add(segments[2] ?? '');
        if (operationId === 'users.create' && response.status === 201) harvest('victim', answer.id);
        if (response.status === 202) harvest('approval', answer.approvalId);
        if (operationId === 'approvals.list' && response.status === 200)
          for (const item of items) harvest('approval', item.approvalId);
        if (operationId === 'transfers.create' && response.status === 201)
          harvest('transfer', answer.transferId);
        if (operationId === 'accounts.history' && response.status === 200)
          for (const item of items) harvest('transfer', item.transferId);
        if (operationId === 'approvals.approve' && response.status === 200) {
          const result = answer.result as Record<string, unknown> | null | undefined;
          harvest('transfer', result?.transferId);
        }
        if ((i + 1) % 2000 === 0) log(`  ${i + 1} requests`);
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, () => worker()));
    await upkeepChain;

    // Exactly one audit event per request to a route.
    const ids = routed.map((r) => r.requestId);
    const rows = await db.query<{ request_id: string; n: string }>(
      'SELECT request_id, count(*)::text AS n FROM audit_logs WHERE request_id = ANY($1) GROUP BY request_id',
      [ids],
    );
    const seen = new Map(rows.rows.map((row) => [row.request_id, Number(row.n)]));
    for (const r of routed) {
      const n = seen.get(r.requestId) ?? 0;
      if (n !== 1) finding('auditMismatches', `${n} audit events for ${r.describe}`);
    }
    return {
      seed: options.seed,
      requests: requests.length,
      byStatus,
      byOperation,
      byOperationStatus,
      tokenKinds,
      findings,
      counts,
      keeper,
      principalRequests,
      principalUnauthenticated,
      keeperProblems,
    };
  } finally {
    await db.end();
  }
}
