import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import {
  BeginTransactionCommand,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  RDSDataClient,
  RollbackTransactionCommand,
  type SqlParameter,
} from '@aws-sdk/client-rds-data';
import pg from 'pg';
import { percentile, processCpuMs } from '../stats';
import type {
  CustomerWorkload,
  DataApiTarget,
  Job,
  JobReply,
  JobRequest,
  Measurement,
  PgTarget,
  TellerWorkload,
  Timing,
} from './protocol';

/**
 * The load generator: a separate Node process (forked by bench/load/driver.ts) so that the
 * clients do not share the bank's event loop. Each job runs N closed-loop clients (one request
 * in flight per client, the next as soon as the previous answers) for a warm-up and a measured
 * window, then reports throughput, latency percentiles and errors.
 */

/** One operation's outcome: undefined when it succeeded, else a short error kind. */
type Outcome = string | undefined;
type Operation = (client: number) => Promise<Outcome>;

async function drive(timing: Timing, operation: Operation): Promise<Measurement> {
  const start = performance.now();
  const measureFrom = start + timing.warmupMs;
  const measureTo = measureFrom + timing.durationMs;
  const latencies: number[] = [];
  const errors: Record<string, number> = {};
  let ok = 0;
  let cpuAtStart = processCpuMs();
  let cpuAtEnd = Number.NaN;
  const startTimer = setTimeout(() => {
    cpuAtStart = processCpuMs();
  }, timing.warmupMs);
  const endTimer = setTimeout(() => {
    cpuAtEnd = processCpuMs();
  }, timing.warmupMs + timing.durationMs);

  const client = async (index: number): Promise<void> => {
    while (performance.now() < measureTo) {
      const t0 = performance.now();
      let outcome: Outcome;
      try {
        outcome = await operation(index);
      } catch (error) {
        outcome = error instanceof Error ? `${error.name}: ${error.message.slice(0, 80)}` : 'error';
      }
      const t1 = performance.now();
      if (t1 < measureFrom || t1 > measureTo) continue;
      if (outcome === undefined) {
        ok += 1;
        latencies.push(t1 - t0);
      } else {
        errors[outcome] = (errors[outcome] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: timing.clients }, (_, i) => client(i)));
  clearTimeout(startTimer);
  clearTimeout(endTimer);
  if (Number.isNaN(cpuAtEnd)) cpuAtEnd = processCpuMs();
  const mean = latencies.length === 0 ? Number.NaN : latencies.reduce((a, b) => a + b, 0) / latencies.length;
  return {
    clients: timing.clients,
    ok,
    errors,
    measuredMs: timing.durationMs,
    perSecond: ok / (timing.durationMs / 1000),
    latencyMs: {
      p50: percentile(latencies, 0.5),
      p90: percentile(latencies, 0.9),
      p99: percentile(latencies, 0.99),
      mean,
      max: latencies.length === 0 ? Number.NaN : Math.max(...latencies),
    },
    workerCpuMs: cpuAtEnd - cpuAtStart,
    latencies: latencies.map((l) => Math.round(l * 100) / 100),
  };
}

const randomInt = (n: number): number => Math.floor(Math.random() * n);

/** Two distinct random indexes below n. */
function randomPair(n: number): [number, number] {
  const a = randomInt(n);
  let b = randomInt(n - 1);
  if (b >= a) b += 1;
  return [a, b];
}

/** 1..100 cents: small enough that no funded account ever runs dry during a run. */
const randomAmountMinor = (): number => 1 + randomInt(100);
const formatMinor = (minor: number): string =>
  `${Math.floor(minor / 100)}.${String(minor % 100).padStart(2, '0')}`;

function pick<T>(items: readonly T[], index: number): T {
  const item = items[index];
  if (item === undefined) throw new Error(`no item at ${index}`);
  return item;
}

// ---- HTTP: the whole local path (gateway -> handler -> middy -> Data API server -> PostgreSQL) ----

interface HttpAnswer {
  readonly status: number;
  readonly body: string;
}

function postJson(agent: Agent, base: URL, path: string, token: string, body: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: base.hostname,
        port: base.port,
        path,
        method: 'POST',
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: `Bearer ${token}`,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function outcomeOf(answer: HttpAnswer, expected: number): Outcome {
  if (answer.status === expected) return undefined;
  let code = '';
  try {
    const parsed = JSON.parse(answer.body) as { code?: unknown };
    if (typeof parsed.code === 'string') code = ` ${parsed.code}`;
  } catch {
    // not JSON: the status alone names it
  }
  return `HTTP ${answer.status}${code}`;
}

async function httpTransfers(
  job: Timing & { url: string; workload: TellerWorkload | CustomerWorkload },
): Promise<Measurement> {
  const base = new URL(job.url);
  const agent = new Agent({ keepAlive: true, maxSockets: job.clients, maxFreeSockets: job.clients });
  const { workload } = job;
  const accounts = workload.accounts;
  const cursors = new Array<number>(job.clients).fill(0);
  const operation: Operation = async (client) => {
    let token: string;
    let from: string;
    let to: string;
    const amount = formatMinor(randomAmountMinor());
    let body: string;
    if (workload.mode === 'customer') {
      const mine = pick(workload.perClient, client);
      token = mine.token;
      const cursor = pick(cursors, client);
      cursors[client] = cursor + 1;
      from = pick(mine.sources, cursor % mine.sources.length);
      do to = pick(accounts, randomInt(accounts.length));
      while (to === from);
      body = JSON.stringify({ fromAccountNo: from, toAccountNo: to, amount, pin: workload.pin });
    } else {
      token = workload.token;
      if (workload.mode === 'hot') {
        const hot = workload.hot ?? pick(accounts, 0);
        let other: string;
        do other = pick(accounts, randomInt(accounts.length));
        while (other === hot);
        [from, to] = Math.random() < 0.5 ? [hot, other] : [other, hot];
      } else {
        const [a, b] = randomPair(accounts.length);
        from = pick(accounts, a);
        to = pick(accounts, b);
      }
      body = JSON.stringify({ fromAccountNo: from, toAccountNo: to, amount });
    }
    return outcomeOf(await postJson(agent, base, '/transfers', token, body), 201);
  };
  try {
    return await drive(job, operation);
  } finally {
    agent.destroy();
  }
}

// ---- Raw SQL straight through pg: the database's own limit for this transfer ----

interface PgError {
  readonly code?: string;
}

const pgOutcome = (error: unknown): string => `SQLSTATE ${(error as PgError).code ?? 'unknown'}`;

async function rawSql(
  job: Timing & {
    pg: PgTarget;
    variant: 'statements' | 'one-round-trip';
    accountIds: readonly number[];
    actorId: string;
  },
): Promise<Measurement> {
  const clients = await Promise.all(
    Array.from({ length: job.clients }, async () => {
      const client = new pg.Client({ ...job.pg, application_name: 'bank-bench-raw' });
      client.on('error', () => undefined);
      await client.connect();
      return client;
    }),
  );
  const ids = job.accountIds;
  const actor = job.actorId;
  if (!/^[0-9a-f-]{36}$/.test(actor)) throw new Error('actor id is not a uuid');

  const statements: Operation = async (index) => {
    const client = pick(clients, index);
    const [a, b] = randomPair(ids.length);
    const src = pick(ids, a);
    const dst = pick(ids, b);
    const amount = randomAmountMinor();
    const transferId = randomUUID();
    try {
      await client.query('BEGIN');
      // Both rows locked in ascending id order (LockRows runs above the Sort).
      await client.query({
        name: 'bench_lock',
        text: 'SELECT id FROM accounts WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE',
        values: [[src, dst]],
      });
      const debit = await client.query<{ balance_minor: string }>({
        name: 'bench_debit',
        text: 'UPDATE accounts SET balance_minor = balance_minor - $2 WHERE id = $1 RETURNING balance_minor',
        values: [src, amount],
      });
      const credit = await client.query<{ balance_minor: string }>({
        name: 'bench_credit',
        text: 'UPDATE accounts SET balance_minor = balance_minor + $2 WHERE id = $1 RETURNING balance_minor',
        values: [dst, amount],
      });
      const insert = {
        name: 'bench_ledger',
        text: `INSERT INTO history (account_id, type, amount_minor, balance_after_minor, counterparty_account_id, transfer_id, actor_id)
               VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      };
      await client.query({
        ...insert,
        values: [src, 'TRANSFER_OUT', amount, debit.rows[0]?.balance_minor, dst, transferId, actor],
      });
      await client.query({
        ...insert,
        values: [dst, 'TRANSFER_IN', amount, credit.rows[0]?.balance_minor, src, transferId, actor],
      });
      await client.query('COMMIT');
      return undefined;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      return pgOutcome(error);
    }
  };

  // The same transaction as one simple-protocol message: one round trip, as the bank's single call.
  const oneRoundTrip: Operation = async (index) => {
    const client = pick(clients, index);
    const [a, b] = randomPair(ids.length);
    const src = pick(ids, a);
    const dst = pick(ids, b);
    const amount = randomAmountMinor();
    const transferId = randomUUID();
    const leg = (account: number, other: number, sign: '-' | '+', type: string) =>
      `WITH u AS (UPDATE accounts SET balance_minor = balance_minor ${sign} ${amount} WHERE id = ${account} RETURNING balance_minor)
       INSERT INTO history (account_id, type, amount_minor, balance_after_minor, counterparty_account_id, transfer_id, actor_id)
       SELECT ${account}, '${type}', ${amount}, u.balance_minor, ${other}, '${transferId}', '${actor}' FROM u;`;
    try {
      await client.query(
        `BEGIN; SELECT id FROM accounts WHERE id IN (${src}, ${dst}) ORDER BY id FOR UPDATE;
         ${leg(src, dst, '-', 'TRANSFER_OUT')} ${leg(dst, src, '+', 'TRANSFER_IN')} COMMIT;`,
      );
      return undefined;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      return pgOutcome(error);
    }
  };

  try {
    return await drive(job, job.variant === 'statements' ? statements : oneRoundTrip);
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
  }
}

// ---- The seed's pattern: BEGIN; SELECT ... FOR UPDATE per row; UPDATEs; INSERT; COMMIT, one Data API call each ----

async function seedPattern(
  job: Timing & { dataApi: DataApiTarget; accountIds: readonly number[]; actorId: string },
): Promise<Measurement> {
  const { dataApi } = job;
  const client = new RDSDataClient({
    region: dataApi.region,
    endpoint: dataApi.endpoint,
    credentials: dataApi.credentials,
    maxAttempts: 1,
    // As the bank's own client (shared/db/data-api.ts): the middleware stack resolved once per
    // command type, so the seed's pattern pays no more per call than the bank does.
    cacheMiddleware: true,
  });
  const target = {
    resourceArn: dataApi.resourceArn,
    secretArn: dataApi.secretArn,
    database: dataApi.database,
  };
  const long = (name: string, value: number): SqlParameter => ({ name, value: { longValue: value } });
  const text = (name: string, value: string): SqlParameter => ({ name, value: { stringValue: value } });
  const ids = job.accountIds;

  const operation: Operation = async () => {
    const [a, b] = randomPair(ids.length);
    const src = pick(ids, a);
    const dst = pick(ids, b);
    const amount = randomAmountMinor();
    const begun = await client.send(new BeginTransactionCommand(target));
    const transactionId = begun.transactionId;
    if (transactionId === undefined) return 'no transaction id';
    const inTx = { ...target, transactionId };
    try {
      // SELECT * ... FOR UPDATE on each row, as the seed writes it (in id order here, so random
      // pairs cannot deadlock: the pattern is measured at its best).
      const balances = new Map<number, bigint>();
      for (const id of src < dst ? [src, dst] : [dst, src]) {
        const row = await client.send(
          new ExecuteStatementCommand({
            ...inTx,
            sql: 'SELECT * FROM accounts WHERE id = :id FOR UPDATE',
            parameters: [long('id', id)],
            formatRecordsAs: 'JSON',
          }),
        );
        const records = JSON.parse(row.formattedRecords ?? '[]') as { balance_minor?: number | string }[];
        balances.set(id, BigInt(String(records[0]?.balance_minor ?? 0)));
      }
      const update = (id: number, delta: number) =>
        client.send(
          new ExecuteStatementCommand({
            ...inTx,
            sql: 'UPDATE accounts SET balance_minor = balance_minor + :delta WHERE id = :id',
            parameters: [long('id', id), long('delta', delta)],
          }),
        );
      await update(src, -amount);
      await update(dst, amount);
      const transferId = randomUUID();
      await client.send(
        new ExecuteStatementCommand({
          ...inTx,
          sql: `INSERT INTO history (account_id, type, amount_minor, balance_after_minor, counterparty_account_id, transfer_id, actor_id)
                VALUES (:src, 'TRANSFER_OUT', :amount, :srcAfter::bigint, :dst, :transferId::uuid, :actor::uuid),
                       (:dst, 'TRANSFER_IN', :amount, :dstAfter::bigint, :src, :transferId::uuid, :actor::uuid)`,
          parameters: [
            long('src', src),
            long('dst', dst),
            long('amount', amount),
            text('srcAfter', String((balances.get(src) ?? 0n) - BigInt(amount))),
            text('dstAfter', String((balances.get(dst) ?? 0n) + BigInt(amount))),
            text('transferId', transferId),
            text('actor', job.actorId),
          ],
        }),
      );
      await client.send(new CommitTransactionCommand(inTx));
      return undefined;
    } catch (error) {
      await client.send(new RollbackTransactionCommand(inTx)).catch(() => undefined);
      return error instanceof Error ? `${error.name}: ${error.message.slice(0, 60)}` : 'error';
    }
  };
  try {
    return await drive(job, operation);
  } finally {
    client.destroy();
  }
}

function run(job: Job): Promise<Measurement> {
  switch (job.kind) {
    case 'http-transfers':
      return httpTransfers(job);
    case 'raw-sql':
      return rawSql(job);
    case 'seed-pattern':
      return seedPattern(job);
  }
}

process.on('message', (message: JobRequest) => {
  run(message.job).then(
    (result) => process.send?.({ id: message.id, ok: true, result } satisfies JobReply),
    (error: unknown) =>
      process.send?.({
        id: message.id,
        ok: false,
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      } satisfies JobReply),
  );
});
process.on('disconnect', () => process.exit(0));
