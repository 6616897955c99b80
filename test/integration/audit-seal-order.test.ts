import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fsBucket } from '../../local/log-bucket';
import type { AuditRowText } from '../../shared/audit/chain';
import { sealPending } from '../../shared/audit/sealer';
import { auditRowsSql, verifyAuditTrail } from '../../shared/audit/verify';
import { query, startTestStack, type TestStack } from '../helpers/stack';

/*
 * Found by the chaos harness: an operation that waits on a row lock takes its audit seq late but
 * keeps its transaction's start as created_at, so a lower seq can be younger than a higher one.
 * Sealing must stop at the first event that has not settled, never skip it.
 */
let s: TestStack;
let bucketDir: string;

/** Runs SQL as the superuser with the append-only triggers bypassed (to set created_at). */
async function asSuperuser<T extends Record<string, unknown>>(
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = s.db.client();
  await client.connect();
  try {
    await client.query('SET session_replication_role = replica');
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end();
  }
}

const insertEvent = async (age: string): Promise<string> => {
  const rows = await asSuperuser<{ seq: string }>(
    `INSERT INTO audit_logs (actor, action, outcome, created_at)
     VALUES ('seal-order', 'me.get', 'success', now() - $1::interval) RETURNING seq::text`,
    [age],
  );
  return rows[0]?.seq ?? '';
};

beforeAll(async () => {
  s = await startTestStack();
  bucketDir = await mkdtemp(path.join(tmpdir(), 'bank-bucket-'));
  // Everything so far has settled.
  await asSuperuser("UPDATE audit_logs SET created_at = now() - interval '1 hour'");
});

afterAll(async () => {
  await s?.close();
  await rm(bucketDir, { recursive: true, force: true });
});

describe('audit sealing under out-of-order commits', () => {
  it('stops at the first event that has not settled and verifies clean', async () => {
    const settled = await insertEvent('10 minutes');
    const young = await insertEvent('0 seconds');
    const settledAfterYoung = await insertEvent('10 minutes');
    expect(Number(young)).toBeLessThan(Number(settledAfterYoung));

    await sealPending({ bucket: fsBucket(bucketDir), settleS: 60, batchMax: 1000 });
    const report = await verifyAuditTrail(fsBucket(bucketDir), (first, last) =>
      query<AuditRowText & Record<string, unknown>>(s.db, auditRowsSql, [first, last]),
    );
    expect(report.problems).toEqual([]);
    expect(report.lastSealedSeq).toBe(Number(settled));

    // Once the young event settles, the rest is sealed after it, in order.
    await asSuperuser("UPDATE audit_logs SET created_at = now() - interval '5 minutes' WHERE seq = $1", [
      young,
    ]);
    await sealPending({ bucket: fsBucket(bucketDir), settleS: 60, batchMax: 1000 });
    const after = await verifyAuditTrail(fsBucket(bucketDir), (first, last) =>
      query<AuditRowText & Record<string, unknown>>(s.db, auditRowsSql, [first, last]),
    );
    expect(after.problems).toEqual([]);
    expect(after.lastSealedSeq).toBe(Number(settledAfterYoung));
  });
});
