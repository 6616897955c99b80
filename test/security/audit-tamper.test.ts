import { afterEach, describe, expect, it } from 'vitest';
import { batchKey } from '../../shared/audit/chain';
import { type SealWorld, sealWorld } from '../helpers/seal';

/**
 * Tamper evidence. Each case seals a small bank, proves it verifies clean, then edits it as the
 * database owner with every trigger bypassed (session_replication_role = replica) or edits the
 * bucket as anyone with write access to it could, and asserts the verifier's exact findings.
 * test/integration/audit-cli.test.ts runs the same checks through `npm run audit:verify`.
 */
let w: SealWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

async function sealedWorld(): Promise<SealWorld> {
  const world = await sealWorld();
  await world.seal();
  const clean = await world.verify();
  expect(clean.problems).toEqual([]);
  return world;
}

async function one<T extends Record<string, unknown>>(
  world: SealWorld,
  sql: string,
  params: unknown[] = [],
): Promise<T> {
  const [row] = await world.rows<T>(sql, params);
  if (!row) throw new Error(`no row from ${sql}`);
  return row;
}

const sorted = (problems: readonly string[]): string[] => [...problems].sort();

describe('edits after sealing are reported, even with the triggers bypassed', () => {
  it('update of an audit event', async () => {
    w = await sealedWorld();
    const { seq } = await one<{ seq: string }>(w, 'SELECT min(seq)::text AS seq FROM audit_logs');
    await w.tamper("UPDATE audit_logs SET actor = 'someone-else' WHERE seq = $1", [seq]);
    expect((await w.verify()).problems).toEqual([`audit event seq ${seq} (batch 1) was changed`]);
  });

  it('delete of an audit event', async () => {
    w = await sealedWorld();
    const { seq } = await one<{ seq: string }>(w, 'SELECT max(seq)::text AS seq FROM audit_logs');
    await w.tamper('DELETE FROM audit_logs WHERE seq = $1', [seq]);
    expect((await w.verify()).problems).toEqual([`audit event seq ${seq} (batch 1) was deleted`]);
  });

  it('insert under a seq handed out before sealing, before and after the sealer takes it', async () => {
    // Prepare: a rolled-back insert burns a seq inside what gets sealed
    w = await sealWorld();
    const client = await w.connect();
    await client.query('BEGIN');
    const burnt = await client.query<{ seq: string }>(
      "INSERT INTO audit_logs (actor, action, outcome) VALUES ('x', 'me.get', 'success') RETURNING seq::text",
    );
    await client.query('ROLLBACK');
    await client.end();
    const gap = burnt.rows[0]?.seq ?? '';
    await w.audit('me.get');
    await w.seal();
    // Act
    await w.tamper(
      `INSERT INTO audit_logs (seq, actor, action, outcome) OVERRIDING SYSTEM VALUE VALUES ($1, 'ghost', 'me.get', 'success')`,
      [gap],
    );
    const { id } = await one<{ id: string }>(w, 'SELECT id::text FROM audit_logs WHERE seq = $1', [gap]);
    const before = await w.verify();
    const resealed = await w.seal();
    const after = await w.verify();
    // Assess
    const why = 'inserted after batch 1 was sealed, under a seq handed out before it';
    expect(before.problems).toEqual([`audit event seq ${gap} (not sealed, id ${id}): ${why}`]);
    expect(resealed.uploaded).toEqual([2]);
    expect(after.problems).toEqual([`audit event seq ${gap} (batch 2, id ${id}): ${why}`]);
  });

  it('reorder: two sealed events swap their seqs; two ledger entries swap theirs', async () => {
    w = await sealedWorld();
    const [first, second] = (
      await w.rows<{ seq: string }>('SELECT seq::text FROM audit_logs ORDER BY seq LIMIT 2')
    ).map((r) => r.seq);
    const entries = await w.rows<{ seq: string }>(
      'SELECT seq::text FROM history WHERE account_id = $1 ORDER BY seq',
      [w.accounts.a.id],
    );
    const [deposit, withdrawal] = entries.map((r) => r.seq);
    // seq is GENERATED ALWAYS: the owner swaps by deleting and re-inserting with each other's seq.
    await w.tamper([
      [
        'CREATE TEMP TABLE a2 AS SELECT * FROM audit_logs WHERE seq IN ($1::bigint, $2::bigint)',
        [first, second],
      ],
      ['DELETE FROM audit_logs WHERE seq IN (SELECT seq FROM a2)'],
      [
        `INSERT INTO audit_logs OVERRIDING SYSTEM VALUE
         SELECT id, CASE WHEN seq = $1::bigint THEN $2::bigint ELSE $1::bigint END, actor, action, outcome, details,
                ip, user_agent, request_id, created_at FROM a2`,
        [first, second],
      ],
      [
        'CREATE TEMP TABLE h2 AS SELECT * FROM history WHERE seq IN ($1::bigint, $2::bigint)',
        [deposit, withdrawal],
      ],
      ['DELETE FROM history WHERE seq IN (SELECT seq FROM h2)'],
      [
        `INSERT INTO history OVERRIDING SYSTEM VALUE
         SELECT id, CASE WHEN seq = $1::bigint THEN $2::bigint ELSE $1::bigint END, account_id, type, amount_minor,
                balance_after_minor, counterparty_account_id, transfer_id, memo, actor_id, created_at FROM h2`,
        [deposit, withdrawal],
      ],
    ]);
    expect(sorted((await w.verify()).problems)).toEqual(
      sorted([
        `audit event seq ${first} (batch 1) was changed`,
        `audit event seq ${second} (batch 1) was changed`,
        `ledger entry seq ${deposit} (batch 1) was changed`,
        `ledger entry seq ${withdrawal} (batch 1) was changed`,
        `account 400000000018: ledger entry seq ${deposit} records a balance of 74.50 after it, but its entries up to it sum to -25.50`,
      ]),
    );
  });

  it('truncate and rebuild with the very same rows', async () => {
    w = await sealedWorld();
    const seqs = (await w.rows<{ seq: string }>('SELECT seq::text FROM audit_logs ORDER BY seq')).map(
      (r) => r.seq,
    );
    await w.tamper([
      ['CREATE TEMP TABLE copy AS SELECT * FROM audit_logs'],
      ['TRUNCATE audit_logs'],
      ['INSERT INTO audit_logs OVERRIDING SYSTEM VALUE SELECT * FROM copy'],
    ]);
    expect((await w.verify()).problems).toEqual(
      seqs.map(
        (seq) =>
          `audit event seq ${seq} (batch 1) was rewritten: same content, written again by a later transaction`,
      ),
    );
  });

  it('a ledger entry and its balance changed together, keeping balance = sum of entries', async () => {
    w = await sealedWorld();
    const { seq } = await one<{ seq: string }>(w, 'SELECT seq::text FROM history WHERE account_id = $1', [
      w.accounts.b.id,
    ]);
    await w.tamper([
      [
        'UPDATE history SET amount_minor = amount_minor + 1000, balance_after_minor = balance_after_minor + 1000 WHERE seq = $1',
        [seq],
      ],
      ['UPDATE accounts SET balance_minor = balance_minor + 1000 WHERE id = $1', [w.accounts.b.id]],
    ]);
    expect((await w.verify()).problems).toEqual([
      `ledger entry seq ${seq} (batch 1) was changed`,
      'account 400000000026: balance 60.00 is not its sealed balance 50.00 (batch 1) plus the entries since, 0.00',
    ]);
  });

  it('a balance changed alone', async () => {
    w = await sealedWorld();
    await w.tamper('UPDATE accounts SET balance_minor = balance_minor + 100 WHERE id = $1', [
      w.accounts.a.id,
    ]);
    expect((await w.verify()).problems).toEqual([
      'account 400000000018: balance 75.50 but its ledger entries sum to 74.50',
      'account 400000000018: balance 75.50 is not its sealed balance 74.50 (batch 1) plus the entries since, 0.00',
    ]);
  });

  it('a ledger entry deleted', async () => {
    w = await sealedWorld();
    const { seq } = await one<{ seq: string }>(
      w,
      "SELECT seq::text FROM history WHERE account_id = $1 AND type = 'WITHDRAWAL'",
      [w.accounts.a.id],
    );
    await w.tamper('DELETE FROM history WHERE seq = $1', [seq]);
    expect((await w.verify()).problems).toEqual([
      `ledger entry seq ${seq} (batch 1) was deleted`,
      'account 400000000018: balance 74.50 but its ledger entries sum to 100.00',
    ]);
  });

  it('a seal hidden from the sealer: a row marked sealed that no batch holds', async () => {
    w = await sealedWorld();
    await w.audit('me.get');
    const { id, seq } = await one<{ id: string; seq: string }>(
      w,
      'SELECT id::text, seq::text FROM audit_logs ORDER BY seq DESC LIMIT 1',
    );
    await w.tamper("INSERT INTO seal_members (kind, row_id, batch_no) VALUES ('audit', $1, 1)", [id]);
    await w.audit('me.get');
    await w.seal();
    expect((await w.verify()).problems).toEqual([
      `audit event seq ${seq} (not sealed, id ${id}): committed before batch 2 was sealed but left out of it`,
    ]);
  });

  it('a seal row deleted from the database', async () => {
    w = await sealedWorld();
    await w.tamper('DELETE FROM seal_batches WHERE batch_no = 1');
    expect((await w.verify()).problems).toEqual([
      "batch 1: in the bucket but not in the database's seal table",
    ]);
  });
});

