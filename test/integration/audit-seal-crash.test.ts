import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { prepareDatabase } from '../../local/bootstrap';
import { fsBucket } from '../../local/log-bucket';
import { type LocalPostgres, startPostgres } from '../../local/postgres';
import { batchKey } from '../../shared/audit/chain';
import { readDbState } from '../../shared/audit/db-reader';
import { sealPending } from '../../shared/audit/sealer';
import { pgSealCall, pgSession } from '../../shared/audit/sessions';
import { verifySeals } from '../../shared/audit/verify';
import { type DbRole, dbRoles } from '../../shared/auth/db-roles';
import { killPostgres } from '../chaos/bank-process';
import { removeDataDir } from '../helpers/process';

/**
 * Crash recovery and the late-insert check. After PostgreSQL restarts from a crash, no
 * transaction has finished yet, so the sealer's snapshot xmax is the first id handed out since
 * recovery: a transaction that took its id and drew its seq before the sealer read the seq
 * high-water marks, and is still running, holds an id at or above that xmax. Its row, sealed in
 * the next batch, was read as inserted after sealing under an old seq. Its own cluster: this test
 * kills PostgreSQL.
 */
const database = 'bank';
let server: LocalPostgres | undefined;
let dirs: string[] = [];
afterEach(async () => {
  await server?.stop();
  server = undefined;
  for (const dir of dirs) await removeDataDir(dir);
  dirs = [];
});

describe('sealing across a PostgreSQL crash', () => {
  it('reports nothing for rows whose transactions ran across the seal right after a crash restart', {
    timeout: 120_000,
  }, async () => {
    // Prepare: a cluster with the bank's schema, some sealed rows
    const dataDir = await mkdtemp(path.join(tmpdir(), 'bank-seal-crash-'));
    const bucketDir = await mkdtemp(path.join(tmpdir(), 'bank-seal-crash-bucket-'));
    dirs = [dataDir, bucketDir];
    const bucket = fsBucket(bucketDir);
    const passwords = Object.fromEntries(
      dbRoles.map((r) => [r, randomBytes(18).toString('base64url')]),
    ) as Record<DbRole, string>;
    server = await startPostgres({ dataDir, ephemeral: true, maxConnections: 20 });
    await prepareDatabase(server, database, passwords);
    const connect = async (as: 'superuser' | 'bank_admin'): Promise<pg.Client> => {
      if (!server) throw new Error('no server');
      const client =
        as === 'superuser'
          ? server.client(database)
          : new pg.Client({
              host: server.host,
              port: server.port,
              user: 'bank_admin',
              password: passwords.bank_admin,
              database,
            });
      client.on('error', () => undefined); // the crash ends every connection
      await client.connect();
      return client;
    };
    const insertEvent =
      "INSERT INTO audit_logs (actor, action, outcome) VALUES ('crash-test', 'me.get', 'success')";
    const seal = async (): Promise<number[]> => {
      const client = await connect('bank_admin');
      try {
        return (await sealPending({ bucket, call: pgSealCall(client) })).uploaded;
      } finally {
        await client.end();
      }
    };
    const owner = await connect('superuser');
    await owner.query(insertEvent);
    await owner.query(insertEvent);
    await owner.end();
    expect(await seal()).toEqual([1]);
    // A transaction draws a seq and the server is killed before it commits (it is lost).
    const lost = await connect('superuser');
    await lost.query('BEGIN');
    await lost.query(insertEvent);
    const killed = server;
    killPostgres({ pid: killed.pid, port: killed.port });
    await killed.exited;
    server = await startPostgres({ dataDir, ephemeral: true, maxConnections: 20 });
    // Act: right after recovery one event is committed, then a transaction takes its id and
    // draws its seq; the sealer seals while it runs; it commits; the sealer takes its row.
    const after = await connect('superuser');
    await after.query(insertEvent);
    await after.end();
    const running = await connect('superuser');
    await running.query('BEGIN');
    const { rows } = await running.query<{ xid: string; seq: string }>(
      `${insertEvent} RETURNING pg_current_xact_id()::text AS xid, seq::text`,
    );
    const duringSeal = await seal();
    await running.query('COMMIT');
    await running.end();
    const afterCommit = await seal();
    // Assess
    const verifier = await connect('superuser');
    try {
      const report = await verifySeals(bucket, await readDbState(pgSession(verifier)));
      const batchTwo = (await bucket.get(batchKey(2))) ?? '';
      const header = JSON.parse(JSON.parse(batchTwo).lines[0]);
      // The case itself: the running transaction's id is at or above batch 2's snapshot xmax,
      // and its seq within batch 2's high-water mark.
      expect(BigInt(rows[0]?.xid ?? '0')).toBeGreaterThanOrEqual(BigInt(header.xmax));
      expect(Number(rows[0]?.seq ?? '0')).toBeLessThanOrEqual(header.auditSeqHigh);
      // What the verifier judges it by: the sealer's own id, taken after the marks, is above it.
      expect(BigInt(header.seqHighXid)).toBeGreaterThan(BigInt(rows[0]?.xid ?? '0'));
      expect(duringSeal).toEqual([2]);
      expect(afterCommit).toEqual([3]);
      expect(report.problems).toEqual([]);
      expect(report.events).toBe(4);
      await lost.end().catch(() => undefined);
    } finally {
      await verifier.end();
    }
  });
});
