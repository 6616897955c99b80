import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ExecuteStatementCommand, RDSDataClient, RDSDataServiceException } from '@aws-sdk/client-rds-data';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateAccessKey, loadOrCreateAccessKey } from '../../local/data-api/credentials';
import { localClusterArn, localSecretArn } from '../../local/services';
import { rawPost, signedHeaders } from '../helpers/sigv4';
import { query, startTestStack, type TestStack } from '../helpers/stack';

/*
 * An attacker who can reach the local Data API server's port, but holds no access key: whatever
 * it sends, unsigned, signed with the wrong key, replayed, tampered with, the server answers
 * AWS's 403 and no statement reaches PostgreSQL. The real SDK client sees the same named
 * exceptions it would see from AWS; with the right key it works as before.
 */

const CHANNEL = 'sigv4_probe';
const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

let stack: TestStack;
let listener: pg.Client;
const notifications: string[] = [];
let tellerSid = '';

/** The session id a bearer token names (claim sid). */
function sessionIdOf(token: string): string {
  const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
    sid?: unknown;
  };
  if (typeof payload.sid !== 'string') throw new Error('token without sid');
  return payload.sid;
}
let accountNo = '';

const state = async () =>
  (
    await query<{ balance: string; history: string; audit: string }>(
      stack.db,
      `SELECT (SELECT balance_minor::text FROM accounts WHERE account_no = $1) AS balance,
              (SELECT count(*)::text FROM history) AS history,
              (SELECT count(*)::text FROM audit_logs) AS audit`,
      [accountNo],
    )
  )[0];

/** What a teller's deposit looks like on the wire: the SQL function, as the teller's secret. */
const moneyBody = (): string =>
  JSON.stringify({
    resourceArn: localClusterArn,
    secretArn: localSecretArn('bank_teller'),
    database: stack.db.name,
    sql: "SELECT bank_move(:ctx::jsonb, 'DEPOSIT', :accountNo, 100000, NULL, NULL, NULL, NULL, NULL)::text",
    parameters: [
      {
        name: 'ctx',
        value: {
          stringValue: JSON.stringify({
            sid: tellerSid,
            // Each call its own request, as the gateway would make it (one audit event per request id).
            requestId: `attack-${randomBytes(4).toString('hex')}`,
            ip: '10.0.0.1',
            userAgent: 'curl',
          }),
        },
      },
      { name: 'accountNo', value: { stringValue: accountNo } },
    ],
  });

/** A statement whose only effect is a notification to the listener: proof it reached PostgreSQL. */
const probeBody = (tag: string): string =>
  JSON.stringify({
    resourceArn: localClusterArn,
    secretArn: localSecretArn('bank_teller'),
    database: stack.db.name,
    sql: `SELECT pg_notify('${CHANNEL}', :tag)`,
    parameters: [{ name: 'tag', value: { stringValue: tag } }],
  });

const dataApiUrl = () => stack.services.dataApi.url;
const key = () => stack.services.dataApiAccessKey;

/** Sends the money move and a probe the same way; both must be refused alike. */
async function attack(
  send: (
    body: string,
  ) => Promise<{ status: number; errorType: string | undefined; body: Record<string, unknown> }>,
) {
  const money = await send(moneyBody());
  const probe = await send(probeBody(`attack-${randomBytes(4).toString('hex')}`));
  expect({ status: probe.status, errorType: probe.errorType }).toEqual({
    status: money.status,
    errorType: money.errorType,
  });
  return money;
}

function sdkClient(
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
  extra = {},
) {
  return new RDSDataClient({
    endpoint: dataApiUrl(),
    region: 'us-east-1',
    credentials,
    maxAttempts: 1,
    ...extra,
  });
}

async function sdkRejection(client: RDSDataClient): Promise<RDSDataServiceException> {
  try {
    await client.send(
      new ExecuteStatementCommand({
        resourceArn: localClusterArn,
        secretArn: localSecretArn('bank_teller'),
        database: stack.db.name,
        sql: `SELECT pg_notify('${CHANNEL}', 'sdk-attack')`,
      }),
    );
  } catch (error) {
    if (error instanceof RDSDataServiceException) return error;
    throw error;
  } finally {
    client.destroy();
  }
  throw new Error('expected the call to be refused');
}

