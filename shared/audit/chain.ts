import { createHash } from 'node:crypto';

/**
 * The seal chain: hash(batch) = sha256(prevHash + "\n" + line_1 + "\n" + ... + line_n), hex, with
 * prevHash of the first batch = 64 zeros. Line 1 is the batch header; then the audit events, the
 * ledger entries and the account balances, each the canonical JSON text PostgreSQL gives jsonb
 * (keys by length then bytes, ", " and ": " separators). docs/audit-format.md is the reference.
 */
export const genesisHash = '0'.repeat(64);
export const batchFormat = 'bank-seal/2';
export const batchPrefix = 'seals/batches/';

export function chainHash(prevHash: string, lines: readonly string[]): string {
  return createHash('sha256')
    .update(`${prevHash}\n${lines.join('\n')}`, 'utf8')
    .digest('hex');
}

export function batchKey(batchNo: number): string {
  return `${batchPrefix}${String(batchNo).padStart(12, '0')}.json`;
}

export function batchNoOfKey(key: string): number | undefined {
  const match = /^seals\/batches\/(\d{12})\.json$/.exec(key);
  return match?.[1] ? Number(match[1]) : undefined;
}

export class AuditChainError extends Error {
  override name = 'AuditChainError';
}

/** A JSON value already in its text form (a number, `null`, nested jsonb text). */
export interface RawJson {
  readonly raw: string;
}
export type JsonbMember = string | null | boolean | RawJson;

/** jsonb's text output for a flat object: keys ordered by length, then bytewise. */
export function jsonbText(members: Readonly<Record<string, JsonbMember>>): string {
  const keys = Object.keys(members).sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
  const parts = keys.map((key) => {
    const value = members[key];
    let text: string;
    if (value === null || value === undefined) text = 'null';
    else if (typeof value === 'string') text = JSON.stringify(value);
    else if (typeof value === 'boolean') text = String(value);
    else text = value.raw;
    return `${JSON.stringify(key)}: ${text}`;
  });
  return `{${parts.join(', ')}}`;
}

const raw = (text: string): RawJson => ({ raw: text });
const rawOrNull = (text: string | null): RawJson | null => (text === null ? null : raw(text));

/** One audit event as the verifier reads it: raw columns, text only. */
export interface AuditRow {
  readonly id: string;
  readonly seq: string;
  /** The row's 32-bit xmin as PostgreSQL prints it. */
  readonly xmin: string;
  readonly actor: string;
  readonly action: string;
  readonly outcome: string;
  /** `details::text` (jsonb's canonical text). */
  readonly details: string;
  readonly ip: string | null;
  readonly userAgent: string | null;
  readonly requestId: string | null;
  /** ISO 8601 UTC with milliseconds. */
  readonly createdAt: string;
}

/** One ledger entry as the verifier reads it. */
export interface HistoryRow {
  readonly id: string;
  readonly seq: string;
  readonly xmin: string;
  readonly accountId: string;
  readonly type: string;
  readonly amountMinor: string;
  readonly balanceAfterMinor: string;
  readonly counterpartyAccountId: string | null;
  readonly transferId: string | null;
  readonly memo: string | null;
  readonly actorId: string;
  readonly createdAt: string;
}

export function auditLine(row: AuditRow, xid: string): string {
  return jsonbText({
    kind: 'audit',
    id: row.id,
    seq: raw(row.seq),
    xid,
    actor: row.actor,
    action: row.action,
    outcome: row.outcome,
    details: raw(row.details),
    ip: row.ip,
    userAgent: row.userAgent,
    requestId: row.requestId,
    createdAt: row.createdAt,
  });
}

export function historyLine(row: HistoryRow, xid: string): string {
  return jsonbText({
    kind: 'history',
    id: row.id,
    seq: raw(row.seq),
    xid,
    accountId: raw(row.accountId),
    type: row.type,
    amountMinor: row.amountMinor,
    balanceAfterMinor: row.balanceAfterMinor,
    counterpartyAccountId: rawOrNull(row.counterpartyAccountId),
    transferId: row.transferId,
    memo: row.memo,
    actorId: row.actorId,
    createdAt: row.createdAt,
  });
}

/** Entries that add to the balance; the others take from it. */
export function signedAmount(type: string, amountMinor: bigint): bigint {
  return type === 'DEPOSIT' || type === 'TRANSFER_IN' ? amountMinor : -amountMinor;
}
