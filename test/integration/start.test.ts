import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, recordedPgdata } from '../../local/postgres';
import { removeDataDir } from '../helpers/process';

/** `npm start` end to end, as a user runs it: a real child process, real signals. */
const repoRoot = path.resolve(import.meta.dirname, '../..');

interface Started {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

function start(env: Record<string, string>): Started {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts'], {
    cwd: repoRoot,
    env: { ...process.env, ...env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function waitFor(started: Started, pattern: RegExp, timeoutMs = 45_000): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const match = pattern.exec(started.output());
    if (match) return match;
    if (started.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`did not see ${pattern} in:\n${started.output()}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await removeDataDir(dir);
  });

  it('serves /health, stops PostgreSQL on SIGTERM, and reuses its data on the next start', async () => {
    // Prepare
    const dataDir = await mkdtemp(path.join(tmpdir(), 'bank-start-'));
    dirs.push(dataDir);
    const port = await freePort();
    const env = { PORT: String(port), BANK_DATA_DIR: dataDir };

    // Act: first start
    const first = start(env);
    const password = (await waitFor(first, /created admin user "admin" with password: (\S+)/))[1] ?? '';
    await waitFor(first, new RegExp(`listening on http://127\\.0\\.0\\.1:${port}`));
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    const login = await fetch(`http://127.0.0.1:${port}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });
    const postmasterPid = Number(
      (await readFile(path.join(recordedPgdata(dataDir) ?? '', 'postmaster.pid'), 'utf8')).split('\n')[0],
    );
    const keyFile = path.join(dataDir, 'data-api-credentials.json');
    const keyMode = (await stat(keyFile)).mode & 0o777;
    const firstKey = await readFile(keyFile, 'utf8');
    first.child.kill('SIGTERM');
    const firstExit = await first.exited;

    // Assess
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', database: 'up' });
    expect(login.status).toBe(200);
    expect(firstExit).toBe(0);
    expect(postmasterPid).toBeGreaterThan(0);
    expect(alive(postmasterPid)).toBe(false);
    // The Data API server's access key: private to its owner, and what the handlers signed with
    expect(keyMode).toBe(0o600);
    expect(JSON.parse(firstKey)).toHaveProperty('accessKeyId', expect.stringMatching(/^AKIA/));

    // Act: second start on the same data
    const second = start(env);
    await waitFor(second, /listening on/);
    const again = await fetch(`http://127.0.0.1:${port}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });
    second.child.kill('SIGINT');
    const secondExit = await second.exited;

    // Assess: same admin, no second bootstrap, clean stop
    expect(again.status).toBe(200);
    expect(second.output()).not.toMatch(/created admin/);
    expect(await readFile(keyFile, 'utf8')).toBe(firstKey);
    expect(secondExit).toBe(0);
  }, 120_000);

  it('warns in one line when BANK_ADMIN_PASSWORD is not the admin’s; admin:reset sets it offline, not while running', async () => {
    // Prepare: a bank with an admin whose password is generated, running.
    const dataDir = await mkdtemp(path.join(tmpdir(), 'bank-reset-'));
    dirs.push(dataDir);
    const port = await freePort();
    const env = { PORT: String(port), BANK_DATA_DIR: dataDir };
    const first = start(env);
    const generated = (await waitFor(first, /created admin user "admin" with password: (\S+)/))[1] ?? '';
    await waitFor(first, /listening on/);
    const reset = (password: string) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'local/admin-reset.ts', '--username', 'admin'],
        {
          cwd: repoRoot,
          env: { ...process.env, BANK_DATA_DIR: dataDir, BANK_ADMIN_PASSWORD: password },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
      });
      child.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
      });
      return new Promise<{ code: number | null; output: string }>((resolve) =>
        child.once('exit', (code) => resolve({ code, output })),
      );
    };
    const login = (password: string) =>
      fetch(`http://127.0.0.1:${port}/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password }),
      });

    // Act: a reset while the bank runs is refused; after the stop it works.
    const refused = await reset('recovered-password-1');
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const done = await reset('recovered-password-1');
    const second = start({ ...env, BANK_ADMIN_PASSWORD: 'yet-another-password' });
    await waitFor(second, /listening on/);
    const withNew = await login('recovered-password-1');
    const withOld = await login(generated);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);

    // Assess
    expect(refused.code).toBe(1);
    expect(refused.output.trim()).toMatch(/^admin:reset: the bank in .* is running \(npm start\): stop it/);
    expect(refused.output.trim().split('\n')).toHaveLength(1);
    expect(done.code).toBe(0);
    expect(done.output.trim()).toBe('Set a new password for "admin"; every session of theirs ended.');
    expect(withNew.status).toBe(200);
    expect(withOld.status).toBe(401);
    const warnings = second
      .output()
      .split('\n')
      .filter((line) => line.startsWith('warning:'));
    expect(warnings).toEqual([
      'warning: BANK_ADMIN_PASSWORD is not the password of the existing admin "admin" and was not applied; to change it: npm run admin:reset -- --username admin',
    ]);
  }, 180_000);

  it('says in one line that the port is taken, and exits non-zero', async () => {
    // Prepare
    const dataDir = await mkdtemp(path.join(tmpdir(), 'bank-start-'));
    dirs.push(dataDir);
    const blocker: Server = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      // Act
      const run = start({ PORT: String(port), BANK_DATA_DIR: dataDir });
      const code = await run.exited;
      // Assess
      expect(code).toBe(1);
      expect(
        run
          .output()
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('error:')),
      ).toEqual([`error: port ${port} on 127.0.0.1 is already in use; set PORT to a free port`]);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  }, 60_000);

  it('refuses an audit sealer setting out of range in one line, before starting anything', async () => {
    // Prepare
    const dataDir = await mkdtemp(path.join(tmpdir(), 'bank-start-'));
    dirs.push(dataDir);
    // Act
    const run = start({ PORT: String(await freePort()), BANK_DATA_DIR: dataDir, BANK_AUDIT_BATCH_MAX: '0' });
    const code = await run.exited;
    // Assess
    expect(code).toBe(2);
    expect(run.output()).toMatch(
      /^error: BANK_AUDIT_BATCH_MAX="0" is not allowed: use an integer from 1 to 10000$/m,
    );
    expect(existsSync(path.join(dataDir, 'pgdata'))).toBe(false);
  }, 60_000);

  it('says in one line that the cluster is of another PostgreSQL version, and exits non-zero', async () => {
    // Prepare: a data directory whose cluster an older PostgreSQL made
    const dataDir = await mkdtemp(path.join(tmpdir(), 'bank-start-'));
    dirs.push(dataDir);
    const pgdata = path.join(dataDir, 'pgdata');
    await mkdir(pgdata, { mode: 0o700 });
    await writeFile(path.join(pgdata, 'PG_VERSION'), '16\n');
    await writeFile(path.join(dataDir, 'cluster.json'), JSON.stringify({ superuserPassword: 'x', pgdata }));
    // Act
    const run = start({ PORT: String(await freePort()), BANK_DATA_DIR: dataDir });
    const code = await run.exited;
    // Assess
    expect(code).toBe(1);
    expect(
      run
        .output()
        .split('\n')
        .filter((l) => l.startsWith('error:')),
    ).toEqual([
      expect.stringMatching(
        new RegExp(
          `^error: the cluster in ${pgdata} was made by PostgreSQL 16; this is PostgreSQL 18\\S*: back it up with that version, then move it away or set BANK_DATA_DIR to a new directory$`,
        ),
      ),
    ]);
  }, 60_000);

  it('refuses a money setting that is not a decimal money string in one line, before starting anything', async () => {
    // Prepare
    const dataDir = await mkdtemp(path.join(tmpdir(), 'bank-start-'));
    dirs.push(dataDir);
    // Act
    const run = start({
      PORT: String(await freePort()),
      BANK_DATA_DIR: dataDir,
      BANK_DAILY_DEBIT_LIMIT: '5000.001',
    });
    const code = await run.exited;
    // Assess
    expect(code).toBe(2);
    expect(run.output()).toMatch(
      /^error: BANK_DAILY_DEBIT_LIMIT="5000.001" is not allowed: use a decimal money string like "1000.00", above 0 and at most 1000000000.00$/m,
    );
    expect(existsSync(path.join(dataDir, 'pgdata'))).toBe(false);
  }, 60_000);

  it('says in one line that the data directory is unusable, and exits non-zero', async () => {
    // Act
    const run = start({ PORT: String(await freePort()), BANK_DATA_DIR: '/dev/null/bank' });
    const code = await run.exited;
    // Assess
    expect(code).toBe(1);
    expect(run.output()).toMatch(/^error: data directory \/dev\/null\/bank is not usable \(ENOTDIR\)/m);
  }, 60_000);
});