describe('the sealer functions, called with the bank_admin password alone', () => {
  it('a batch taken and marked uploaded without its object in the bucket is reported', async () => {
    // Prepare: a sealed bank, then new activity the attacker wants to keep out of the bucket
    w = await sealedWorld();
    await w.audit('me.get');
    const admin = w.db.client('bank_admin');
    await admin.connect();
    try {
      // Act: take the next batch and confirm its upload, never writing it to the bucket
      const next = await admin.query<{ batch: { batchNo?: number } | null }>(
        'SELECT bank_seal_next(1000, 400000) AS batch',
      );
      const batchNo = next.rows[0]?.batch?.batchNo;
      expect(batchNo).toBe(2);
      await admin.query('SELECT bank_seal_uploaded($1)', [batchNo]);
    } finally {
      await admin.end();
    }
    // Assess
    const problems = (await w.verify()).problems;
    expect(
      problems.some((p) => /^batch 2: /.test(p)),
      problems.join('\n'),
    ).toBe(true);
  });
});

describe('the bucket: every version is read', () => {
  it('an overwritten batch object', async () => {
    w = await sealedWorld();
    const original = await w.bucket.get(batchKey(1));
    await w.bucket.put(batchKey(1), (original ?? '').replace('accounts.deposit', 'accounts.withdraw'));
    expect((await w.verify()).problems).toEqual([
      'batch 1: overwritten or deleted in the bucket after sealing (versions: 2, delete markers: 0); the first version is checked',
    ]);
  });

  it('a deleted batch object', async () => {
    w = await sealedWorld();
    await w.bucket.delete(batchKey(1));
    expect((await w.verify()).problems).toEqual([
      'batch 1: overwritten or deleted in the bucket after sealing (versions: 1, delete markers: 1); the first version is checked',
    ]);
  });

  it('the last seal row and its object deleted, an event rewritten, and the sealer run again', async () => {
    // Prepare: two batches
    w = await sealedWorld();
    await w.audit('me.get');
    await w.seal();
    const { seq } = await one<{ seq: string }>(w, 'SELECT max(seq)::text AS seq FROM audit_logs');
    // Act
    await w.tamper([
      ['DELETE FROM seal_members WHERE batch_no = 2'],
      ['DELETE FROM seal_batches WHERE batch_no = 2'],
      ["UPDATE audit_logs SET actor = 'someone-else' WHERE seq = $1", [seq]],
    ]);
    await w.bucket.delete(batchKey(2));
    const resealed = await w.seal();
    // Assess
    expect(resealed.uploaded).toEqual([2]);
    expect((await w.verify()).problems).toEqual([
      'batch 2: overwritten or deleted in the bucket after sealing (versions: 2, delete markers: 1); the first version is checked',
      "batch 2: the database's seal differs from the bucket's",
      `audit event seq ${seq} (batch 2) was changed`,
    ]);
  });
});

