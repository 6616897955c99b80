import type { AuditRow, HistoryRow } from './chain';

/**
 * What the verifier reads from the database: raw rows with their xmin, the seal table and the
 * sequences, all from one read-only REPEATABLE READ snapshot. Built-in functions only: a
 * rewritten bank function cannot change what the verifier sees. The same SQL runs over `pg`
 * (locally) and over the Data API (the deployed stack, as the read-only bank_auditor role), one
 * JSON text cell per statement, in pages that stay under the Data API's 1 MiB response limit.
 */
export interface AccountRow {
  readonly id: string;
  readonly accountNo: string;
  readonly balanceMinor: string;
}

export interface SealRow {
  readonly batchNo: string;
  readonly prevHash: string;
  readonly batchHash: string;
}

export interface DbState {
  readonly audit: readonly AuditRow[];
  readonly history: readonly HistoryRow[];
  readonly accounts: readonly AccountRow[];
  readonly seals: readonly SealRow[];
  /**
   * Batches sealed in the database whose upload to the bucket the sealer has not yet confirmed
   * (seal_uploads): the next sealer run uploads them first. Confirming an upload is a separate
   * step, so a batch missing from the bucket and not listed here is a problem, not a wait.
   */
  readonly awaitingUpload: readonly string[];
  /** The reading snapshot's xmax (a full 64-bit transaction id): every row read is older. */
  readonly xmax: string;
  /** The last value each sequence handed out (0 when none). */
  readonly auditSeqLast: string;
  readonly historySeqLast: string;
  /** The database's clock, ISO 8601 UTC. */
  readonly now: string;
}

/** Runs one statement returning one JSON text cell and parses it; `:name` parameters are text. */
export type JsonQuery = (sql: string, params: Readonly<Record<string, string>>) => Promise<unknown>;

/** Runs `work` inside one read-only REPEATABLE READ transaction. */
export type SnapshotSession = <T>(work: (query: JsonQuery) => Promise<T>) => Promise<T>;

const iso = (column: string): string =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const pageSize = 500;
const minBigint = '-9223372036854775808';

// Pages are ordered by `k`, the number: an ORDER BY naming `seq` or `id` would take the text
// column of the same output name and page 1, 10, 100, ... skipping rows past the first page.
const auditPageSql = `
  SELECT coalesce(json_agg(r ORDER BY r.k), '[]')::text FROM (
    SELECT seq AS k, seq::text AS seq, id::text AS id, xmin::text AS xmin, actor, action, outcome,
           details::text AS details, ip, user_agent AS "userAgent", request_id AS "requestId",
           ${iso('created_at')} AS "createdAt"
      FROM audit_logs WHERE seq > :after::bigint ORDER BY k LIMIT ${pageSize}) r`;

const historyPageSql = `
  SELECT coalesce(json_agg(r ORDER BY r.k), '[]')::text FROM (
    SELECT seq AS k, seq::text AS seq, id::text AS id, xmin::text AS xmin, account_id::text AS "accountId",
           type, amount_minor::text AS "amountMinor", balance_after_minor::text AS "balanceAfterMinor",
           counterparty_account_id::text AS "counterpartyAccountId", transfer_id::text AS "transferId", memo,
           actor_id::text AS "actorId", ${iso('created_at')} AS "createdAt"
      FROM history WHERE seq > :after::bigint ORDER BY k LIMIT ${pageSize}) r`;

const accountsPageSql = `
  SELECT coalesce(json_agg(r ORDER BY r.k), '[]')::text FROM (
    SELECT id AS k, id::text AS id, account_no AS "accountNo", balance_minor::text AS "balanceMinor"
      FROM accounts WHERE id > :after::bigint ORDER BY k LIMIT ${pageSize}) r`;

const sealsPageSql = `
  SELECT coalesce(json_agg(r ORDER BY r.k), '[]')::text FROM (
    SELECT batch_no AS k, batch_no::text AS "batchNo", prev_hash AS "prevHash", batch_hash AS "batchHash"
      FROM seal_batches WHERE batch_no > :after::bigint ORDER BY batch_no LIMIT ${pageSize * 4}) r`;

const metaSql = `
  SELECT json_build_object(
    'xmax', pg_snapshot_xmax(pg_current_snapshot())::text,
    'auditSeqLast', (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM audit_logs_seq_seq)::text,
    'historySeqLast', (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM history_seq_seq)::text,
    'now', ${iso('statement_timestamp()')},
    'awaitingUpload', (SELECT coalesce(json_agg(batch_no::text ORDER BY batch_no), '[]') FROM seal_uploads))::text`;

async function allPages<T extends { readonly k: unknown }>(query: JsonQuery, sql: string): Promise<T[]> {
  const rows: T[] = [];
  let after = minBigint;
  for (;;) {
    const page = (await query(sql, { after })) as T[];
    rows.push(...page);
    const last = page.at(-1);
    if (page.length === 0 || last === undefined) return rows;
    after = String(last.k);
  }
}

export async function readDbState(session: SnapshotSession): Promise<DbState> {
  return session(async (query) => {
    // The snapshot is taken by the first statement; every later one sees the same rows.
    const meta = (await query(metaSql, {})) as Pick<
      DbState,
      'xmax' | 'auditSeqLast' | 'historySeqLast' | 'now' | 'awaitingUpload'
    >;
    return {
      ...meta,
      audit: await allPages<AuditRow & { k: unknown }>(query, auditPageSql),
      history: await allPages<HistoryRow & { k: unknown }>(query, historyPageSql),
      accounts: await allPages<AccountRow & { k: unknown }>(query, accountsPageSql),
      seals: await allPages<SealRow & { k: unknown }>(query, sealsPageSql),
    };
  });
}

/** `:name` to `$n` for node-postgres; a `:word` that names no parameter (a time format) stays. */
export function positional(
  sql: string,
  params: Readonly<Record<string, string>>,
): { text: string; values: string[] } {
  const values: string[] = [];
  const text = sql.replace(/(?<!:):([a-zA-Z_][a-zA-Z0-9_]*)/g, (match, name: string) => {
    const value = params[name];
    if (value === undefined) return match;
    values.push(value);
    return `$${values.length}`;
  });
  return { text, values };
}

export const snapshotBegin = 'SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY';