beforeAll(async () => {
  // Prepare: a teller and a customer's account holding 100.00, made straight in PostgreSQL; a
  // superuser session listening for the probe's notifications.
  stack = await startTestStack();
  const suffix = randomBytes(3).toString('hex');
  await stack.createUser(`teller-${suffix}`, 'teller-password-1', 'teller');
  const customerId = await stack.createUser(`customer-${suffix}`, 'customer-password-1', 'customer');
  const teller = stack.db.client('bank_teller');
  await teller.connect();
  try {
    // A live teller session: what the attack's deposit names, so that only the signature stops it.
    const token = await stack.login(`teller-${suffix}`, 'teller-password-1');
    tellerSid = sessionIdOf(token);
    // Two requests, so two request ids: the trail holds one event per request id.
    const ctx = (requestId: string): string =>
      JSON.stringify({ sid: tellerSid, requestId, ip: '127.0.0.1', userAgent: 'vitest' });
    const opened = await teller.query<{ v: { body: { accountNo: string } } }>(
      'SELECT bank_account_create($1::jsonb, $2::uuid, $3, $4) AS v',
      [ctx('fixture-open'), customerId, 'Main', '4826'],
    );
    accountNo = opened.rows[0]?.v.body.accountNo ?? '';
    await teller.query("SELECT bank_move($1::jsonb, 'DEPOSIT', $2, 10000, NULL, NULL, NULL, NULL, NULL)", [
      ctx('fixture-deposit'),
      accountNo,
    ]);
  } finally {
    await teller.end();
  }
  listener = stack.db.client();
  await listener.connect();
  listener.on('notification', (message) => {
    if (message.channel === CHANNEL) notifications.push(message.payload ?? '');
  });
  await listener.query(`LISTEN ${CHANNEL}`);
});

afterAll(async () => {
  await listener?.end();
  await stack?.close();
});

