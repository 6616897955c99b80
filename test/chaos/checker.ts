import type pg from 'pg';
import type { Op } from './workload';

/**
 * The checker, run after the faults stop and the system is quiet: it proves what a bank must
 * never lose from the database itself and the clients' records, and names every violation.
 */
export interface CheckResult {
  readonly violations: string[];
  /** Facts that are not violations but worth reading (e.g. restarts that failed and were retried). */
  readonly notes: string[];
  readonly figures: Record<string, number | string>;
}

interface StoredKey {
  user_id: string;
  key: string;
  status_code: number | null;
  response: { status?: number; body?: Record<string, unknown> } | null;
}

export async function check(client: pg.Client, ops: readonly Op[]): Promise<CheckResult> {
  const violations: string[] = [];
  const notes: string[] = [];
  const limit = (list: string[], max = 25): void => {
    if (list.length > max) list.splice(max, list.length - max, `... and ${list.length - max} more`);
  };

  // Balances against their ledgers, and never negative.
  const accounts = await client.query<{
    account_no: string;
    balance: string;
    ledger: string;
    entries: string;
    last_after: string | null;
    is_locked: boolean;
  }>(`
    SELECT a.account_no, a.balance_minor::text AS balance,
           coalesce(sum(CASE WHEN h.type IN ('DEPOSIT', 'TRANSFER_IN') THEN h.amount_minor
                             ELSE -h.amount_minor END), 0)::text AS ledger,
           count(h.id)::text AS entries,
           (SELECT h2.balance_after_minor::text FROM history h2 WHERE h2.account_id = a.id
             ORDER BY h2.seq DESC LIMIT 1) AS last_after,
           a.is_locked
      FROM accounts a LEFT JOIN history h ON h.account_id = a.id
     GROUP BY a.id ORDER BY a.id`);
  let total = 0n;
  let locked = 0;
  for (const a of accounts.rows) {
    const balance = BigInt(a.balance);
    total += balance;
    if (balance < 0n) violations.push(`account ${a.account_no} has a negative balance ${balance}`);
    if (balance !== BigInt(a.ledger))
      violations.push(`account ${a.account_no}: balance ${balance} but its ledger sums to ${a.ledger}`);
    if (a.last_after !== null && BigInt(a.last_after) !== balance)
      violations.push(`account ${a.account_no}: balance ${balance} but its last entry says ${a.last_after}`);
    if (a.is_locked) locked += 1;
  }
  // Each entry's balance_after continues the previous one (no lost update between movements).
  const breaks = await client.query<{ account_no: string; seq: string }>(`
    SELECT account_no, seq::text FROM (
      SELECT a.account_no, h.seq, h.balance_after_minor,
             lag(h.balance_after_minor, 1, 0::bigint) OVER (PARTITION BY h.account_id ORDER BY h.seq)
             + CASE WHEN h.type IN ('DEPOSIT', 'TRANSFER_IN') THEN h.amount_minor ELSE -h.amount_minor END AS expect
        FROM history h JOIN accounts a ON a.id = h.account_id) x
     WHERE balance_after_minor <> expect`);
  for (const b of breaks.rows)
    violations.push(`account ${b.account_no}: entry seq ${b.seq} does not continue the previous balance`);

  // Transfers: exactly one debit and one credit of the same amount, on two different accounts.
  const unpaired = await client.query<{ transfer_id: string }>(`
    SELECT transfer_id::text FROM history WHERE transfer_id IS NOT NULL GROUP BY transfer_id
    HAVING count(*) <> 2 OR count(*) FILTER (WHERE type = 'TRANSFER_OUT') <> 1
        OR count(*) FILTER (WHERE type = 'TRANSFER_IN') <> 1 OR min(amount_minor) <> max(amount_minor)
        OR count(DISTINCT account_id) <> 2`);
  for (const u of unpaired.rows) violations.push(`transfer ${u.transfer_id} is not one debit and one credit`);

  // Every movement against the key that made it: a movement no key points at was made twice.
  const keys = await client.query<StoredKey>(
    'SELECT user_id::text, key, status_code, response FROM idempotency_keys WHERE key LIKE $1',
    ['chaos-%'],
  );
  const stored = new Map<string, StoredKey>();
  for (const k of keys.rows) stored.set(`${k.user_id}/${k.key}`, k);
  const referenced = new Set<string>();
  let expectedTotal = 0n;
  let applied = 0;
  let appliedUnknown = 0;
  let ackedMissing = 0;
  const opViolations: string[] = [];
  const movements = await client.query<{
    id: string;
    type: string;
    amount: string;
    transfer_id: string | null;
  }>('SELECT id::text, type, amount_minor::text AS amount, transfer_id::text FROM history');
  const entries = new Map(movements.rows.map((m) => [m.id, m]));
  const transfers = new Map<string, string>();
  for (const m of movements.rows)
    if (m.transfer_id && m.type === 'TRANSFER_OUT') transfers.set(m.transfer_id, m.amount);

  for (const op of ops) {
    const k = stored.get(`${op.userId}/${op.key}`);
    const status = k?.response?.status;
    const isApplied = k !== undefined && status !== undefined && status >= 200 && status < 300;
    const body = k?.response?.body;
    const storedId =
      typeof body?.entryId === 'string'
        ? body.entryId
        : typeof body?.transferId === 'string'
          ? body.transferId
          : undefined;
    if (isApplied) {
      applied += 1;
      if (op.outcome === 'unknown') appliedUnknown += 1;
      if (!storedId) {
        opViolations.push(`op ${op.id} (${op.key}): stored answer names no movement`);
        continue;
      }
      referenced.add(storedId);
      if (op.kind === 'transfer') {
        const amount = transfers.get(storedId);
        if (amount === undefined)
          opViolations.push(`op ${op.id} (${op.key}): transfer ${storedId} is not in the ledger`);
        else if (BigInt(amount) !== op.amountMinor)
          opViolations.push(`op ${op.id} (${op.key}): transfer amount ${amount} <> ${op.amountMinor}`);
      } else {
        const entry = entries.get(storedId);
        const type = op.kind === 'deposit' ? 'DEPOSIT' : 'WITHDRAWAL';
        if (!entry) opViolations.push(`op ${op.id} (${op.key}): entry ${storedId} is not in the ledger`);
        else if (entry.type !== type || BigInt(entry.amount) !== op.amountMinor)
          opViolations.push(`op ${op.id} (${op.key}): entry ${storedId} is ${entry.type} ${entry.amount}`);
        expectedTotal += op.kind === 'deposit' ? op.amountMinor : -op.amountMinor;
      }
    }
    if (op.outcome === 'acked') {
      if (!isApplied) {
        ackedMissing += 1;
        opViolations.push(`op ${op.id} (${op.key}): acknowledged (${op.status}) but no movement is recorded`);
      } else if (op.resultId !== storedId) {
        opViolations.push(
          `op ${op.id} (${op.key}): answered ${op.resultId} but the key recorded ${storedId}`,
        );
      }
    }
    if (op.outcome === 'refused' && isApplied)
      opViolations.push(`op ${op.id} (${op.key}): refused (${op.status} ${op.code}) but the money moved`);
  }
  limit(opViolations);
  violations.push(...opViolations);

  const orphans: string[] = [];
  for (const m of movements.rows) {
    const id = m.transfer_id ?? m.id;
    if (!referenced.has(id))
      orphans.push(`${m.type} ${m.id}${m.transfer_id ? ` (transfer ${m.transfer_id})` : ''}`);
  }
  if (orphans.length > 0) {
    limit(orphans);
    violations.push(...orphans.map((o) => `movement no Idempotency-Key accounts for (applied twice?): ${o}`));
  }
  if (total !== expectedTotal)
    violations.push(
      `money not conserved: balances sum to ${total}, the movements the keys record to ${expectedTotal}`,
    );

  // Exactly one audit event per request (API.md): never two for one request id, whoever wrote
  // them, answered or not; and an acknowledged request has its one. (A request may have none only
  // when its own refusal writer's Data API call was lost too; that gap is logged, and a client
  // that retried has the event of its answered attempt.)
  const perRequest = await client.query<{ request_id: string; n: number; events: string }>(`
    SELECT request_id, count(*)::int AS n,
           string_agg(action || ' ' || outcome || coalesce(' ' || (details ->> 'status'), ''), ', ' ORDER BY seq) AS events
      FROM audit_logs WHERE request_id IS NOT NULL GROUP BY request_id`);
  const eventsPerRequest = new Map<number, number>();
  const auditProblems: string[] = [];
  const auditCount = new Map<string, number>();
  for (const r of perRequest.rows) {
    auditCount.set(r.request_id, r.n);
    eventsPerRequest.set(r.n, (eventsPerRequest.get(r.n) ?? 0) + 1);
    if (r.n > 1) auditProblems.push(`request ${r.request_id} has ${r.n} audit events: ${r.events}`);
  }
  const ackedIds = ops.flatMap((op) => (op.outcome === 'acked' && op.requestId ? [op.requestId] : []));
  for (const id of ackedIds)
    if ((auditCount.get(id) ?? 0) === 0) auditProblems.push(`acknowledged request ${id} has no audit event`);
  const duplicateAuditRequests = perRequest.rows.filter((r) => r.n > 1).length;
  limit(auditProblems);
  violations.push(...auditProblems);

  // Nothing left open or held.
  const open = await client.query<{ pid: number; usename: string; state: string; query: string }>(`
    SELECT pid, usename, state, left(query, 80) AS query FROM pg_stat_activity
     WHERE pid <> pg_backend_pid() AND backend_type = 'client backend'
       AND (state IN ('active', 'idle in transaction', 'idle in transaction (aborted)') OR xact_start IS NOT NULL)`);
  for (const o of open.rows) violations.push(`session ${o.pid} (${o.usename}) is ${o.state}: ${o.query}`);
  const locks = await client.query<{ pid: number; locktype: string; mode: string }>(`
    SELECT l.pid, l.locktype, l.mode FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.pid <> pg_backend_pid() AND a.backend_type = 'client backend'`);
  for (const l of locks.rows) violations.push(`session ${l.pid} still holds a ${l.locktype} ${l.mode} lock`);

  return {
    violations,
    notes,
    figures: {
      accounts: accounts.rows.length,
      totalMinor: total.toString(),
      movementsApplied: applied,
      appliedButUnanswered: appliedUnknown,
      acknowledgedMissing: ackedMissing,
      lockedAccounts: locked,
      requestIdsWithAuditEvents: perRequest.rows.length,
      auditEventsPerRequestId: [...eventsPerRequest.entries()]
        .sort(([a], [b]) => a - b)
        .map(([events, requests]) => `${events} event${events === 1 ? '' : 's'}: ${requests}`)
        .join(', '),
      duplicateAuditRequests,
    },
  };
}
