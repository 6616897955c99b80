import { createHash } from 'node:crypto';

/**
 * The audit seal chain: hash(batch) = sha256(prevHash + "\n" + line_1 + "\n" + ... + line_n),
 * hex, with prevHash of the first batch = 64 zeros. Lines are the canonical JSON of each event
 * (PostgreSQL jsonb text: keys by length then bytes, ", " and ": " separators).
 */
export const genesisHash = '0'.repeat(64);

export interface SealedBatch {
  readonly batchNo: number;
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly prevHash: string;
  readonly hash: string;
  readonly lines: readonly string[];
}

export function chainHash(prevHash: string, lines: readonly string[]): string {
  return createHash('sha256')
    .update(`${prevHash}\n${lines.join('\n')}`, 'utf8')
    .digest('hex');
}

export function batchKey(batchNo: number): string {
  return `audit/batches/${String(batchNo).padStart(12, '0')}.json`;
}

export function batchNoOfKey(key: string): number | undefined {
  const match = /^audit\/batches\/(\d{12})\.json$/.exec(key);
  return match?.[1] ? Number(match[1]) : undefined;
}

export class AuditChainError extends Error {
  override name = 'AuditChainError';
}

/** Checks one batch against itself and its predecessor; throws on any mismatch. */
export function assertBatchIntegrity(batch: SealedBatch, expectedPrevHash: string): void {
  if (batch.prevHash !== expectedPrevHash) {
    throw new AuditChainError(`batch ${batch.batchNo}: prevHash does not continue the chain`);
  }
  if (chainHash(batch.prevHash, batch.lines) !== batch.hash) {
    throw new AuditChainError(`batch ${batch.batchNo}: its events do not match its hash`);
  }
}

/** One event as the verifier rebuilds it from raw columns, in jsonb's canonical text form. */
export interface AuditRowText {
  readonly seq: string;
  readonly id: string;
  readonly actor: string;
  readonly action: string;
  readonly outcome: string;
  /** `details::text` as PostgreSQL prints jsonb. */
  readonly details: string;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly requestId: string | null;
  /** ISO 8601 UTC with milliseconds. */
  readonly createdAt: string;
}

function jsonString(value: string | null): string {
  return value === null ? 'null' : JSON.stringify(value);
}

export function auditLine(row: AuditRowText): string {
  // jsonb orders keys by length, then bytewise.
  const members: Array<[string, string]> = [
    ['id', jsonString(row.id)],
    ['ip', jsonString(row.ip)],
    ['seq', row.seq],
    ['actor', jsonString(row.actor)],
    ['action', jsonString(row.action)],
    ['details', row.details],
    ['outcome', jsonString(row.outcome)],
    ['createdAt', jsonString(row.createdAt)],
    ['requestId', jsonString(row.requestId)],
    ['userAgent', jsonString(row.userAgent)],
  ];
  return `{${members.map(([k, v]) => `"${k}": ${v}`).join(', ')}}`;
}
