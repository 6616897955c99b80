import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import pg from 'pg';
import { removeDataDir } from '../../local/clusters';
import { freePort, pgdataOf } from '../../local/postgres';
import { localClusterArn, localSecretArn } from '../../local/services';
import {
  type BankProcess,
  killBankTree,
  killPostgres,
  postmaster,
  startBank,
  stopBank,
  waitGone,
} from './bank-process';
import { type CheckResult, check } from './checker';
import { rng } from './prng';
import { type ProxyFault, proxyFaultKinds, startFaultProxy } from './proxy';
import { type AccountRef, type Actor, type Op, runClient } from './workload';

/**
 * One chaos run (after Jepsen's bank test and TigerBeetle's VOPR): the real `npm start` on a
 * fresh data directory, a fault-injecting proxy in front of its Data API server, clients moving
 * money with Idempotency-Keys and retrying, a nemesis killing PostgreSQL and the whole process
 * tree, then a checker over the quiet system. Every choice comes from the seed.
 */
export interface ChaosOptions {
  readonly seed: number;
  readonly ops: number;
  readonly clients: number;
  /** Probability that one Data API call gets a fault, while faults are on. */
  readonly faultRate: number;
  readonly postgresKills: number;
  readonly treeKills: number;
  /** The function (Lambda) timeout the gateway enforces; stalls last longer. */
  readonly functionTimeoutMs: number;
  readonly customerShare: number;
  readonly log: (line: string) => void;
  /** Keep the data directory (it is also kept when the run finds a violation). */
  readonly keep?: boolean;
}

export interface ChaosReport {
  readonly seed: number;
  readonly ops: number;
  readonly outcomes: Record<string, number>;
  readonly faults: Record<string, number>;
  readonly observed: Record<string, number>;
  readonly check: CheckResult;
  readonly sealing: { readonly batches: number; readonly events: number; readonly problems: string[] };
  readonly seconds: number;
  readonly dataDir?: string;
}

const adminPassword = 'chaos-admin-password-1';
const userPassword = 'chaos-user-password-1';
const pins = ['2580', '7391', '4826', '9053', '1470', '6318'];

