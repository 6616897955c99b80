import bcrypt from 'bcryptjs';
import * as fc from 'fast-check';
import { SignJWT } from 'jose';
import type pg from 'pg';
import { OpenApiValidator, type OperationSpec } from './openapi-validator';

/**
 * Fuzzing the whole API from its OpenAPI document: fast-check generates requests (valid and
 * invalid bodies, paths, queries, headers; real tokens of each role and forged, expired and
 * garbage ones; random Idempotency-Keys), they go through the real gateway and handlers, and
 * every answer is held to the contract: never a 5xx, nothing leaked, valid against the document,
 * and exactly one audit event per request to a route.
 */
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
}

export interface FuzzReport {
  readonly seed: number;
  readonly requests: number;
  readonly byStatus: Record<string, number>;
  readonly byOperation: Record<string, number>;
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
}

interface FuzzRequest {
  readonly method: string;
  /** Already percent-encoded. */
  readonly path: string;
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
  let sum = 0;
  for (let i = 0; i < 11; i += 1) {
    let d = Number(first11[10 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return `${first11}${(10 - (sum % 10)) % 10}`;
}

interface Pools {
  readonly tokens: ReadonlyMap<string, string>;
  readonly accountNos: readonly string[];
  readonly userIds: readonly string[];
  readonly usernames: readonly string[];
  readonly pins: readonly string[];
  readonly password: string;
}

/** Undefined nine times in ten: an unknown member or parameter, now and then (fc.option's freq is the reverse). */
const rare = <T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> =>
  fc.oneof({ weight: 9, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });

/** Real tokens three times as often as each forged kind, so that most requests reach the handlers' checks. */
const realTokens = new Set(['admin', 'teller', 'customer', 'customer2']);

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
    {
      weight: 5,
      arbitrary: fc
        .integer({ min: 1, max: 50_000 })
        .map((c) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`),
    },
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
  };
  // Values that pass the schema, so that many requests get past validation to the operations.
  const label = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 .,'-]{0,39}$/);
  const validField: Record<string, fc.Arbitrary<unknown>> = {
    amount: fc
      .integer({ min: 1, max: 20_000 })
      .map((c) => `${Math.floor(c / 100)}.${String(c % 100).padStart(2, '0')}`),
    pin: fc.constantFrom(...pools.pins),
    currentPin: fc.constantFrom(...pools.pins),
    newPin: fc.constantFrom('8024', '19730', '602813'),
    memo: label,
    name: label,
    reason: label,
    username: fc.oneof(fc.constantFrom(...pools.usernames), fc.stringMatching(/^[a-z0-9._-]{3,32}$/)),
    password: fc.oneof(fc.constant(pools.password), fc.stringMatching(/^[ -~]{10,40}$/)),
    role: fc.constantFrom('customer', 'teller', 'admin'),
    ownerId: fc.constantFrom(...pools.userIds),
    fromAccountNo: fc.constantFrom(...pools.accountNos),
    toAccountNo: fc.constantFrom(...pools.accountNos),
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

  const pathFor = (op: OperationSpec | undefined): fc.Arbitrary<string> => {
    if (!op) {
      return fc
        .array(
          fc.oneof(
            fc.constantFrom('accounts', 'users', 'transfers', 'audit-logs', 'me', 'admin', '..', '%2e%2e'),
            fc.string({ maxLength: 12 }).map(encodeURIComponent),
          ),
          { minLength: 1, maxLength: 4 },
        )
        .map((parts) => `/${parts.join('/')}`);
    }
    const names = [...op.template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] ?? '');
    return fc
      .tuple(
        ...names.map((name) =>
          (name === 'accountNo' ? accountNo : text).map((v) => encodeURIComponent(String(v))),
        ),
      )
      .map((values) => {
        let path = op.template;
        names.forEach((name, i) => {
          path = path.replace(`{${name}}`, values[i] ?? '');
        });
        return path;
      });
  };

  const request: fc.Arbitrary<FuzzRequest> = fc
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
        token: fc.oneof(
          ...[...pools.tokens.keys()].map((name) => ({
            weight: realTokens.has(name) ? 3 : 1,
            arbitrary: fc.constant(name),
          })),
        ),
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
  return request;
}

async function tokenPool(
  target: FuzzTarget,
  real: Record<string, string>,
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
  for (const [name, token] of Object.entries(real)) tokens.set(name, `Bearer ${token}`);
  const adminReal = real.admin ?? '';
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

async function call(
  url: string,
  method: string,
  path: string,
  token: string | undefined,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`set-up ${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

export async function runFuzz(target: FuzzTarget, options: FuzzOptions): Promise<FuzzReport> {
  const { url } = target;
  const { log } = options;
  const document = (await (await fetch(`${url}/openapi.json`)).json()) as unknown;
  const validator = new OpenApiValidator(document);
  log(`OpenAPI document: ${validator.operations.length} operations`);

  // Set-up: one user of each role, two customers with two accounts each.
  const password = 'fuzz-password-1';
  const login = async (username: string, pw: string): Promise<string> => {
    const body = await call(url, 'POST', '/auth/login', undefined, { username, password: pw });
    if (typeof body.accessToken !== 'string') throw new Error('no token');
    return body.accessToken;
  };
  const admin = await login(target.adminUsername, target.adminPassword);
  const suffix = options.seed.toString(36);
  const users: Record<string, { id: string; username: string }> = {};
  // An admin creating a teller needs a TOTP code (API.md step-up): the set-up makes its teller as
  // the owner makes the first admin (bank_create_user), and its customers through the API.
  {
    const username = `fz-teller-${suffix}`;
    const client = target.db();
    await client.connect();
    try {
      await client.query("SELECT bank_create_user($1, $2, 'teller')", [
        username,
        await bcrypt.hash(password, 4),
      ]);
      const row = await client.query<{ id: string }>('SELECT id::text FROM users WHERE username = $1', [
        username,
      ]);
      users.teller = { id: String(row.rows[0]?.id), username };
    } finally {
      await client.end();
    }
  }
  for (const role of ['customer', 'customer2'] as const) {
    const username = `fz-${role}-${suffix}`;
    const user = await call(url, 'POST', '/users', admin, { username, password, role: 'customer' });
    users[role] = { id: String(user.id), username };
  }
  const teller = await login(users.teller?.username ?? '', password);
  const real: Record<string, string> = { admin, teller };
  const accountNos: string[] = [];
  const pins = ['2580', '7391'];
  for (const role of ['customer', 'customer2'] as const) {
    const user = users[role];
    if (!user) throw new Error('set-up lost a user');
    real[role] = await login(user.username, password);
    for (const pin of pins) {
      const account = await call(url, 'POST', '/accounts', teller, {
        ownerId: user.id,
        name: `fuzz ${role}`,
        pin,
      });
      accountNos.push(String(account.accountNo));
      await call(url, 'POST', `/accounts/${String(account.accountNo)}/deposit`, teller, {
        amount: '1000.00',
      });
    }
  }
  const customer = users.customer ?? { id: '', username: '' };
  const tokens = await tokenPool(target, real, customer);
  const pools: Pools = {
    tokens,
    accountNos,
    userIds: Object.values(users).map((u) => u.id),
    usernames: [target.adminUsername, ...Object.values(users).map((u) => u.username)],
    pins,
    password,
  };

  const requests = fc.sample(arbitraries(validator, pools), {
    seed: options.seed,
    numRuns: options.requests,
  });
  const byStatus: Record<string, number> = {};
  const byOperation: Record<string, number> = {};
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
  const routed: { requestId: string; describe: string }[] = [];
  const finding = (kind: keyof typeof counts, message: string): void => {
    counts[kind] += 1;
    if (findings.length < 200) findings.push(message);
  };

  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < requests.length; i = next++) {
      const r = requests[i];
      if (!r) continue;
      const headers: Record<string, string> = {};
      const auth = tokens.get(r.token);
      if (auth) headers.authorization = auth;
      if (r.contentType && r.body !== undefined) headers['content-type'] = r.contentType;
      if (r.idempotencyKey !== undefined) {
        // fetch refuses header values it cannot send (control characters, non-Latin-1).
        if (/^[\x20-\x7e]*$/.test(r.idempotencyKey)) headers['idempotency-key'] = r.idempotencyKey;
      }
      const describe = `#${i} ${r.method} ${r.path}${r.query} token=${r.token} key=${JSON.stringify(r.idempotencyKey)} body=${r.body?.slice(0, 200)}`;
      let response: Response;
      let text: string;
      const send = () =>
        fetch(`${url}${r.path}${r.query}`, {
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
      // The path as it went out: the URL parser resolves dot segments (`/me/../accounts`) first.
      const sentPath = new URL(`${url}${r.path}`).pathname;
      let decodedPath: string;
      try {
        decodedPath = decodeURIComponent(sentPath);
      } catch {
        decodedPath = sentPath;
      }
      const op = validator.match(r.method, decodedPath);
      const gatewayAnswer =
        (response.status === 404 &&
          typeof body === 'object' &&
          body !== null &&
          String((body as { detail?: unknown }).detail).startsWith('No route for')) ||
        response.status === 405 ||
        response.status === 413;
      if (op && !gatewayAnswer) {
        byOperation[op.operationId] = (byOperation[op.operationId] ?? 0) + 1;
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
        if (response.status < 400 || typeof problem?.code !== 'string' || problem.status !== response.status)
          finding(
            'invalidResponses',
            `unrouted request answered ${response.status} ${text.slice(0, 200)} for ${describe}`,
          );
      }
      if ((i + 1) % 2000 === 0) log(`  ${i + 1} requests`);
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, () => worker()));

  // Exactly one audit event per request to a route.
  const client = target.db();
  await client.connect();
  try {
    const ids = routed.map((r) => r.requestId);
    const rows = await client.query<{ request_id: string; n: string }>(
      'SELECT request_id, count(*)::text AS n FROM audit_logs WHERE request_id = ANY($1) GROUP BY request_id',
      [ids],
    );
    const seen = new Map(rows.rows.map((row) => [row.request_id, Number(row.n)]));
    for (const r of routed) {
      const n = seen.get(r.requestId) ?? 0;
      if (n !== 1) finding('auditMismatches', `${n} audit events for ${r.describe}`);
    }
  } finally {
    await client.end();
  }
  return {
    seed: options.seed,
    requests: requests.length,
    byStatus,
    byOperation,
    tokenKinds,
    findings,
    counts,
  };
}