describe('the local Data API server refuses callers without a valid signature', () => {
  let before: Awaited<ReturnType<typeof state>>;
  beforeAll(async () => {
    before = await state();
    expect(before?.balance).toBe('10000');
  });

  it('an unsigned curl-style request with the teller secret: 403 MissingAuthenticationTokenException', async () => {
    // Act
    const response = await attack(async (body) => {
      const res = await fetch(`${dataApiUrl()}/Execute`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      return {
        status: res.status,
        errorType: res.headers.get('x-amzn-errortype') ?? undefined,
        body: (await res.json()) as Record<string, unknown>,
      };
    });
    // Assess
    expect(response).toEqual({
      status: 403,
      errorType: 'MissingAuthenticationTokenException',
      body: { message: 'Missing Authentication Token' },
    });
  });

  it('the right key id with a wrong secret (the real SDK): InvalidSignatureException', async () => {
    // Act
    const error = await sdkRejection(
      sdkClient({ accessKeyId: key().accessKeyId, secretAccessKey: generateAccessKey().secretAccessKey }),
    );
    const raw = await attack(async (body) =>
      rawPost(
        dataApiUrl(),
        '/Execute',
        await signedHeaders(dataApiUrl(), '/Execute', body, {
          key: { accessKeyId: key().accessKeyId, secretAccessKey: 'not-the-secret-at-all-0000000000000000' },
        }),
        body,
      ),
    );
    // Assess
    expect(error.name).toBe('InvalidSignatureException');
    expect(error.$metadata.httpStatusCode).toBe(403);
    expect(error.$fault).toBe('client');
    expect(error.message).toBe(MISMATCH);
    expect(raw).toEqual({ status: 403, errorType: 'InvalidSignatureException', body: { message: MISMATCH } });
  });

  it('an unknown access key id (the real SDK): UnrecognizedClientException', async () => {
    // Act
    const error = await sdkRejection(sdkClient(generateAccessKey()));
    // Assess
    expect(error.name).toBe('UnrecognizedClientException');
    expect(error.$metadata.httpStatusCode).toBe(403);
    expect(error.message).toBe('The security token included in the request is invalid.');
  });

  it('a session token with a long-term key: UnrecognizedClientException', async () => {
    // Act
    const error = await sdkRejection(sdkClient({ ...key(), sessionToken: 'FwoGZXIvYXdzEXAMPLE' }));
    // Assess
    expect(error.name).toBe('UnrecognizedClientException');
    expect(error.$metadata.httpStatusCode).toBe(403);
  });

  it('a request signed 16 minutes ago (a replay): InvalidSignatureException, Signature expired', async () => {
    // Act
    const signingDate = new Date(Date.now() - 16 * 60 * 1000);
    const response = await attack(async (body) =>
      rawPost(
        dataApiUrl(),
        '/Execute',
        await signedHeaders(dataApiUrl(), '/Execute', body, { key: key(), date: signingDate }),
        body,
      ),
    );
    // Assess
    expect(response.status).toBe(403);
    expect(response.errorType).toBe('InvalidSignatureException');
    expect(response.body.message).toMatch(
      /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/,
    );
  });

  it('the real SDK with a clock 16 minutes slow: InvalidSignatureException, Signature expired', async () => {
    // Act
    const error = await sdkRejection(sdkClient(key(), { systemClockOffset: -16 * 60 * 1000 }));
    // Assess
    expect(error.name).toBe('InvalidSignatureException');
    expect(error.$metadata.httpStatusCode).toBe(403);
    expect(error.message).toMatch(/^Signature expired: /);
  });

  it('a request dated 16 minutes ahead: InvalidSignatureException, Signature not yet current', async () => {
    // Act
    const signingDate = new Date(Date.now() + 16 * 60 * 1000);
    const response = await attack(async (body) =>
      rawPost(
        dataApiUrl(),
        '/Execute',
        await signedHeaders(dataApiUrl(), '/Execute', body, { key: key(), date: signingDate }),
        body,
      ),
    );
    // Assess
    expect(response.errorType).toBe('InvalidSignatureException');
    expect(response.body.message).toMatch(/^Signature not yet current: \d{8}T\d{6}Z is still later than /);
  });

  it('a valid signature of another body (tampered): InvalidSignatureException', async () => {
    // Act: the key holder signed a harmless SELECT 1; the attacker swaps in its own body
    const response = await attack(async (body) => {
      const harmless = JSON.stringify({
        resourceArn: localClusterArn,
        secretArn: localSecretArn('bank_teller'),
        sql: 'SELECT 1',
      }).padEnd(body.length, ' ');
      const headers = await signedHeaders(dataApiUrl(), '/Execute', harmless, { key: key() });
      return rawPost(dataApiUrl(), '/Execute', headers, body);
    });
    // Assess
    expect(response).toEqual({
      status: 403,
      errorType: 'InvalidSignatureException',
      body: { message: MISMATCH },
    });
  });

  it('a declared body hash that is not the hash of the body: InvalidSignatureException', async () => {
    // Act
    const response = await attack(async (body) => {
      const harmless = JSON.stringify({ sql: 'SELECT 1' });
      const headers = await signedHeaders(dataApiUrl(), '/Execute', body, {
        key: key(),
        headers: {
          'x-amz-content-sha256': createHash('sha256').update(harmless).digest('hex'),
        },
      });
      return rawPost(dataApiUrl(), '/Execute', headers, body);
    });
    // Assess
    expect(response.errorType).toBe('InvalidSignatureException');
    expect(response.body.message).toBe(
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  });

  it('a signed header removed in transit: InvalidSignatureException, or IncompleteSignatureException for X-Amz-Date', async () => {
    // Act
    const without = (name: string) =>
      attack(async (body) => {
        const headers = await signedHeaders(dataApiUrl(), '/Execute', body, { key: key() });
        delete headers[name];
        return rawPost(dataApiUrl(), '/Execute', headers, body);
      });
    const noContentType = await without('content-type');
    const noDate = await without('x-amz-date');
    // Assess
    expect(noContentType).toEqual({
      status: 403,
      errorType: 'InvalidSignatureException',
      body: { message: MISMATCH },
    });
    expect(noDate).toEqual({
      status: 403,
      errorType: 'IncompleteSignatureException',
      body: {
        message: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
      },
    });
  });

  it('host or x-amz-date left out of SignedHeaders: IncompleteSignatureException', async () => {
    // Act: a signature over fewer headers, as a hand-made signer might produce
    const leaveOut = (name: string) =>
      attack(async (body) => {
        const headers = await signedHeaders(dataApiUrl(), '/Execute', body, { key: key() });
        headers.authorization = (headers.authorization ?? '').replace(
          /SignedHeaders=([^,]+)/,
          (_all, list: string) =>
            `SignedHeaders=${list
              .split(';')
              .filter((h) => h !== name)
              .join(';')}`,
        );
        return rawPost(dataApiUrl(), '/Execute', headers, body);
      });
    const noHost = await leaveOut('host');
    const noDate = await leaveOut('x-amz-date');
    // Assess
    expect(noHost.errorType).toBe('IncompleteSignatureException');
    expect(noHost.body.message).toBe(
      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    );
    expect(noDate.errorType).toBe('IncompleteSignatureException');
    expect(noDate.body.message).toBe("'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
  });

  it('a signature scoped to another region or service: InvalidSignatureException', async () => {
    // Act
    const scoped = (scope: { region?: string; service?: string }) =>
      attack(async (body) =>
        rawPost(
          dataApiUrl(),
          '/Execute',
          await signedHeaders(dataApiUrl(), '/Execute', body, { key: key(), ...scope }),
          body,
        ),
      );
    const region = await scoped({ region: 'eu-west-1' });
    const service = await scoped({ service: 'rds' });
    // Assess
    expect(region.errorType).toBe('InvalidSignatureException');
    expect(region.body.message).toBe("Credential should be scoped to a valid region, not 'eu-west-1'.");
    expect(service.errorType).toBe('InvalidSignatureException');
    expect(service.body.message).toBe("Credential should be scoped to correct service: 'rds-data'.");
  });

  it('a malformed Authorization header: IncompleteSignatureException', async () => {
    // Act
    const response = await attack((body) =>
      rawPost(
        dataApiUrl(),
        '/Execute',
        {
          host: new URL(dataApiUrl()).host,
          authorization: `AWS4-HMAC-SHA256 Credential=${key().accessKeyId}`,
          'content-type': 'application/json',
        },
        body,
      ),
    );
    // Assess
    expect(response.status).toBe(403);
    expect(response.errorType).toBe('IncompleteSignatureException');
    expect(response.body.message).toBe(
      "Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter.",
    );
  });

  it('none of the refused statements reached PostgreSQL, and no row changed', async () => {
    // Act: a correctly signed probe, the control: its notification arrives, and it was sent
    // after every refused one, so theirs would have arrived first
    const headers = await signedHeaders(dataApiUrl(), '/Execute', probeBody('control'), { key: key() });
    const control = await rawPost(dataApiUrl(), '/Execute', headers, probeBody('control'));
    const deadline = Date.now() + 5_000;
    while (!notifications.includes('control') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Assess
    expect(control.status).toBe(200);
    expect({ notifications, state: await state() }).toEqual({ notifications: ['control'], state: before });
  });
});

describe('the callers that hold the key', () => {
  it('the real SDK with the right credentials works', async () => {
    // Act
    const client = sdkClient(key());
    try {
      const result = await client.send(
        new ExecuteStatementCommand({
          resourceArn: localClusterArn,
          secretArn: localSecretArn('bank_teller'),
          database: stack.db.name,
          sql: 'SELECT current_user::text',
        }),
      );
      // Assess
      expect(result.records).toEqual([[{ stringValue: 'bank_teller' }]]);
    } finally {
      client.destroy();
    }
  });

  it('the handlers (their SDK client reads AWS_ACCESS_KEY_ID) go through', async () => {
    // Act
    const response = await stack.call('GET', '/health');
    const login = await stack.call('POST', '/auth/login', {
      body: { username: 'nobody-at-all', password: 'not-a-password-1' },
    });
    // Assess: the login reached the database (401 from its checks, not a 500 from the Data API)
    expect(response.status).toBe(200);
    expect(login.status).toBe(401);
    expect(process.env.AWS_ACCESS_KEY_ID).toBe(key().accessKeyId);
  });
});

describe('the key file npm start keeps', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'bank-key-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is created with mode 0600 and reused, unchanged, on the next start', async () => {
    // Act
    const file = path.join(dir, 'data-api-credentials.json');
    const first = await loadOrCreateAccessKey(file);
    const mode = (await stat(file)).mode & 0o777;
    const second = await loadOrCreateAccessKey(file);
    // Assess
    expect(mode).toBe(0o600);
    expect(second).toEqual(first);
    expect(first.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(first.secretAccessKey).toHaveLength(40);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(first);
  });

  it('is refused when others may read it, or when it holds no key', async () => {
    // Prepare
    const open = path.join(dir, 'open.json');
    await loadOrCreateAccessKey(open);
    await chmod(open, 0o644);
    const garbage = path.join(dir, 'garbage.json');
    await writeFile(garbage, '{"accessKeyId": 1}', { mode: 0o600 });
    // Act + Assess
    await expect(loadOrCreateAccessKey(open)).rejects.toThrow(
      /readable or writable by other users \(mode 644\)/,
    );
    await expect(loadOrCreateAccessKey(garbage)).rejects.toThrow(/does not hold an access key/);
  });
});
