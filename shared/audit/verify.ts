import * as z from '../zod';
import type { LogBucket, ObjectVersion } from './bucket';
import {
  type AuditRow,
  auditLine,
  batchNoOfKey,
  batchPrefix,
  chainHash,
  genesisHash,
  type HistoryRow,
  historyLine,
  signedAmount,
} from './chain';
import type { DbState } from './db-reader';
import { parseBatch } from './sealer';

/**
 * Verifies the sealed record end to end: every version of every batch object in the bucket (the
 * first version is the sealed one; any later version or delete marker is reported), the chain
 * from genesis, the database's seal table against the bucket, every sealed row against the
 * database as it is now (rebuilt here from raw columns, not by the database's own functions),
 * every row not yet sealed against what sealing promises, and every balance against its ledger
 * entries and its seal. Each problem is one line of plain text.
 */
export interface VerifyReport {
  readonly batches: number;
  readonly sealedThrough: { readonly batchNo: number; readonly sealedAt: string } | null;
  /** Audit events, ledger entries and account balances in the sealed batches. */
  readonly events: number;
  readonly entries: number;
  readonly balances: number;
  /** Batches sealed in the database and waiting for the sealer to upload them. */
  readonly awaitingUpload: number;
  readonly unsealed: {
    readonly events: number;
    readonly entries: number;
    readonly oldestAgeS: number | null;
  };
  readonly problems: string[];
}

const headerSchema = z.object({
  kind: z.literal('batch'),
  batchNo: z.number(),
  sealedAt: z.string(),
  xmin: z.string().check(z.regex(/^\d+$/)),
  xmax: z.string().check(z.regex(/^\d+$/)),
  auditSeqHigh: z.number(),
  historySeqHigh: z.number(),
  /**
   * The sealer's own transaction id, taken after the seq high-water marks were read: every
   * transaction that had drawn a seq up to them has a lower id. Absent from batches sealed
   * before it was recorded; for those the snapshot's xmax stands in.
   */
  seqHighXid: z.optional(z.string().check(z.regex(/^\d+$/))),
  complete: z.boolean(),
});
type Header = z.infer<typeof headerSchema>;

const rowLineSchema = z.object({
  kind: z.enum(['audit', 'history']),
  id: z.string(),
  seq: z.number(),
  xid: z.string().check(z.regex(/^\d+$/)),
});
const historyLineSchema = z.object({ accountId: z.number(), type: z.string(), amountMinor: z.string() });
const balanceLineSchema = z.object({
  kind: z.literal('balance'),
  accountId: z.number(),
  accountNo: z.string(),
  balanceMinor: z.string(),
});

interface SealedRow {
  readonly batchNo: number;
  readonly line: string;
  readonly seq: number;
  readonly xid: bigint;
}

interface Batch {
  readonly batchNo: number;
  readonly header: Header;
  readonly hash: string;
  readonly lines: readonly string[];
}

