import type { LogBucket } from './bucket';
import {
  AuditChainError,
  type AuditRowText,
  assertBatchIntegrity,
  auditLine,
  batchNoOfKey,
  genesisHash,
  type SealedBatch,
} from './chain';

/**
 * Verifies the audit trail against the sealed batches in the log bucket: the chain itself (each
 * batch continues the previous and hashes to its seal), then every sealed event against the
 * database as it is now. The database lines are rebuilt here from raw columns, not by the
 * database's own functions, so a rewritten function cannot hide an edit.
 */
export interface VerifyReport {
  readonly batches: number;
  readonly events: number;
  readonly lastSealedSeq: number;
  readonly problems: string[];
}

export type FetchRows = (firstSeq: number, lastSeq: number) => Promise<AuditRowText[]>;

export async function verifyAuditTrail(bucket: LogBucket, fetchRows: FetchRows): Promise<VerifyReport> {
  const problems: string[] = [];
  const keys = (await bucket.list('audit/batches/')).filter((k) => batchNoOfKey(k) !== undefined);
  let prevHash = genesisHash;
  let events = 0;
  let lastSealedSeq = 0;
  for (const [index, key] of keys.entries()) {
    const expectedNo = index + 1;
    if (batchNoOfKey(key) !== expectedNo) {
      problems.push(`batch ${expectedNo} is missing from the bucket`);
      break;
    }
    const text = await bucket.get(key);
    if (text === undefined) {
      problems.push(`batch ${expectedNo} cannot be read`);
      break;
    }
    const batch = JSON.parse(text) as SealedBatch;
    try {
      assertBatchIntegrity(batch, prevHash);
    } catch (error) {
      if (!(error instanceof AuditChainError)) throw error;
      problems.push(error.message);
    }
    prevHash = batch.hash;
    lastSealedSeq = batch.lastSeq;
    events += batch.lines.length;
    const sealed = new Map<string, string>();
    for (const line of batch.lines) sealed.set(String((JSON.parse(line) as { seq: number }).seq), line);
    const current = new Map<string, string>();
    for (const row of await fetchRows(batch.firstSeq, batch.lastSeq)) current.set(row.seq, auditLine(row));
    for (const [seq, line] of sealed) {
      const now = current.get(seq);
      if (now === undefined) problems.push(`event seq ${seq} (batch ${batch.batchNo}) was deleted`);
      else if (now !== line) problems.push(`event seq ${seq} (batch ${batch.batchNo}) was changed`);
    }
    for (const seq of current.keys()) {
      if (!sealed.has(seq)) problems.push(`event seq ${seq} was inserted into sealed batch ${batch.batchNo}`);
    }
  }
  return { batches: keys.length, events, lastSealedSeq, problems };
}

/** The verifier's own query: raw columns and built-in formatting only. */
export const auditRowsSql = `
  SELECT seq::text AS seq, id::text AS id, actor, action, outcome, details::text AS details, ip,
         user_agent AS "userAgent", request_id AS "requestId",
         to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "createdAt"
    FROM audit_logs WHERE seq BETWEEN $1 AND $2 ORDER BY seq`;