async function api(
  baseUrl: string,
  method: string,
  route: string,
  token: string | undefined,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const response = await fetch(`${baseUrl}${route}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

async function login(baseUrl: string, username: string, password: string): Promise<string> {
  const body = await api(baseUrl, 'POST', '/auth/login', undefined, { username, password });
  if (typeof body.accessToken !== 'string') throw new Error(`login of ${username} returned no token`);
  return body.accessToken;
}

const str = (value: unknown): string => {
  if (typeof value !== 'string') throw new Error(`expected a string, got ${JSON.stringify(value)}`);
  return value;
};

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const root = rng(options.seed);
  const faultRng = root.fork('proxy');
  const nemesisRng = root.fork('nemesis');
  const { log } = options;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bank-chaos-'));
  const [gatewayPort, dataApiPort] = [await freePort(), await freePort()];
  const stallMs = options.functionTimeoutMs + 800;

  // The proxy's schedule: each kind once early in the run (so a short run covers them all), then
  // at random with the given rate. Only ExecuteStatement calls: they are what moves money.
  let faultsOn = false;
  const forced: ProxyFault[] = [...proxyFaultKinds];
  const proxy = await startFaultProxy({
    upstreamPort: dataApiPort,
    stallMs,
    decide(url) {
      if (!faultsOn || url !== '/Execute') return undefined;
      if (forced.length > 0 && faultRng.chance(0.1)) return forced.shift();
      return faultRng.chance(options.faultRate) ? faultRng.pick(proxyFaultKinds) : undefined;
    },
  });
  const env = {
    BANK_ADMIN_PASSWORD: adminPassword,
    BANK_BCRYPT_COST: '4',
    BANK_LOCAL_DATA_API_PORT: String(dataApiPort),
    BANK_LOCAL_HANDLER_DATA_API_ENDPOINT: proxy.url,
    BANK_LOCAL_FUNCTION_TIMEOUT_MS: String(options.functionTimeoutMs),
    POWERTOOLS_LOG_LEVEL: 'ERROR',
    // The local sealer goes through the same Data API proxy: on its 10 s timer it could take the
    // forced stall meant for a client's request. The harness seals and verifies at the end itself.
    BANK_AUDIT_SEAL_INTERVAL_S: '86400',
  };
  let handlerTimeouts = 0;
  const start = (): Promise<BankProcess> =>
    startBank({
      dataDir,
      port: gatewayPort,
      env,
      startTimeoutMs: 120_000,
      onFunctionTimeout: () => {
        handlerTimeouts += 1;
      },
    });
  const processFaults = { 'postgres SIGKILL + restart': 0, 'npm start tree SIGKILL + restart': 0 };
  const restartFailures: string[] = [];
  let bank = await start();
  const baseUrl = bank.url;
  const superuserPassword = (
    JSON.parse(readFileSync(path.join(dataDir, 'cluster.json'), 'utf8')) as { superuserPassword: string }
  ).superuserPassword;

  const ops: Op[] = [];
  const observed: Record<string, number> = {};
  let report: ChaosReport | undefined;
  try {
    // ---- set-up, without faults: users and accounts through the API --------------------------
    const adminToken = await login(baseUrl, 'admin', adminPassword);
    const tellers: Actor[] = [];
    // An admin creating a teller needs a TOTP code (API.md step-up): the harness makes its tellers
    // as the owner makes the first admin (bank_create_user), and everything else through the API.
    const owner = new pg.Client({
      host: '127.0.0.1',
      port: postmaster(dataDir)?.port,
      user: 'postgres',
      password: superuserPassword,
      database: 'bank',
    });
    await owner.connect();
    try {
      for (let i = 0; i < 2; i += 1) {
        const username = `teller${i}`;
        await owner.query("SELECT bank_create_user($1, $2, 'teller')", [
          username,
          await bcrypt.hash(userPassword, 4),
        ]);
        const row = await owner.query<{ id: string }>('SELECT id::text FROM users WHERE username = $1', [
          username,
        ]);
        tellers.push({
          userId: str(row.rows[0]?.id),
          username,
          password: userPassword,
          role: 'teller',
          token: '',
        });
      }
    } finally {
      await owner.end();
    }
    for (const t of tellers) t.token = await login(baseUrl, t.username, t.password);
    const firstTeller = tellers[0];
    if (!firstTeller) throw new Error('no teller');
    const customers = new Map<string, Actor>();
    const accounts: AccountRef[] = [];
    for (let i = 0; i < 4; i += 1) {
      const username = `customer${i}`;
      const user = await api(baseUrl, 'POST', '/users', adminToken, {
        username,
        password: userPassword,
        role: 'customer',
      });
      const userId = str(user.id);
      customers.set(userId, {
        userId,
        username,
        password: userPassword,
        role: 'customer',
        token: await login(baseUrl, username, userPassword),
      });
      for (let j = 0; j < 2; j += 1) {
        const pin = pins[(i * 2 + j) % pins.length] ?? '2580';
        const account = await api(baseUrl, 'POST', '/accounts', firstTeller.token, {
          ownerId: userId,
          name: `chaos ${i}.${j}`,
          pin,
        });
        accounts.push({ accountNo: str(account.accountNo), ownerId: userId, pin });
      }
    }
    log(`set-up: ${tellers.length} tellers, ${customers.size} customers, ${accounts.length} accounts`);

    // ---- the run -----------------------------------------------------------------------------
    let issued = 0;
    let done = 0;
    faultsOn = true;
    const bound = { maxAttempts: 40, maxMs: 180_000, attemptTimeoutMs: options.functionTimeoutMs + 5_000 };
    const clients = Array.from({ length: options.clients }, (_, client) =>
      runClient({
        baseUrl,
        rng: root.fork(`client-${client}`),
        client,
        seed: options.seed,
        tellers,
        customers,
        accounts,
        bound,
        customerShare: options.customerShare,
        nextOp: () => (issued < options.ops ? issued++ : undefined),
        record: (op) => {
          ops.push(op);
          done += 1;
          if (done % 1000 === 0) log(`  ${done} operations`);
        },
        relogin: async (actor) => {
          actor.token = await login(baseUrl, actor.username, actor.password);
        },
        observe: (what) => {
          observed[what] = (observed[what] ?? 0) + 1;
        },
      }),
    );

    // The nemesis: process faults at seeded points of the run, spread between 10% and 85%.
    type ProcessFault = keyof typeof processFaults;
    const schedule: { at: number; fault: ProcessFault }[] = [
      ...Array.from({ length: options.postgresKills }, () => 'postgres SIGKILL + restart' as const),
      ...Array.from({ length: options.treeKills }, () => 'npm start tree SIGKILL + restart' as const),
    ]
      .map((fault) => ({ fault, at: Math.floor(options.ops * (0.1 + 0.75 * nemesisRng.next())) }))
      .sort((a, b) => a.at - b.at);
    const clientsDone = Promise.all(clients);
    let finished = false;
    void clientsDone.finally(() => {
      finished = true;
    });
    for (const step of schedule) {
      while (!finished && done < step.at) await new Promise((r) => setTimeout(r, 100));
      if (finished) break;
      processFaults[step.fault] += 1;
      if (step.fault === 'postgres SIGKILL + restart') {
        const info = postmaster(dataDir);
        if (!info) {
          restartFailures.push('no running postmaster to kill');
          continue;
        }
        log(`  nemesis at op ${done}: SIGKILL PostgreSQL (pid ${info.pid})`);
        killPostgres(info);
        await waitGone(info.pid, 10_000);
        // npm start never serves on without its database: it exits non-zero when PostgreSQL dies
        // (local/start.ts), and what runs it (a service manager; here the harness) starts it again.
        const deadline = Date.now() + 15_000;
        while (!bank.exited() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        if (!bank.exited()) {
          restartFailures.push('npm start kept running after its PostgreSQL was killed');
          await killBankTree(bank);
        }
        await new Promise((r) => setTimeout(r, nemesisRng.int(200, 1500)));
        bank = await start();
      } else {
        log(`  nemesis at op ${done}: SIGKILL the npm start tree (pid ${bank.pid})`);
        const before = postmaster(dataDir);
        await killBankTree(bank);
        if (before) {
          const state = await waitGone(before.pid, 10_000);
          if (state !== 'gone') {
            // A postmaster pid that still answers blocks the restart ("lock file already exists");
            // recovering from that is npm start's job. Here it is reported, and the stale file removed.
            restartFailures.push(
              `killed postmaster ${before.pid} still ${state} after 10 s: stale postmaster.pid removed`,
            );
            await rm(path.join(pgdataOf(dataDir), 'postmaster.pid'), { force: true });
          }
        }
        await new Promise((r) => setTimeout(r, nemesisRng.int(200, 1000)));
        for (let attempt = 1; ; attempt += 1) {
          try {
            bank = await start();
            break;
          } catch (error) {
            // A restart that fails (e.g. on a stale lock file) is reported, then tried again.
            restartFailures.push(`npm start restart ${attempt}: ${String(error).slice(0, 400)}`);
            if (attempt >= 3) throw error;
          }
        }
      }
    }
    await clientsDone;

    // ---- quiesce, then check -----------------------------------------------------------------
    faultsOn = false;
    // Held calls finish (a stalled statement still runs), then the handlers they belonged to.
    await proxy.idle(stallMs * 3);
    await new Promise((r) => setTimeout(r, 1_000));
    const sealing = await sealAndVerify(dataDir, dataApiPort, superuserPassword);
    const info = postmaster(dataDir);
    if (!info) throw new Error('PostgreSQL is not running at the end of the run');
    const client = new pg.Client({
      host: '127.0.0.1',
      port: info.port,
      user: 'postgres',
      password: superuserPassword,
      database: 'bank',
    });
    await client.connect();
    let result: CheckResult;
    try {
      result = await check(client, ops);
    } finally {
      await client.end();
    }
    for (const failure of restartFailures)
      result.notes.push(`restart failure (reported as a fault): ${failure}`);
    const outcomes: Record<string, number> = {};
    for (const op of ops) outcomes[op.outcome] = (outcomes[op.outcome] ?? 0) + 1;
    outcomes.retried = ops.filter((op) => op.attempts > 1).length;
    outcomes.replayed = ops.filter((op) => op.replayed).length;
    const faults: Record<string, number> = { ...proxy.counts, ...processFaults };
    faults['function timeout (503 seen by clients)'] = observed['function timeout (503)'] ?? 0;
    // Which of the two answers a stalled function first is a race of a few milliseconds.
    faults['function timeout (the handler answered first)'] = handlerTimeouts;
    faults['restart failures'] = restartFailures.length;
    const failed = result.violations.length > 0 || sealing.problems.length > 0;
    report = {
      seed: options.seed,
      ops: ops.length,
      outcomes,
      faults,
      observed,
      check: result,
      sealing,
      seconds: Math.round((Date.now() - started) / 1000),
      ...(failed || options.keep ? { dataDir } : {}),
    };
    return report;
  } finally {
    await stopBank(bank, 15_000);
    await proxy.close();
    if (!report?.dataDir && existsSync(dataDir)) await removeDataDir(dataDir);
  }
}

/**
 * A last sealer run straight to the Data API server (not through the proxy), then the verifier
 * over the whole trail, as `npm run audit:verify` does.
 */
async function sealAndVerify(
  dataDir: string,
  dataApiPort: number,
  superuserPassword: string,
): Promise<ChaosReport['sealing']> {
  // Once the Data API server checks SigV4 signatures, npm start keeps the key it accepts here.
  const keyFile = path.join(dataDir, 'data-api-credentials.json');
  if (existsSync(keyFile)) {
    const key = JSON.parse(readFileSync(keyFile, 'utf8')) as {
      accessKeyId?: unknown;
      secretAccessKey?: unknown;
    };
    if (typeof key.accessKeyId === 'string' && typeof key.secretAccessKey === 'string') {
      Object.assign(process.env, {
        AWS_ACCESS_KEY_ID: key.accessKeyId,
        AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
      });
      delete process.env.AWS_SESSION_TOKEN;
    }
  }
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    BANK_DB_CLUSTER_ARN: localClusterArn,
    BANK_DB_NAME: 'bank',
    BANK_DB_SECRET_ARN_BANK_ADMIN: localSecretArn('bank_admin'),
    BANK_DATA_API_ENDPOINT: `http://127.0.0.1:${dataApiPort}`,
  });
  const { sealPending } = await import('../../shared/audit/sealer');
  const { verifySeals } = await import('../../shared/audit/verify');
  const { readDbState } = await import('../../shared/audit/db-reader');
  const { pgSession } = await import('../../shared/audit/sessions');
  const { fsBucket } = await import('../../local/log-bucket');
  const bucket = fsBucket(path.join(dataDir, 'log-bucket'));
  const problems: string[] = [];
  try {
    await sealPending({ bucket, batchMax: 1000, batchesPerRunMax: 1000 });
  } catch (error) {
    problems.push(`sealer run failed: ${String(error)}`);
  }
  const info = postmaster(dataDir);
  if (!info) return { batches: 0, events: 0, problems: [...problems, 'PostgreSQL is not running'] };
  const client = new pg.Client({
    host: '127.0.0.1',
    port: info.port,
    user: 'postgres',
    password: superuserPassword,
    database: 'bank',
  });
  await client.connect();
  try {
    // The audit trail, the ledger and every balance against every sealed batch (all versions).
    const report = await verifySeals(bucket, await readDbState(pgSession(client)));
    return { batches: report.batches, events: report.events, problems: [...problems, ...report.problems] };
  } finally {
    await client.end();
  }
}