/** Seconds a row's time may lead the clock that judges it (clock skew between hosts). */
const futureSlackMs = 5 * 60 * 1000;
const xidWrap = 2n ** 32n;

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function formatMinor(minor: bigint): string {
  const sign = minor < 0n ? '-' : '';
  const abs = minor < 0n ? -minor : minor;
  return `${sign}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
}

/** The full transaction id of a visible row's xmin: the one just below the reading snapshot's xmax. */
function fullXid(xmin: string, xmax: bigint): bigint {
  return xmax - (((((xmax % xidWrap) - BigInt(xmin)) % xidWrap) + xidWrap) % xidWrap);
}

async function readBatches(bucket: LogBucket, problems: string[]): Promise<Batch[]> {
  const byNo = new Map<number, ObjectVersion[]>();
  const strangers = new Set<string>();
  for (const version of await bucket.listVersions(batchPrefix)) {
    const batchNo = batchNoOfKey(version.key);
    if (batchNo === undefined) strangers.add(version.key);
    else byNo.set(batchNo, [...(byNo.get(batchNo) ?? []), version]);
  }
  for (const key of strangers) problems.push(`unexpected object ${key} in the log bucket`);
  const last = Math.max(0, ...byNo.keys());
  const batches: Batch[] = [];
  let prevHash: string | undefined = genesisHash;
  for (let batchNo = 1; batchNo <= last; batchNo += 1) {
    const versions = byNo.get(batchNo) ?? [];
    const sealed = versions.find((v) => !v.deleteMarker);
    const markers = versions.filter((v) => v.deleteMarker).length;
    if (versions.length > 1 || versions.at(-1)?.deleteMarker) {
      problems.push(
        `batch ${batchNo}: overwritten or deleted in the bucket after sealing ` +
          `(versions: ${versions.length - markers}, delete markers: ${markers}); the first version is checked`,
      );
    }
    const text = sealed ? await bucket.get(batchKeyOf(batchNo), sealed.versionId) : undefined;
    if (text === undefined) {
      problems.push(`batch ${batchNo}: missing from the bucket`);
      prevHash = undefined;
      continue;
    }
    const batch = parseBatch(text);
    const header = headerSchema.safeParse(parseJson(batch?.lines[0] ?? '')).data;
    if (!batch || !header || batch.batchNo !== batchNo || header.batchNo !== batchNo) {
      problems.push(`batch ${batchNo}: not a readable sealed batch`);
      prevHash = undefined;
      continue;
    }
    if (prevHash !== undefined && batch.prevHash !== prevHash) {
      problems.push(
        batchNo === 1
          ? 'batch 1: does not start the chain from the genesis hash'
          : `batch ${batchNo}: does not continue the chain from batch ${batchNo - 1}`,
      );
    }
    if (chainHash(batch.prevHash, batch.lines) !== batch.hash) {
      problems.push(`batch ${batchNo}: its lines do not match its hash`);
    }
    prevHash = batch.hash;
    batches.push({ batchNo, header, hash: batch.hash, lines: batch.lines });
  }
  return batches;
}

function batchKeyOf(batchNo: number): string {
  return `${batchPrefix}${String(batchNo).padStart(12, '0')}.json`;
}

export async function verifySeals(bucket: LogBucket, db: DbState): Promise<VerifyReport> {
  const problems: string[] = [];
  const batches = await readBatches(bucket, problems);

  // The database's seal table and the bucket must tell the same story.
  const inBucket = new Map(batches.map((b) => [b.batchNo, b.hash]));
  const inDb = new Set<number>();
  for (const seal of db.seals) {
    const batchNo = Number(seal.batchNo);
    inDb.add(batchNo);
    const hash = inBucket.get(batchNo);
    if (hash === undefined) {
      // Sealed, not uploaded yet (an upload failed, or a backup was taken in between): the next
      // sealer run uploads it before anything else. Not a problem while it is waiting.
      if (db.awaitingUpload.includes(String(batchNo))) continue;
      if (!problems.some((p) => p.startsWith(`batch ${batchNo}: `)))
        problems.push(`batch ${batchNo}: sealed in the database but not in the bucket`);
    } else if (hash !== seal.batchHash) {
      problems.push(`batch ${batchNo}: the database's seal differs from the bucket's`);
    }
  }
  for (const batch of batches) {
    if (!inDb.has(batch.batchNo))
      problems.push(`batch ${batch.batchNo}: in the bucket but not in the database's seal table`);
  }

  // Sealed rows by identity.
  const sealed = { audit: new Map<string, SealedRow>(), history: new Map<string, SealedRow>() };
  const sealedHistory: Array<{ batchNo: number; accountId: string; signed: bigint }> = [];
  const sealedBalances: Array<{ batchNo: number; accountId: string; accountNo: string; balance: bigint }> =
    [];
  for (const batch of batches) {
    for (const line of batch.lines.slice(1)) {
      const parsed = parseJson(line);
      const row = rowLineSchema.safeParse(parsed).data;
      if (row) {
        const label = row.kind === 'audit' ? 'audit event' : 'ledger entry';
        const earlier = sealed[row.kind].get(row.id);
        if (earlier) {
          problems.push(
            `${label} ${row.id} is sealed twice (batches ${earlier.batchNo} and ${batch.batchNo})`,
          );
          continue;
        }
        sealed[row.kind].set(row.id, { batchNo: batch.batchNo, line, seq: row.seq, xid: BigInt(row.xid) });
        if (row.kind === 'history') {
          const entry = historyLineSchema.safeParse(parsed).data;
          if (entry && /^\d+$/.test(entry.amountMinor)) {
            sealedHistory.push({
              batchNo: batch.batchNo,
              accountId: String(entry.accountId),
              signed: signedAmount(entry.type, BigInt(entry.amountMinor)),
            });
          }
        }
        continue;
      }
      const balance = balanceLineSchema.safeParse(parsed).data;
      if (balance && /^-?\d+$/.test(balance.balanceMinor)) {
        sealedBalances.push({
          batchNo: batch.batchNo,
          accountId: String(balance.accountId),
          accountNo: balance.accountNo,
          balance: BigInt(balance.balanceMinor),
        });
        continue;
      }
      problems.push(`batch ${batch.batchNo}: a line that is not an audit event, ledger entry or balance`);
    }
  }

  const xmax = BigInt(db.xmax);
  const now = Date.parse(db.now);
  const byBatch = new Map(batches.map((b) => [b.batchNo, b]));
  const complete = batches.filter((b) => b.header.complete);
  // Snapshots and the sealer's transaction ids only move forward, so both bounds are sorted with
  // the batches: binary searches.
  // Not the snapshot's xmax where the batch has seqHighXid: xmax is the newest finished
  // transaction plus one, and a transaction still running then (after a crash restart, every
  // one) can hold an id at or above it with a seq within the marks, drawn before they were read.
  const seqHighXids = batches.map((b) => BigInt(b.header.seqHighXid ?? b.header.xmax));
  const xmins = complete.map((b) => BigInt(b.header.xmin));
  /** Index of the first element > value in an ascending list. */
  const firstAbove = (sorted: readonly bigint[], value: bigint): number => {
    let low = 0;
    let high = sorted.length;
    while (low < high) {
      const mid = (low + high) >> 1;
      if ((sorted[mid] ?? 0n) > value) high = mid;
      else low = mid + 1;
    }
    return low;
  };
  let oldestUnsealed: number | undefined;
  const unsealedCount = { audit: 0, history: 0 };
  const unsealedIds = new Set<string>();

  /** What sealing promises of any row, sealed or not, that still matches its seal. */
  const rowReasons = (
    kind: 'audit' | 'history',
    seq: bigint,
    createdAt: string,
    xid: bigint,
    sealedIn: number | undefined,
  ): string[] => {
    const reasons: string[] = [];
    const seqLast = BigInt(kind === 'audit' ? db.auditSeqLast : db.historySeqLast);
    if (seq <= 0n) reasons.push('its seq is not positive');
    else if (seq > seqLast) reasons.push('its seq is beyond what the sequence has handed out');
    const judgedAt =
      sealedIn === undefined ? now : Date.parse(byBatch.get(sealedIn)?.header.sealedAt ?? db.now);
    if (Date.parse(createdAt) > judgedAt + futureSlackMs)
      reasons.push(`it is dated in the future (${createdAt}${sealedIn === undefined ? '' : ' when sealed'})`);
    // The last batch whose seq high-water marks were read before this row's transaction took
    // its id: the row's seq must be newer than every seq handed out by then (its transaction id
    // is taken before its seq).
    const before = batches[firstAbove(seqHighXids, xid) - 1];
    const seqHigh = before
      ? BigInt(kind === 'audit' ? before.header.auditSeqHigh : before.header.historySeqHigh)
      : 0n;
    if (before && seq > 0n && seq <= seqHigh)
      reasons.push(`inserted after batch ${before.batchNo} was sealed, under a seq handed out before it`);
    // The first complete batch whose snapshot saw this row's transaction finished must hold it.
    const due = complete[firstAbove(xmins, xid)];
    if (due && (sealedIn === undefined || sealedIn > due.batchNo))
      reasons.push(`committed before batch ${due.batchNo} was sealed but left out of it`);
    return reasons;
  };

  const checkRows = <R extends AuditRow | HistoryRow>(
    kind: 'audit' | 'history',
    rows: readonly R[],
    lineOf: (row: R, xid: string) => string,
  ): void => {
    const label = kind === 'audit' ? 'audit event' : 'ledger entry';
    const seen = new Set<string>();
    for (const row of rows) {
      seen.add(row.id);
      const seal = sealed[kind].get(row.id);
      let xid = fullXid(row.xmin, xmax);
      if (seal) {
        const sameXid = seal.xid % xidWrap === BigInt(row.xmin);
        const line = lineOf(row, seal.xid.toString());
        if (!sameXid && line === seal.line) {
          problems.push(
            `${label} seq ${seal.seq} (batch ${seal.batchNo}) was rewritten: same content, written again by a later transaction`,
          );
          continue;
        }
        if (!sameXid || line !== seal.line) {
          problems.push(`${label} seq ${seal.seq} (batch ${seal.batchNo}) was changed`);
          continue;
        }
        xid = seal.xid;
      }
      const reasons = rowReasons(kind, BigInt(row.seq), row.createdAt, xid, seal?.batchNo);
      if (reasons.length > 0) {
        const where = seal ? `batch ${seal.batchNo}` : 'not sealed';
        problems.push(`${label} seq ${row.seq} (${where}, id ${row.id}): ${reasons.join('; ')}`);
      } else if (!seal) {
        unsealedCount[kind] += 1;
        unsealedIds.add(row.id);
        const at = Date.parse(row.createdAt);
        oldestUnsealed = oldestUnsealed === undefined ? at : Math.min(oldestUnsealed, at);
      }
    }
    for (const [id, seal] of sealed[kind]) {
      if (!seen.has(id)) problems.push(`${label} seq ${seal.seq} (batch ${seal.batchNo}) was deleted`);
    }
  };
  checkRows('audit', db.audit, auditLine);
  checkRows('history', db.history, historyLine);

  // Balances: each equals the sum of its entries, entry by entry and now, and matches its seal.
  const accountNo = new Map(db.accounts.map((a) => [a.id, a.accountNo]));
  const nameOf = (id: string): string => accountNo.get(id) ?? `id ${id}`;
  const byAccount = new Map<string, HistoryRow[]>();
  for (const row of db.history) {
    const rows = byAccount.get(row.accountId);
    if (rows) rows.push(row);
    else byAccount.set(row.accountId, [row]);
  }
  for (const [id, rows] of byAccount) {
    let running = 0n;
    for (const row of [...rows].sort((a, b) => (BigInt(a.seq) < BigInt(b.seq) ? -1 : 1))) {
      running += signedAmount(row.type, BigInt(row.amountMinor));
      if (BigInt(row.balanceAfterMinor) !== running) {
        problems.push(
          `account ${nameOf(id)}: ledger entry seq ${row.seq} records a balance of ${formatMinor(BigInt(row.balanceAfterMinor))} after it, but its entries up to it sum to ${formatMinor(running)}`,
        );
        break;
      }
    }
  }
  for (const account of db.accounts) {
    const sum = (byAccount.get(account.id) ?? []).reduce(
      (total, row) => total + signedAmount(row.type, BigInt(row.amountMinor)),
      0n,
    );
    if (BigInt(account.balanceMinor) !== sum) {
      problems.push(
        `account ${account.accountNo}: balance ${formatMinor(BigInt(account.balanceMinor))} but its ledger entries sum to ${formatMinor(sum)}`,
      );
    }
  }
  const sealedSum = new Map<string, bigint>();
  const lastSealed = new Map<string, { batchNo: number; balance: bigint }>();
  let historyIndex = 0;
  const sortedHistory = [...sealedHistory].sort((a, b) => a.batchNo - b.batchNo);
  for (const balance of [...sealedBalances].sort((a, b) => a.batchNo - b.batchNo)) {
    for (; historyIndex < sortedHistory.length; historyIndex += 1) {
      const entry = sortedHistory[historyIndex];
      if (!entry || entry.batchNo > balance.batchNo) break;
      sealedSum.set(entry.accountId, (sealedSum.get(entry.accountId) ?? 0n) + entry.signed);
    }
    const sum = sealedSum.get(balance.accountId) ?? 0n;
    if (sum !== balance.balance) {
      problems.push(
        `batch ${balance.batchNo}: account ${balance.accountNo}'s sealed balance ${formatMinor(balance.balance)} is not the sum of its sealed entries, ${formatMinor(sum)}`,
      );
    }
    lastSealed.set(balance.accountId, { batchNo: balance.batchNo, balance: balance.balance });
  }
  for (const account of db.accounts) {
    const seal = lastSealed.get(account.id);
    if (!seal) continue;
    const since = (byAccount.get(account.id) ?? [])
      .filter((row) => (sealed.history.get(row.id)?.batchNo ?? Number.POSITIVE_INFINITY) > seal.batchNo)
      .reduce((total, row) => total + signedAmount(row.type, BigInt(row.amountMinor)), 0n);
    if (BigInt(account.balanceMinor) !== seal.balance + since) {
      problems.push(
        `account ${account.accountNo}: balance ${formatMinor(BigInt(account.balanceMinor))} is not its sealed balance ${formatMinor(seal.balance)} (batch ${seal.batchNo}) plus the entries since, ${formatMinor(since)}`,
      );
    }
  }

  const lastBatch = batches.at(-1);
  return {
    batches: batches.length,
    sealedThrough: lastBatch ? { batchNo: lastBatch.batchNo, sealedAt: lastBatch.header.sealedAt } : null,
    events: sealed.audit.size,
    entries: sealed.history.size,
    balances: new Set(sealedBalances.map((b) => b.accountId)).size,
    awaitingUpload: db.awaitingUpload.length,
    unsealed: {
      events: unsealedCount.audit,
      entries: unsealedCount.history,
      oldestAgeS:
        oldestUnsealed === undefined ? null : Math.max(0, Math.floor((now - oldestUnsealed) / 1000)),
    },
    problems,
  };
}

/** The report as the CLI prints it: what an auditor needs, then every problem. */
export function formatReport(report: VerifyReport): string {
  const through = report.sealedThrough
    ? `batch ${report.sealedThrough.batchNo}, sealed at ${report.sealedThrough.sealedAt}`
    : 'nothing sealed yet';
  const oldest =
    report.unsealed.oldestAgeS === null ? '' : `; the oldest is ${report.unsealed.oldestAgeS} s old`;
  const lines = [
    `sealed batches:   ${report.batches} (through ${through})`,
    `sealed:           ${report.events} audit events, ${report.entries} ledger entries, ${report.balances} account balances`,
    `not yet sealed:   ${report.unsealed.events} audit events, ${report.unsealed.entries} ledger entries${oldest}`,
    ...(report.awaitingUpload > 0
      ? [`awaiting upload:  ${report.awaitingUpload} sealed batch(es), uploaded by the next sealer run`]
      : []),
    report.problems.length === 0
      ? 'result:           OK, the sealed record is complete and unchanged'
      : `result:           ${report.problems.length} problem(s)`,
    ...report.problems.map((p) => `  - ${p}`),
  ];
  return `${lines.join('\n')}\n`;
}
