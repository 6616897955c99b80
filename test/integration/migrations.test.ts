import { randomBytes } from 'node:crypto';
import { RDSDataClient } from '@aws-sdk/client-rds-data';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrationsDir } from '../../local/bootstrap';
import { generateAccessKey } from '../../local/data-api/credentials';
import { type DataApiServer, startDataApiServer } from '../../local/data-api/server';
import { pgExecutor } from '../../local/pg-executor';
import { dataApiExecutor } from '../../shared/db/data-api-executor';
import { loadFunctionFiles, loadMigrations, MigrationError, runMigrations } from '../../shared/db/migrate';

const cluster = inject('pg');
const masterArn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:test-master';
const clusterArn = 'arn:aws:rds:us-east-1:000000000000:cluster:test';
const accessKey = generateAccessKey();

function superuser(database: string): pg.Client {
  return new pg.Client({
    host: cluster.host,
    port: cluster.port,
    user: cluster.superuser.username,
    password: cluster.superuser.password,
    database,
  });
}

/**
 * Every function of the bank's schema as PostgreSQL itself states it (definition, grants, owner),
 * and every trigger: what two databases must agree on to behave the same.
 */
async function catalogue(client: pg.Client) {
  const functions = await client.query<{
    name: string;
    signature: string;
    definition: string;
    acl: string | null;
    owner: string;
  }>(
    `SELECT p.proname AS name, p.oid::regprocedure::text AS signature, pg_get_functiondef(p.oid) AS definition,
            p.proacl::text AS acl, pg_get_userbyid(p.proowner) AS owner
       FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace ORDER BY 2`,
  );
  const triggers = await client.query<{ relation: string; name: string; definition: string }>(
    `SELECT tgrelid::regclass::text AS relation, tgname AS name, pg_get_triggerdef(oid) AS definition
       FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1, 2`,
  );
  return { functions: functions.rows, triggers: triggers.rows };
}

/**
 * The sealer's functions, defined by numbered migrations (0005, 0007, 0010) before they got files
 * of their own, which state the same definitions and grants. When one of these files is changed
 * on purpose, take it off this list: its definition then differs from the migrations' by design.
 */
const sealerFunctionsAsMigrated = [
  'bank_audit_chain_hash',
  'bank_seal_audit_line',
  'bank_seal_history_line',
  'bank_seal_next',
  'bank_seal_pending',
  'bank_seal_uploaded',
  'bank_set_auditor_password',
  'bank_xid8',
  'bank_xid_first',
];

async function freshDatabase(): Promise<string> {
  const name = `m_${randomBytes(5).toString('hex')}`;
  const admin = superuser('postgres');
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return name;
}