describe('no gaps: every committed row is sealed, whatever its seq or date', () => {
  it('rows inserted with seq 0 and -7 are sealed and reported', async () => {
    w = await sealedWorld();
    await w.tamper(
      `INSERT INTO audit_logs (seq, actor, action, outcome) OVERRIDING SYSTEM VALUE
       VALUES (0, 'ghost', 'me.get', 'success'), (-7, 'ghost', 'me.get', 'success')`,
    );
    const ids = await w.rows<{ id: string; seq: string }>(
      'SELECT id::text, seq::text FROM audit_logs WHERE seq <= 0 ORDER BY seq',
    );
    const before = await w.verify();
    const resealed = await w.seal();
    const after = await w.verify();
    expect(before.problems).toEqual(
      ids.map((r) => `audit event seq ${r.seq} (not sealed, id ${r.id}): its seq is not positive`),
    );
    expect(resealed.uploaded).toEqual([2]);
    expect(after.problems).toEqual(
      ids.map((r) => `audit event seq ${r.seq} (batch 2, id ${r.id}): its seq is not positive`),
    );
    expect(after.events).toBe(6);
  });

  it('a row dated ten years ahead is sealed and reported', async () => {
    w = await sealedWorld();
    await w.tamper(
      "INSERT INTO audit_logs (actor, action, outcome, created_at) VALUES ('ghost', 'me.get', 'success', now() + interval '10 years')",
    );
    const row = await one<{ id: string; seq: string; at: string }>(
      w,
      `SELECT id::text, seq::text, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS at
         FROM audit_logs ORDER BY seq DESC LIMIT 1`,
    );
    const before = await w.verify();
    await w.seal();
    const after = await w.verify();
    expect(before.problems).toEqual([
      `audit event seq ${row.seq} (not sealed, id ${row.id}): it is dated in the future (${row.at})`,
    ]);
    expect(after.problems).toEqual([
      `audit event seq ${row.seq} (batch 2, id ${row.id}): it is dated in the future (${row.at} when sealed)`,
    ]);
  });
});
