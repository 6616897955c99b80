import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareDatabase } from '../../local/bootstrap';
import { generateAccessKey } from '../../local/data-api/credentials';
import { type DataApiServer, startDataApiServer } from '../../local/data-api/server';

const accessKey = generateAccessKey();

import { type LocalPostgres, startPostgres } from '../../local/postgres';
import { type DbRole, dbRoles } from '../../shared/auth/db-roles';
import { dataApiExecutor } from '../../shared/db/data-api-executor';
import { RotationError, type RotationStep, rotate, rotationSteps } from '../../shared/rotation/rotation';
import { dbRoleStrategy, jwtKeyStrategy, rotatedPasswordLength } from '../../shared/rotation/strategies';
import { FakeSecretStore } from '../helpers/fake-secrets';
import { removeDataDir } from '../helpers/process';

/**
 * The database password rotation, step by step, against the local stack: a real PostgreSQL
 * behind the local Data API server, which (like the real Data API) logs in with whatever is
 * AWSCURRENT in the secret store. Secrets Manager itself is the in-memory fake with its
 * version-stage rules. A PostgreSQL server of its own: role passwords are cluster-wide, and the
 * other test files log in as these roles.
 */
const CLUSTER = 'arn:aws:rds:us-east-1:000000000000:cluster:bank-rotation';
const MASTER = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:master';
const PROBE = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:probe';
const roleSecret = (role: DbRole) => `arn:aws:secretsmanager:us-east-1:000000000000:secret:${role}`;
const database = 'bank';

let dataDir = '';
let server: LocalPostgres;
let dataApi: DataApiServer;
let client: RDSDataClient;
const store = new FakeSecretStore();
const passwords = Object.fromEntries(
  dbRoles.map((r) => [r, randomBytes(18).toString('base64url')]),
) as Record<DbRole, string>;

const target = (secretArn: string) => ({ client, resourceArn: CLUSTER, secretArn, database });
const strategy = () =>
  dbRoleStrategy({
    owner: dataApiExecutor(target(MASTER)),
    probe: async (credentials) => {
      await store.putCurrent(PROBE, JSON.stringify(credentials));
      return dataApiExecutor(target(PROBE));
    },
    clearProbe: () => store.putCurrent(PROBE, JSON.stringify({ cleared: true })),
  });

async function step(secretId: string, token: string, name: RotationStep, s = strategy()): Promise<void> {
  await rotate({ Step: name, SecretId: secretId, ClientRequestToken: token }, store, s);
}

/** Logs in directly (not through the Data API) with a password: true when PostgreSQL accepts it. */
async function logsIn(username: string, password: string): Promise<boolean> {
  const c = new pg.Client({ host: server.host, port: server.port, user: username, password, database });
  try {
    await c.connect();
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function whoAmI(secretArn: string): Promise<unknown> {
  const rows = await dataApiExecutor(target(secretArn)).transaction((tx) =>
    tx.query('SELECT current_user AS who'),
  );
  return rows[0]?.who;
}

function credentialsOf(secretArn: string): { username: string; password: string } {
  const value = store.current(secretArn);
  if (value === undefined) throw new Error(`no current value of ${secretArn}`);
  return JSON.parse(value) as { username: string; password: string };
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'bank-rotation-'));
  server = await startPostgres({ dataDir, ephemeral: true });
  await prepareDatabase(server, database, passwords);
  // Locally the superuser plays the schema owner (the cluster's master user in the cloud).
  store.create(
    MASTER,
    JSON.stringify({ username: server.superuser.user, password: server.superuser.password }),
  );
  store.create(PROBE, JSON.stringify({ cleared: true }));
  for (const role of dbRoles) {
    store.create(
      roleSecret(role),
      JSON.stringify({ username: role, password: passwords[role], dbname: database }),
    );
  }
  dataApi = await startDataApiServer({
    pg: { host: server.host, port: server.port },
    resourceArn: CLUSTER,
    defaultDatabase: database,
    accessKeys: [accessKey],
    region: 'us-east-1',
    resolveSecret: (arn) => {
      const value = store.current(arn);
      if (value === undefined) return undefined;
      const { username, password } = JSON.parse(value) as { username?: unknown; password?: unknown };
      return typeof username === 'string' && typeof password === 'string'
        ? { username, password }
        : undefined;
    },
  });
  client = new RDSDataClient({
    endpoint: dataApi.url,
    region: 'us-east-1',
    credentials: { accessKeyId: accessKey.accessKeyId, secretAccessKey: accessKey.secretAccessKey },
    maxAttempts: 1,
  });
}, 180_000);

afterAll(async () => {
  client?.destroy();
  await dataApi?.close();
  await server?.stop();
  if (dataDir) await removeDataDir(dataDir);
});

