import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument } from '../../shared/openapi';
import { startTestStack, type TestStack } from '../helpers/stack';
import { runFuzz } from './fuzz';
import { OpenApiValidator, resolveRefs } from './openapi-validator';

/*
 * The short fuzz run (npm run fuzz is the long one): requests generated from the OpenAPI document
 * through the whole local request path. A random seed each run, printed; FUZZ_SEED pins it.
 */
const seed = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
const ADMIN_PASSWORD = 'fuzz-admin-password-1';

describe('the response validator', () => {
  const validator = new OpenApiValidator(buildOpenApiDocument());

  it('finds every route of the document', () => {
    expect(validator.operations.map((op) => op.operationId)).toContain('transfers.create');
    expect(validator.match('GET', '/accounts/400000000002/history')?.operationId).toBe('accounts.history');
    expect(validator.match('DELETE', '/accounts')).toBeUndefined();
  });

  it('refuses a body, a status or a media type the document does not allow', () => {
    const me = validator.match('GET', '/me');
    if (!me) throw new Error('GET /me is not in the document');
    const user = {
      id: '0f8fad5b-d9cb-469f-a165-70867728950e',
      username: 'alice',
      role: 'customer',
      createdAt: '2026-11-23T10:15:30.000Z',
      disabled: false,
      totpEnabled: false,
    };
    expect(validator.validate(me, 200, 'application/json', user).ok).toBe(true);
    expect(validator.validate(me, 200, 'application/json', { ...user, passwordHash: 'x' }).ok).toBe(false);
    expect(validator.validate(me, 200, 'text/html', user).ok).toBe(false);
    expect(validator.validate(me, 302, 'application/json', user).ok).toBe(false);
    const problem = {
      type: 'about:blank',
      title: 'Unauthorized',
      status: 401,
      detail: 'no',
      code: 'UNAUTHENTICATED',
      requestId: 'r',
    };
    expect(validator.validate(me, 401, 'application/problem+json', problem).ok).toBe(true);
    expect(validator.validate(me, 401, 'application/problem+json', { status: 401 }).ok).toBe(false);
  });

  it('resolves references to $defs in the schema and to components of the document', () => {
    const item = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] };
    expect(resolveRefs({ $ref: '#/$defs/Item', $defs: { Item: item } }, {})).toEqual(item);
    expect(
      resolveRefs({ $ref: '#/components/schemas/Item' }, { components: { schemas: { Item: item } } }),
    ).toEqual(item);
    expect(() => resolveRefs({ $ref: '#/$defs/Missing' }, {})).toThrow(/unresolvable/);
  });
});

describe('fuzzing the API (short run)', () => {
  let stack: TestStack;
  beforeAll(async () => {
    stack = await startTestStack();
    await stack.createUser('fuzz-admin', ADMIN_PASSWORD, 'admin');
  });
  afterAll(async () => {
    await stack?.close();
  });

  it(`answers 1000 generated requests within the contract, its principals signed in throughout (seed ${seed})`, {
    timeout: 120_000,
  }, async () => {
    const jwtSecret = process.env.BANK_JWT_SECRET;
    if (!jwtSecret) throw new Error('the stack set no JWT secret');
    // Halfway, every session ends behind the fuzzer's back (as a mass sign-out would): each of its
    // four principals must notice its token refused, and sign in again, once.
    let ended = -1;
    const endEverySession = async (index: number): Promise<void> => {
      if (index !== 500) return;
      const client = stack.db.client();
      await client.connect();
      try {
        ended =
          (await client.query('UPDATE sessions SET ended_at = now() WHERE ended_at IS NULL')).rowCount ?? 0;
      } finally {
        await client.end();
      }
    };
    const report = await runFuzz(
      {
        url: stack.url,
        jwtSecret,
        adminUsername: 'fuzz-admin',
        adminPassword: ADMIN_PASSWORD,
        db: () => stack.db.client(),
      },
      { seed, requests: 1000, concurrency: 4, log: () => undefined, beforeRequest: endEverySession },
    );
    console.log(
      `fuzz seed ${seed}: ${JSON.stringify(report.counts)} statuses ${JSON.stringify(report.byStatus)} upkeep ${JSON.stringify(report.keeper)} principals' 401s ${report.principalUnauthenticated} of ${report.principalRequests}`,
    );
    const context = `seed ${seed}\n${report.findings.join('\n')}\n${report.keeperProblems.join('\n')}`;
    expect(report.requests).toBe(1000);
    // The run reached the handlers, with every kind of outcome: a run of only 401s would prove little.
    expect(report.counts.routed, context).toBeGreaterThan(700);
    for (const status of ['200', '201', '204', '400', '401', '403', '404'])
      expect(report.byStatus[status] ?? 0, `${status}\n${context}`).toBeGreaterThan(0);
    // The principals stayed signed in to the end: a logout, a password set or a disable never
    // ended the session their requests carry (before the upkeep, most of them were 401 after the
    // first logout), so the success paths were checked all along.
    expect(ended, context).toBeGreaterThanOrEqual(4);
    expect(report.keeper.sessionsRenewed, context).toBe(4);
    expect(report.keeper.loginsRefused, context).toBe(0);
    expect(report.keeperProblems).toEqual([]);
    expect(report.principalRequests, context).toBeGreaterThan(500);
    // A 401 with a principal's token (where only the token is judged, not a password in the body)
    // comes only from the forced end of every session: the requests in flight then (4 at a time)
    // and those a principal sends before its one renewal lands; 4 or 5 in practice.
    expect(report.principalUnauthenticated, context).toBeLessThanOrEqual(16);
    const successes = ['200', '201', '202', '204'].reduce((n, s) => n + (report.byStatus[s] ?? 0), 0);
    expect(successes, context).toBeGreaterThan(150);
    expect(report.findings, context).toEqual([]);
  });
});