describe('migration runner', () => {
  let dataApi: DataApiServer;
  const created: string[] = [];

  beforeAll(async () => {
    dataApi = await startDataApiServer({
      pg: { host: cluster.host, port: cluster.port },
      accessKeys: [accessKey],
      region: 'us-east-1',
      resolveSecret: (arn) => (arn === masterArn ? cluster.superuser : undefined),
      resourceArn: clusterArn,
      defaultDatabase: 'postgres',
    });
  });

  afterAll(async () => {
    await dataApi.close();
    const admin = superuser('postgres');
    await admin.connect();
    for (const name of created) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  it('applies every migration through the Data API, one statement per call, then nothing on a re-run', async () => {
    // Prepare
    const database = await freshDatabase();
    created.push(database);
    const migrations = await loadMigrations(migrationsDir);
    const functions = await loadFunctionFiles(migrationsDir);
    const executor = dataApiExecutor({
      client: new RDSDataClient({
        endpoint: dataApi.url,
        region: 'us-east-1',
        credentials: accessKey,
      }),
      resourceArn: clusterArn,
      secretArn: masterArn,
      database,
    });
    // Act
    const first = await runMigrations(executor, { migrations, functions });
    const second = await runMigrations(executor, { migrations, functions });
    // Assess
    expect(first).toEqual({
      applied: migrations.map((m) => m.name),
      alreadyApplied: 0,
      functionsApplied: functions.map((f) => f.name),
    });
    expect(second).toEqual({ applied: [], alreadyApplied: migrations.length, functionsApplied: [] });
    const client = superuser(database);
    await client.connect();
    const rows = await client.query('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
    const transfers = await client.query(
      "SELECT count(*)::int AS n FROM pg_proc WHERE proname = 'bank_transfer'",
    );
    await client.end();
    expect(rows.rows).toEqual(
      migrations.map((m) => ({ version: m.version, name: m.name, checksum: m.checksum })),
    );
    // One bank_transfer: the old signature was dropped by its numbered migration.
    expect(transfers.rows[0]).toEqual({ n: 1 });
  });

  it('gives a new database one audit event per request id, over every row', async () => {
    const database = await freshDatabase();
    created.push(database);
    const client = superuser(database);
    await client.connect();
    try {
      await runMigrations(pgExecutor(client), {
        migrations: await loadMigrations(migrationsDir),
        functions: await loadFunctionFiles(migrationsDir),
      });
      const index = await client.query(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'audit_logs' AND indexname = 'audit_logs_request_id_key'",
      );
      expect(index.rows).toEqual([
        {
          indexdef:
            'CREATE UNIQUE INDEX audit_logs_request_id_key ON public.audit_logs USING btree (request_id) WHERE (request_id IS NOT NULL)',
        },
      ]);
    } finally {
      await client.end();
    }
  });

  it('upgrades a trail that already holds two events for a request: no row changes, the index starts after them', async () => {
    // Prepare: a database at 0011 whose trail has the lost-answer duplicates of the old code.
    const database = await freshDatabase();
    created.push(database);
    const migrations = await loadMigrations(migrationsDir);
    const functions = await loadFunctionFiles(migrationsDir);
    const at0011 = migrations.filter((m) => m.version <= 11);
    expect(at0011.map((m) => m.name).at(-1)).toBe('0011_auditor_sees_pending_uploads.sql');
    const client = superuser(database);
    await client.connect();
    const insert = (requestId: string, outcome: string) =>
      client.query<{ seq: string }>(
        `INSERT INTO audit_logs (actor, action, outcome, request_id) VALUES ('teller', 'accounts.deposit', $1, $2)
         RETURNING seq::text`,
        [outcome, requestId],
      );
    try {
      await runMigrations(pgExecutor(client), { migrations: at0011, functions });
      await insert('req-dup-1', 'success');
      await insert('req-solo', 'success');
      await insert('req-dup-1', 'failed');
      await insert('req-dup-2', 'success');
      const lastDuplicate = (await insert('req-dup-2', 'failed')).rows[0]?.seq;
      await insert('req-after', 'success');
      const rowsBefore = await client.query(
        'SELECT id, seq, xmin::text AS xmin FROM audit_logs ORDER BY seq',
      );
      // Act
      const report = await runMigrations(pgExecutor(client), { migrations, functions });
      // Assess
      expect(report).toEqual({
        applied: ['0012_audit_one_event_per_request.sql'],
        alreadyApplied: 11,
        functionsApplied: [],
      });
      expect(
        (await client.query('SELECT id, seq, xmin::text AS xmin FROM audit_logs ORDER BY seq')).rows,
      ).toEqual(rowsBefore.rows);
      const index = await client.query(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'audit_logs' AND indexname = 'audit_logs_request_id_key'",
      );
      expect(index.rows).toEqual([
        {
          indexdef: `CREATE UNIQUE INDEX audit_logs_request_id_key ON public.audit_logs USING btree (request_id) WHERE ((request_id IS NOT NULL) AND (seq > ${lastDuplicate}))`,
        },
      ]);
      // A request after the duplicates has one event for good: the refusal writer skips it, and
      // an operation's insert fails.
      const skipped = await client.query<{ id: string | null }>(
        "SELECT bank_audit_record($1::jsonb, 'accounts.deposit', 'failed', '{}'::jsonb) AS id",
        [JSON.stringify({ requestId: 'req-after', actor: 'teller' })],
      );
      expect(skipped.rows).toEqual([{ id: null }]);
      await expect(insert('req-after', 'failed')).rejects.toMatchObject({ code: '23505' });
      const counts = await client.query(
        'SELECT request_id, count(*)::int AS n FROM audit_logs GROUP BY request_id ORDER BY request_id',
      );
      expect(counts.rows).toEqual([
        { request_id: 'req-after', n: 1 },
        { request_id: 'req-dup-1', n: 2 },
        { request_id: 'req-dup-2', n: 2 },
        { request_id: 'req-solo', n: 1 },
      ]);
    } finally {
      await client.end();
    }
  });

  it('refuses to run when an applied file was edited, and changes nothing', async () => {
    // Prepare
    const database = await freshDatabase();
    created.push(database);
    const migrations = await loadMigrations(migrationsDir);
    const client = superuser(database);
    await client.connect();
    try {
      await runMigrations(pgExecutor(client), { migrations: migrations.slice(0, 2), functions: [] });
      const edited = migrations.map((m, i) =>
        i === 1 ? { ...m, sql: `${m.sql}\n-- edited`, checksum: 'f'.repeat(64) } : m,
      );
      // Act
      const run = runMigrations(pgExecutor(client), { migrations: edited, functions: [] });
      // Assess
      await expect(run).rejects.toThrow(MigrationError);
      await expect(run).rejects.toThrow(/0002_schema\.sql was edited/);
      const applied = await client.query('SELECT count(*)::int AS n FROM schema_migrations');
      expect(applied.rows[0]).toEqual({ n: 2 });
      const fn = await client.query("SELECT count(*)::int AS n FROM pg_proc WHERE proname = 'bank_transfer'");
      expect(fn.rows[0]).toEqual({ n: 0 });
    } finally {
      await client.end();
    }
  });

  it('rolls back the whole batch when one statement fails', async () => {
    // Prepare
    const database = await freshDatabase();
    created.push(database);
    const migrations = await loadMigrations(migrationsDir);
    const broken = [
      ...migrations,
      {
        version: migrations.length + 1,
        name: '9999_broken.sql',
        sql: 'SELECT no_such_function();',
        checksum: '0'.repeat(64),
      },
    ];
    const client = superuser(database);
    await client.connect();
    try {
      // Act
      await expect(
        runMigrations(pgExecutor(client), {
          migrations: broken,
          functions: await loadFunctionFiles(migrationsDir),
        }),
      ).rejects.toThrow(/9999_broken\.sql/);
      // Assess: not even the good files stayed.
      const tables = await client.query(
        "SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'accounts'",
      );
      expect(tables.rows[0]).toEqual({ n: 0 });
    } finally {
      await client.end();
    }
  });
  it('re-applies a function file when, and only when, its checksum changes, in the same transaction', async () => {
    // Prepare
    const database = await freshDatabase();
    created.push(database);
    const migrations = await loadMigrations(migrationsDir);
    const functions = await loadFunctionFiles(migrationsDir);
    const client = superuser(database);
    await client.connect();
    try {
      await runMigrations(pgExecutor(client), { migrations, functions });
      const fmt = functions.find((f) => f.name === 'bank_fmt');
      expect(fmt).toBeDefined();
      const changedSql = (fmt?.sql ?? '').replace('::numeric(22, 2)::text', "::numeric(22, 2)::text || ''");
      expect(changedSql).not.toBe(fmt?.sql);
      const changed = functions.map((f) =>
        f.name === 'bank_fmt' ? { ...f, sql: changedSql, checksum: 'e'.repeat(64) } : f,
      );
      // Act
      const report = await runMigrations(pgExecutor(client), { migrations, functions: changed });
      // Assess: only that file ran again, its new body is live, and its checksum is recorded.
      expect(report).toEqual({
        applied: [],
        alreadyApplied: migrations.length,
        functionsApplied: ['bank_fmt'],
      });
      const body = await client.query("SELECT prosrc FROM pg_proc WHERE proname = 'bank_fmt'");
      expect(String(body.rows[0]?.prosrc)).toContain("|| ''");
      const recorded = await client.query("SELECT checksum FROM schema_functions WHERE name = 'bank_fmt'");
      expect(recorded.rows).toEqual([{ checksum: 'e'.repeat(64) }]);
      const count = await client.query('SELECT count(*)::int AS n FROM schema_functions');
      expect(count.rows[0]).toEqual({ n: functions.length });
    } finally {
      await client.end();
    }
  });

  it('applies the numbered files without any function file, then gives that database exactly the functions of a fresh install', async () => {
    // Prepare: a database migrated by the numbered files alone (the first half of a fresh install,
    // and what a database was before its functions had files), and a fresh one.
    const older = await freshDatabase();
    const fresh = await freshDatabase();
    created.push(older, fresh);
    const migrations = await loadMigrations(migrationsDir);
    const functions = await loadFunctionFiles(migrationsDir);
    const olderClient = superuser(older);
    const freshClient = superuser(fresh);
    await olderClient.connect();
    await freshClient.connect();
    try {
      // No numbered file needs a function that only a file defines: files come after all of them.
      const numberedOnly = await runMigrations(pgExecutor(olderClient), { migrations, functions: [] });
      expect(numberedOnly.applied).toEqual(migrations.map((m) => m.name));
      const asMigrated = await catalogue(olderClient);
      // Act: the upgrade applies every file over what the numbered files defined.
      const upgrade = await runMigrations(pgExecutor(olderClient), { migrations, functions });
      await runMigrations(pgExecutor(freshClient), { migrations, functions });
      // Assess
      expect(upgrade).toEqual({
        applied: [],
        alreadyApplied: migrations.length,
        functionsApplied: functions.map((f) => f.name),
      });
      const upgraded = await catalogue(olderClient);
      expect(upgraded).toEqual(await catalogue(freshClient));
      // The sealer's files took over its definitions and grants unchanged (pg_get_functiondef and
      // proacl as 0005, 0007 and 0010 left them, byte for byte).
      const fileNames = functions.map((f) => f.name);
      for (const name of sealerFunctionsAsMigrated) {
        expect(fileNames, name).toContain(name);
        const before = asMigrated.functions.filter((f) => f.name === name);
        expect(before, name).toHaveLength(1);
        expect(upgraded.functions.filter((f) => f.name === name)).toEqual(before);
      }
      expect(asMigrated.functions.find((f) => f.name === 'bank_seal_next')?.acl).toMatch(/bank_admin=X\//);
    } finally {
      await olderClient.end();
      await freshClient.end();
    }
  });

  it('refuses a removed function file whose function no numbered migration dropped, and changes nothing', async () => {
    // Prepare
    const database = await freshDatabase();
    created.push(database);
    const migrations = await loadMigrations(migrationsDir);
    const functions = await loadFunctionFiles(migrationsDir);
    const client = superuser(database);
    await client.connect();
    try {
      await runMigrations(pgExecutor(client), { migrations, functions });
      const without = functions.filter((f) => f.name !== 'bank_logout');
      // Act
      const run = runMigrations(pgExecutor(client), { migrations, functions: without });
      // Assess
      await expect(run).rejects.toThrow(/bank_logout\.sql was removed but bank_logout still exists/);
      const recorded = await client.query(
        "SELECT count(*)::int AS n FROM schema_functions WHERE name = 'bank_logout'",
      );
      expect(recorded.rows[0]).toEqual({ n: 1 });
    } finally {
      await client.end();
    }
  });
});
