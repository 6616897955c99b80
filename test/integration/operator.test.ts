import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, recordedPgdata } from '../../local/postgres';
import { batchPrefix } from '../../shared/audit/chain';
import {
  alive,
  json,
  npm,
  portOpen,
  removeDataDir,
  repoRoot,
  type Started,
  until,
  waitFor,
  watch,
} from '../helpers/process';

/** What an operator does with `npm start` and its companions, each as a real child process. */
const dirs: string[] = [];
/** Data directories inside those; as root each names a cluster outside it, removed with it. */
const dataDirs: string[] = [];
afterAll(async () => {
  for (const dir of dataDirs) await removeDataDir(dir);
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bank-op-'));
  dirs.push(dir);
  dataDirs.push(path.join(dir, 'data'));
  return path.join(dir, 'data');
}

function pgdataOf(dir: string): string {
  return recordedPgdata(dir) ?? '';
}

function postmasterPid(pgdata: string): number {
  return Number(
    execFileSync('head', ['-1', path.join(pgdata, 'postmaster.pid')], { encoding: 'utf8' }).trim(),
  );
}

/** The postmaster and every process it started (backends, checkpointer, …). */
function clusterPids(postmaster: number): number[] {
  const pids = [postmaster];
  for (const line of execFileSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' }).split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    if (ppid === postmaster && pid !== undefined) pids.push(pid);
  }
  return pids.filter(alive);
}

const base = {
  BANK_ADMIN_PASSWORD: 'operator-pass-1',
  BANK_BCRYPT_COST: '4',
  BANK_LOG_FORMAT: 'json',
  POWERTOOLS_LOG_LEVEL: 'INFO',
};

function start(env: Record<string, string>): Started {
  return npm(['start'], repoRoot, { ...base, ...env });
}

/** SIGTERM to npm (which dies of it, code null), then: did the whole bank stop and free its port? */
async function stopped(run: Started, port: number): Promise<boolean> {
  if (run.child.exitCode === null) run.child.kill('SIGTERM');
  await run.exited;
  return until(async () => !(await portOpen(port)));
}

describe('bad settings', () => {
  it('refuse to start in one line naming the variable and what it allows, before anything starts', async () => {
    // Prepare
    const dir = await dataDir();
    const port = String(await freePort());
    // Act
    const cost = start({ BANK_DATA_DIR: dir, PORT: port, BANK_BCRYPT_COST: 'abc' });
    const attempts = start({ BANK_DATA_DIR: dir, PORT: port, BANK_LOGIN_WINDOW_S: '0' });
    const codes = [await cost.exited, await attempts.exited];
    // Assess
    expect(codes).toEqual([2, 2]);
    const errors = (r: Started) =>
      r
        .output()
        .split('\n')
        .filter((l) => l.startsWith('error:'));
    expect(errors(cost)).toEqual([
      'error: BANK_BCRYPT_COST="abc" is not allowed: use an integer from 4 to 15',
    ]);
    expect(errors(attempts)).toEqual([
      'error: BANK_LOGIN_WINDOW_S="0" is not allowed: use an integer from 1 to 86400',
    ]);
    expect(cost.output()).not.toMatch(/listening/);
    expect(existsSync(dir)).toBe(false);
  }, 60_000);
});

describe('a dying PostgreSQL, and the lock file it leaves', () => {
  it('stops npm start with one line and exit 1; the next start recovers the stale lock', async () => {
    // Prepare
    const dir = await dataDir();
    const port = await freePort();
    const first = start({ BANK_DATA_DIR: dir, PORT: String(port) });
    await waitFor(first, /listening on/);
    const pgdata = pgdataOf(dir);
    const postmaster = postmasterPid(pgdata);
    const children = clusterPids(postmaster);

    // Act: PostgreSQL dies under the running bank
    process.kill(postmaster, 'SIGKILL');
    const code = await first.exited;

    // Assess: no more serving of 500s; one line that says what happened
    expect(code).toBe(1);
    expect(first.output()).toMatch(
      new RegExp(
        `^error: PostgreSQL \\(pid ${postmaster}\\) was killed by SIGKILL.*start it again with npm start$`,
        'm',
      ),
    );
    expect(await portOpen(port)).toBe(false);
    expect(await until(() => children.every((pid) => !alive(pid)))).toBe(true);
    // The killed postmaster left its lock file; make its pid a live process that is not
    // PostgreSQL (what a reboot or a container restart does), which PostgreSQL itself refuses.
    expect(existsSync(path.join(pgdata, 'postmaster.pid'))).toBe(true);
    const lock = path.join(pgdata, 'postmaster.pid');
    const lines = execFileSync('cat', [lock], { encoding: 'utf8' }).split('\n');
    lines[0] = String(process.pid);
    writeFileSync(lock, lines.join('\n'));

    // Act: start again
    const second = start({ BANK_DATA_DIR: dir, PORT: String(port) });
    await waitFor(second, /listening on/);
    const health = await json(`http://127.0.0.1:${port}`, 'GET', '/health');
    const secondStopped = await stopped(second, port);

    // Assess
    expect(health).toMatchObject({ status: 200, body: { status: 'ok', database: 'up' } });
    expect(secondStopped).toBe(true);
  }, 120_000);

  it('refuses, in one line, to start over a PostgreSQL that still runs on the data directory', async () => {
    // Prepare: a bank whose Node process is killed outright leaves its PostgreSQL running
    const dir = await dataDir();
    const port = await freePort();
    const first = watch(
      spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
        cwd: repoRoot,
        env: { ...process.env, ...base, BANK_DATA_DIR: dir, PORT: String(port) },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    await waitFor(first, /listening on/);
    const pgdata = pgdataOf(dir);
    const postmaster = postmasterPid(pgdata);
    first.child.kill('SIGKILL');
    await first.exited;
    try {
      // Act
      const second = start({ BANK_DATA_DIR: dir, PORT: String(await freePort()) });
      const code = await second.exited;
      // Assess
      expect(alive(postmaster)).toBe(true);
      expect(code).toBe(1);
      expect(
        second
          .output()
          .split('\n')
          .filter((l) => l.startsWith('error:')),
      ).toEqual([
        `error: a PostgreSQL (pid ${postmaster}, port ${execFileSync('sed', ['-n', '4p', path.join(pgdata, 'postmaster.pid')], { encoding: 'utf8' }).trim()}) is still running on ${pgdata}; stop the npm start that owns it, or run: kill ${postmaster}`,
      ]);
    } finally {
      process.kill(postmaster, 'SIGINT');
      await until(() => !alive(postmaster));
    }
  }, 120_000);
});

describe('a running bank: readiness, logs, /health, invoke, backup and restore', () => {
  it('does what the README says, and a restored copy works and still verifies', async () => {
    // Prepare
    const dir = await dataDir();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = {
      BANK_DATA_DIR: dir,
      PORT: String(port),
      BANK_AUDIT_SEAL_INTERVAL_S: '1',
      BANK_LOGIN_USER_FAILURES_MAX: '2',
    };
    const notYet = npm(['run', '-s', 'ready'], repoRoot, { BANK_DATA_DIR: dir, BANK_READY_TIMEOUT_S: '1' });
    expect(await notYet.exited).toBe(1);
    expect(notYet.output()).toMatch(/^error: the bank was not ready after 1 s: no bank has started/m);
    const run = start(env);
    try {
      // Act: readiness, then traffic an operator should see
      const ready = npm(['run', '-s', 'ready'], repoRoot, { BANK_DATA_DIR: dir });
      expect(await ready.exited).toBe(0);
      expect(ready.output().trim()).toBe(url);
      const admin = String(
        (await json(url, 'POST', '/auth/login', { username: 'admin', password: 'operator-pass-1' })).body
          .accessToken,
      );
      const alice = await json(
        url,
        'POST',
        '/users',
        { username: 'alice', password: 'alice-pass-12', role: 'customer' },
        admin,
      );
      const accountNo = String(
        (await json(url, 'POST', '/accounts', { ownerId: alice.body.id, name: 'Main', pin: '4826' }, admin))
          .body.accountNo,
      );
      const token = String(
        (await json(url, 'POST', '/auth/login', { username: 'alice', password: 'alice-pass-12' })).body
          .accessToken,
      );
      for (let i = 0; i < 4; i++) {
        await json(url, 'POST', `/accounts/${accountNo}/deposit`, { amount: '1.00', pin: '9517' }, token);
      }
      for (let i = 0; i < 3; i++)
        await json(url, 'POST', '/auth/login', { username: 'bob', password: 'wrong-pass-12' });
      await json(url, 'GET', '/health');

      // Assess: one INFO line per request with the fields an operator filters on
      const logs = run
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      const health = logs.find((l) => l.message === 'request' && l.path === '/health');
      expect(health).toMatchObject({
        level: 'INFO',
        method: 'GET',
        route: 'health',
        status: 200,
        actor: 'anonymous',
      });
      expect(typeof health?.latencyMs).toBe('number');
      expect(typeof health?.requestId).toBe('string');
      const warnings = logs.filter((l) => l.level === 'WARN').map((l) => [l.message, l.errorCode, l.actor]);
      expect(warnings).toEqual(
        expect.arrayContaining([
          ['account locked after too many wrong PINs', 'INVALID_PIN', 'alice'],
          ['refused: account locked', 'ACCOUNT_LOCKED', 'alice'],
          ['refused logins: rate limit reached', 'RATE_LIMITED', 'bob'],
        ]),
      );

      // Act: one function through npm run invoke, as admin through the login function
      const invoked = npm(
        ['run', '-s', 'invoke', '--', 'accounts.get', '--path', `/accounts/${accountNo}`, '--as', 'admin'],
        repoRoot,
        {
          BANK_DATA_DIR: dir,
          BANK_INVOKE_PASSWORD: 'operator-pass-1',
        },
      );
      expect(await invoked.exited).toBe(0);
      const result = JSON.parse(invoked.output().slice(invoked.output().indexOf('{\n'))) as {
        statusCode: number;
        body: { accountNo: string; isLocked: boolean };
      };
      expect(result.statusCode).toBe(200);
      expect(result.body).toMatchObject({ accountNo, isLocked: true });

      // Act: a backup while it serves, once a sealed batch is in the log bucket
      const batches = path.join(dir, 'log-bucket', ...batchPrefix.split('/').filter(Boolean));
      expect(await until(() => existsSync(batches) && readdirSync(batches).length > 0, 20_000)).toBe(true);
      const file = path.join(path.dirname(dir), 'bank.tar.gz');
      const backup = npm(['run', '-s', 'backup', '--', file], repoRoot, { BANK_DATA_DIR: dir });
      expect(await backup.exited).toBe(0);
      expect(backup.output()).toMatch(/taken while the bank was running/);
    } finally {
      expect(await stopped(run, port)).toBe(true);
    }

    // Act: restore into a new data directory; refuse to overwrite the old one
    const file = path.join(path.dirname(dir), 'bank.tar.gz');
    const refused = npm(['run', '-s', 'restore', '--', file], repoRoot, { BANK_DATA_DIR: dir });
    expect(await refused.exited).toBe(1);
    expect(refused.output()).toMatch(/^error: .* already holds a bank; restore into another BANK_DATA_DIR/m);
    const restoredDir = `${dir}-restored`;
    dataDirs.push(restoredDir);
    const restored = npm(['run', '-s', 'restore', '--', file], repoRoot, { BANK_DATA_DIR: restoredDir });
    expect(await restored.exited).toBe(0);
    const verify = npm(['run', '-s', 'audit:verify'], repoRoot, { BANK_DATA_DIR: restoredDir });
    const verified = await verify.exited;

    // Assess: the audit trail verifies against its seals, and the bank serves the same data
    expect(verify.output()).toMatch(/^sealed batches: +[1-9]\d* /m);
    expect(verify.output()).toMatch(/^result: +OK, the sealed record is complete and unchanged$/m);
    expect(verified).toBe(0);
    const again = start({ ...env, BANK_DATA_DIR: restoredDir });
    try {
      await waitFor(again, /listening on/);
      const login = await json(url, 'POST', '/auth/login', { username: 'alice', password: 'alice-pass-12' });
      expect(login.status).toBe(200);
    } finally {
      expect(await stopped(again, port)).toBe(true);
    }
  }, 240_000);
});
