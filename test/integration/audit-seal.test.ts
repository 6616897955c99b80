import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fsBucket } from '../../local/log-bucket';
import { batchKey, batchPrefix, chainHash, genesisHash } from '../../shared/audit/chain';
import { sealPending } from '../../shared/audit/sealer';
import { pgSealCall } from '../../shared/audit/sessions';
import { type SealWorld, sealWorld } from '../helpers/seal';

let w: SealWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

describe('audit sealing', () => {
  it('seals the audit trail, the ledger and the balances into a chain, and verifies clean', async () => {
    // Prepare
    w = await sealWorld();
    // Act
    const first = await w.seal();
    const again = await w.seal();
    const report = await w.verify();
    // Assess
    expect(first.uploaded).toEqual([1]);
    expect(again.uploaded).toEqual([]);
    expect(report).toEqual({
      batches: 1,
      sealedThrough: {
        batchNo: 1,
        sealedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      },
      events: 4,
      entries: 3,
      balances: 2,
      awaitingUpload: 0,
      unsealed: { events: 0, entries: 0, oldestAgeS: null },
      problems: [],
    });
    const batch = JSON.parse(await readFile(path.join(w.bucketDir, batchKey(1)), 'utf8'));
    expect(batch.prevHash).toBe(genesisHash);
    expect(batch.hash).toBe(chainHash(genesisHash, batch.lines));
    const kinds = batch.lines.map((l: string) => JSON.parse(l).kind);
    expect(kinds).toEqual([
      'batch',
      'audit',
      'audit',
      'audit',
      'audit',
      'history',
      'history',
      'history',
      'balance',
      'balance',
    ]);
    const balances = batch.lines
      .filter((l: string) => JSON.parse(l).kind === 'balance')
      .map((l: string) => JSON.parse(l));
    expect(balances).toEqual([
      {
        kind: 'balance',
        accountId: Number(w.accounts.a.id),
        accountNo: '400000000018',
        balanceMinor: '7450',
      },
      {
        kind: 'balance',
        accountId: Number(w.accounts.b.id),
        accountNo: '400000000026',
        balanceMinor: '5000',
      },
    ]);
    const seals = await w.rows<{ batch_hash: string }>('SELECT batch_hash FROM seal_batches');
    expect(seals).toEqual([{ batch_hash: batch.hash }]);
  });

  it('reads every row past its first page, in number order (seq 10 after 9, not after 1)', async () => {
    // Prepare: more audit events than one page of the verifier's read (500), seqs of 1 to 4 digits.
    w = await sealWorld();
    await w.rows(
      "INSERT INTO audit_logs (actor, action, outcome) SELECT 'bulk', 'me.get', 'success' FROM generate_series(1, 1200)",
    );
    const [{ count } = { count: '0' }] = await w.rows<{ count: string }>(
      'SELECT count(*)::text AS count FROM audit_logs',
    );
    // Act
    await w.seal({ batchMax: 1000 });
    const report = await w.verify();
    // Assess
    expect(report.problems).toEqual([]);
    expect(report.events).toBe(Number(count));
    expect(report.unsealed).toEqual({ events: 0, entries: 0, oldestAgeS: null });
  });

  it('reports what is not yet sealed, with the age of the oldest, and seals it on the next run', async () => {
    // Prepare
    w = await sealWorld();
    await w.seal();
    await w.move(w.accounts.b, 'DEPOSIT', 100n);
    // Act
    const before = await w.verify();
    const run = await w.seal();
    const after = await w.verify();
    // Assess
    expect(before.unsealed).toEqual({ events: 1, entries: 1, oldestAgeS: expect.any(Number) });
    expect(before.unsealed.oldestAgeS).toBeLessThan(60);
    expect(before.problems).toEqual([]);
    expect(run.uploaded).toEqual([2]);
    expect(after).toMatchObject({
      batches: 2,
      events: 5,
      entries: 4,
      unsealed: { events: 0, entries: 0 },
      problems: [],
    });
  });

  it('bounds a batch by lines and seals an account balance with the batch that takes its last entry', async () => {
    // Prepare
    w = await sealWorld();
    // Act
    const run = await w.seal({ batchMax: 3 });
    const report = await w.verify();
    // Assess: 7 rows in batches of at most 3 lines each
    expect(run.uploaded).toEqual([1, 2, 3]);
    expect(report).toMatchObject({ batches: 3, events: 4, entries: 3, balances: 2, problems: [] });
  });

  it('bounds a batch by bytes, so that one batch fits one Data API response', async () => {
    // Prepare
    w = await sealWorld();
    // Act
    const run = await w.seal({ bytesMax: 1000 });
    const report = await w.verify();
    // Assess: every batch's rows (header aside) take at most 1,000 bytes, or it holds one row
    expect(run.uploaded.length).toBeGreaterThan(1);
    for (const n of run.uploaded) {
      const batch = JSON.parse((await w.bucket.get(batchKey(n))) ?? '{}') as { lines: string[] };
      const rows = batch.lines.slice(1).filter((l) => JSON.parse(l).kind !== 'balance');
      const bytes = rows.reduce((total, l) => total + Buffer.byteLength(l) + 1, 0);
      expect(rows.length === 1 || bytes <= 1000, `batch ${n}: ${rows.length} rows, ${bytes} bytes`).toBe(
        true,
      );
    }
    expect(report).toMatchObject({
      batches: run.uploaded.length,
      events: 4,
      entries: 3,
      balances: 2,
      problems: [],
    });
  });

  it('seals a row whose transaction stayed open across a sealer run, in the next batch', async () => {
    // Prepare: one connection holds a transaction open with an audit event in it
    w = await sealWorld();
    const slow = await w.connect();
    try {
      await slow.query('BEGIN');
      const held = await slow.query<{ seq: string }>(
        "INSERT INTO audit_logs (actor, action, outcome) VALUES ('slow', 'me.get', 'success') RETURNING seq::text",
      );
      await w.audit('me.get');
      // Act
      const during = await w.seal();
      await slow.query('COMMIT');
      const between = await w.verify();
      const after = await w.seal();
      const report = await w.verify();
      // Assess
      expect(during.uploaded).toEqual([1]);
      expect(between.problems).toEqual([]);
      expect(between.unsealed.events).toBe(1);
      expect(after.uploaded).toEqual([2]);
      expect(report).toMatchObject({
        batches: 2,
        events: 6,
        unsealed: { events: 0, entries: 0 },
        problems: [],
      });
      const batch2 = JSON.parse(await readFile(path.join(w.bucketDir, batchKey(2)), 'utf8'));
      expect(batch2.lines.slice(1).map((l: string) => JSON.parse(l).seq)).toEqual([
        Number(held.rows[0]?.seq),
      ]);
    } finally {
      await slow.end();
    }
  });

  it('uploads a batch whose upload failed on the next run, and refuses one edited while it waited', async () => {
    // Prepare: two batches sealed in the database whose uploads "failed" (they went to a bucket we drop)
    w = await sealWorld();
    const lost = fsBucket(path.join(w.bucketDir, 'lost'));
    const client = w.db.client('bank_admin');
    await client.connect();
    try {
      const failing = { ...lost, putNew: async () => Promise.reject(new Error('network down')) };
      await expect(sealPending({ bucket: failing, call: pgSealCall(client) })).rejects.toThrow(
        'network down',
      );
    } finally {
      await client.end();
    }
    // Act
    const retried = await w.seal();
    const report = await w.verify();
    await w.move(w.accounts.a, 'DEPOSIT', 1n);
    const client2 = w.db.client('bank_admin');
    await client2.connect();
    try {
      const failing = { ...w.bucket, putNew: async () => Promise.reject(new Error('network down')) };
      await expect(sealPending({ bucket: failing, call: pgSealCall(client2) })).rejects.toThrow(
        'network down',
      );
    } finally {
      await client2.end();
    }
    await w.tamper(
      `UPDATE seal_uploads SET body = jsonb_set(body, '{lines,1}', to_jsonb(replace(body->'lines'->>1, 'accounts.deposit', 'accounts.withdraw')))`,
    );
    const refused = w.seal();
    // Assess
    expect(retried.uploaded).toEqual([1]);
    expect(report.problems).toEqual([]);
    await expect(refused).rejects.toThrow('batch 2: its lines changed after sealing');
  });

  it('creates each batch object once: a second create is refused, and the first stays', async () => {
    // Prepare
    w = await sealWorld();
    await w.seal();
    const original = await w.bucket.get(batchKey(1));
    // Act
    const second = w.bucket.putNew(batchKey(1), '{"forged":true}\n');
    // Assess
    await expect(second).rejects.toThrow(/exists/);
    expect(await w.bucket.get(batchKey(1))).toBe(original);
    expect(await w.bucket.listVersions(batchPrefix)).toEqual([
      { key: batchKey(1), versionId: '1', deleteMarker: false },
    ]);
  });
});