describe('database role password rotation over the Data API', () => {
  it.each(dbRoles)(
    'rotates %s through the four steps, and the new password is the one that works',
    async (role) => {
      const arn = roleSecret(role);
      const old = credentialsOf(arn);
      expect(await whoAmI(arn)).toBe(role);
      const token = store.startRotation(arn);

      await step(arn, token, 'createSecret');
      const pending = JSON.parse(
        (await store.value(arn, { versionId: token, stage: 'AWSPENDING' })) ?? '{}',
      ) as {
        username: string;
        password: string;
        dbname: string;
      };
      expect(pending).toMatchObject({ username: role, dbname: database });
      expect(pending.password).toHaveLength(rotatedPasswordLength);
      expect(pending.password).not.toBe(old.password);
      // createSecret again (a retry) keeps the same pending value.
      await step(arn, token, 'createSecret');
      expect(JSON.parse((await store.value(arn, { versionId: token })) ?? '{}')).toEqual(pending);
      expect(await logsIn(role, old.password)).toBe(true);

      await step(arn, token, 'setSecret');
      expect(await logsIn(role, pending.password)).toBe(true);
      expect(await logsIn(role, old.password)).toBe(false);

      await step(arn, token, 'testSecret');
      // The probe no longer holds a login once the test is over.
      expect(JSON.parse(store.current(PROBE) ?? '{}')).toEqual({ cleared: true });

      await step(arn, token, 'finishSecret');
      expect(credentialsOf(arn).password).toBe(pending.password);
      const { stages } = await store.versions(arn);
      expect(stages[token]).toEqual(['AWSCURRENT']);
      expect(Object.values(stages).filter((s) => s.includes('AWSPREVIOUS'))).toHaveLength(1);
      expect(Object.values(stages).some((s) => s.includes('AWSPENDING'))).toBe(false);
      // The Data API now logs in with the new AWSCURRENT.
      expect(await whoAmI(arn)).toBe(role);

      // Every step again with the finished token does nothing.
      for (const name of rotationSteps) await step(arn, token, name);
      expect(credentialsOf(arn).password).toBe(pending.password);
    },
  );

  it('stops at testSecret when the pending password does not log in, and AWSCURRENT still works', async () => {
    const arn = roleSecret('bank_customer');
    const before = credentialsOf(arn);
    const token = store.startRotation(arn);
    await step(arn, token, 'createSecret');
    // setSecret skipped (as if it had failed): the database still has the current password.
    await expect(step(arn, token, 'testSecret')).rejects.toThrow();
    expect(JSON.parse(store.current(PROBE) ?? '{}')).toEqual({ cleared: true });
    expect(credentialsOf(arn)).toEqual(before);
    expect(await whoAmI(arn)).toBe('bank_customer');
    // Tidy up the abandoned version the way the next rotation would: finish it properly.
    await step(arn, token, 'setSecret');
    await step(arn, token, 'testSecret');
    await step(arn, token, 'finishSecret');
    expect(await whoAmI(arn)).toBe('bank_customer');
  });

  it('refuses a token that is not AWSPENDING, and a secret that names no application role', async () => {
    const arn = roleSecret('bank_teller');
    await expect(step(arn, 'not-a-version', 'createSecret')).rejects.toBeInstanceOf(RotationError);
    store.create('arn:owner-by-mistake', JSON.stringify({ username: 'postgres', password: 'x'.repeat(20) }));
    const token = store.startRotation('arn:owner-by-mistake');
    await expect(step('arn:owner-by-mistake', token, 'createSecret')).rejects.toThrow(
      /not an application database role/,
    );
  });

  it('refuses to run when rotation is off for the secret', async () => {
    store.create(
      'arn:not-rotating',
      JSON.stringify({ username: 'bank_admin', password: 'y'.repeat(20) }),
      false,
    );
    const token = store.startRotation('arn:not-rotating');
    await expect(step('arn:not-rotating', token, 'createSecret')).rejects.toThrow(/not enabled/);
  });
});

describe('JWT signing key rotation', () => {
  it('puts a new 64-character key as AWSCURRENT and keeps the old one as AWSPREVIOUS', async () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:jwt';
    const oldKey = 'k'.repeat(64);
    store.create(arn, oldKey);
    const token = store.startRotation(arn);
    for (const name of rotationSteps) await step(arn, token, name, jwtKeyStrategy);
    const current = store.current(arn);
    expect(current).toHaveLength(64);
    expect(current).not.toBe(oldKey);
    expect(await store.value(arn, { stage: 'AWSPREVIOUS' })).toBe(oldKey);
  });
});
