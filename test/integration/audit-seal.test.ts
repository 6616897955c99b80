import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fsBucket } from '../../local/log-bucket';
import type { AuditRowText } from '../../shared/audit/chain';
import { chainHash, genesisHash } from '../../shared/audit/chain';
import { sealPending } from '../../shared/audit/sealer';
import { auditRowsSql, verifyAuditTrail } from '../../shared/audit/verify';
import { query, startTestStack, type TestStack } from '../helpers/stack';

let s: TestStack;
let bucketDir: string;
let adminToken: string;
let gapSeq: string;

async function verify() {
  return verifyAuditTrail(fsBucket(bucketDir), (first, last) =>
    query<AuditRowText & Record<string, unknown>>(s.db, auditRowsSql, [first, last]),
  );
}

/** Bypasses the append-only triggers as the superuser can: what sealing must expose. */
async function tamper(sql: string, params: unknown[] = []): Promise<void> {
  const client = s.db.client();
  await client.connect();
  try {
    await client.query('SET session_replication_role = replica');
    await client.query(sql, params);
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  s = await startTestStack();
  bucketDir = await mkdtemp(path.join(tmpdir(), 'bank-bucket-'));
  await s.createUser('seal-admin', 'seal-admin-password', 'admin');
  adminToken = await s.login('seal-admin', 'seal-admin-password');
  for (let i = 0; i < 2; i += 1) await s.call('GET', '/me', { token: adminToken });
  // A rolled-back insert burns a sequence number: a gap inside what will be a sealed range.
  const client = s.db.client();
  await client.connect();
  await client.query('BEGIN');
  const burnt = await client.query<{ seq: string }>(
    "INSERT INTO audit_logs (actor, action, outcome) VALUES ('x', 'me.get', 'success') RETURNING seq::text",
  );
  gapSeq = burnt.rows[0]?.seq ?? '';
  await client.query('ROLLBACK');
  await client.end();
  for (let i = 0; i < 3; i += 1) await s.call('GET', '/me', { token: adminToken });
});

afterAll(async () => {
  await s?.close();
  await rm(bucketDir, { recursive: true, force: true });
});

describe('audit sealing', () => {
  it('seals settled events into hash-chained batches of a fixed size, and verifies clean', async () => {
    // Prepare
    const events = await query<{ n: number }>(s.db, 'SELECT count(*)::int AS n FROM audit_logs');
    const total = events[0]?.n ?? 0;
    // Act
    const report = await sealPending({ bucket: fsBucket(bucketDir), batchMax: 3, settleS: 0 });
    const again = await sealPending({ bucket: fsBucket(bucketDir), batchMax: 3, settleS: 0 });
    const result = await verify();
    // Assess
    const batches = Math.ceil(total / 3);
    expect(report.uploaded).toEqual(Array.from({ length: batches }, (_, i) => i + 1));
    expect(again.uploaded).toEqual([]);
    expect(result).toEqual({ batches, events: total, lastSealedSeq: expect.any(Number), problems: [] });
    const files = (await readdir(path.join(bucketDir, 'audit/batches'))).sort();
    expect(files).toHaveLength(batches);
    const first = JSON.parse(await readFile(path.join(bucketDir, 'audit/batches', files[0] ?? ''), 'utf8'));
    expect(first.prevHash).toBe(genesisHash);
    expect(first.hash).toBe(chainHash(genesisHash, first.lines));
    const seals = await query(s.db, 'SELECT batch_no::int, batch_hash FROM audit_seals ORDER BY batch_no');
    expect(seals.map((r) => r.batch_no)).toEqual(report.uploaded);
  });

  it('does not seal events younger than the settle time', async () => {
    // Act
    await s.call('GET', '/me', { token: adminToken });
    const report = await sealPending({ bucket: fsBucket(bucketDir), batchMax: 3, settleS: 3600 });
    // Assess
    expect(report.uploaded).toEqual([]);
  });

  it('exposes an edited, a deleted and an inserted event, even with the triggers bypassed', async () => {
    // Prepare: everything so far sealed
    await sealPending({ bucket: fsBucket(bucketDir), batchMax: 3, settleS: 0 });
    const rows = await query<{ seq: string }>(s.db, 'SELECT seq::text FROM audit_logs ORDER BY seq LIMIT 2');
    const [edited, deleted] = rows.map((r) => r.seq);
    // Act
    await tamper("UPDATE audit_logs SET outcome = 'success', actor = 'someone-else' WHERE seq = $1", [
      edited,
    ]);
    await tamper('DELETE FROM audit_logs WHERE seq = $1', [deleted]);
    await tamper(
      `INSERT INTO audit_logs (seq, actor, action, outcome) OVERRIDING SYSTEM VALUE
       VALUES ($1, 'ghost', 'me.get', 'success')`,
      [gapSeq],
    );
    const result = await verify();
    // Assess
    expect(result.problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^event seq ${edited} \\(batch \\d+\\) was changed$`)),
        expect.stringMatching(new RegExp(`^event seq ${deleted} \\(batch \\d+\\) was deleted$`)),
        expect.stringMatching(new RegExp(`^event seq ${gapSeq} was inserted into sealed batch \\d+$`)),
      ]),
    );
    expect(result.problems).toHaveLength(3);
  });

  it('refuses to upload a sealed batch whose events changed before it reached the bucket', async () => {
    // Prepare: a batch sealed in the database but missing from the bucket (a failed upload)
    const emptyBucket = await mkdtemp(path.join(tmpdir(), 'bank-bucket-'));
    try {
      // Act
      const run = sealPending({ bucket: fsBucket(emptyBucket), batchMax: 3, settleS: 0 });
      // Assess: batch 1 includes the event edited above, so its hash no longer matches
      await expect(run).rejects.toThrow(/events changed after sealing/);
    } finally {
      await rm(emptyBucket, { recursive: true, force: true });
    }
  });

  it('keeps bucket objects write-once', async () => {
    // Prepare
    const bucket = fsBucket(bucketDir);
    const key = 'audit/batches/000000000001.json';
    const original = await bucket.get(key);
    // Act + Assess
    await expect(bucket.put(key, '{"forged":true}\n')).rejects.toThrow(/write-once/);
    expect(await bucket.get(key)).toBe(original);
  });
});
