import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../local/postgres';

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
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
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
      (await readFile(path.join(dataDir, 'pgdata', 'postmaster.pid'), 'utf8')).split('\n')[0],
    );
    first.child.kill('SIGTERM');
    const firstExit = await first.exited;

    // Assess
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    expect(login.status).toBe(200);
    expect(firstExit).toBe(0);
    expect(postmasterPid).toBeGreaterThan(0);
    expect(alive(postmasterPid)).toBe(false);

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
    expect(secondExit).toBe(0);
  }, 120_000);

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
    const run = start({ PORT: String(await freePort()), BANK_DATA_DIR: dataDir, BANK_AUDIT_SETTLE_S: '-5' });
    const code = await run.exited;
    // Assess
    expect(code).toBe(1);
    expect(run.output()).toMatch(
      /^error: invalid audit sealer settings \(BANK_AUDIT_SETTLE_S: Too small: expected number to be >=0\)$/m,
    );
    expect(existsSync(path.join(dataDir, 'pgdata'))).toBe(false);
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
    expect(code).toBe(1);
    expect(run.output()).toMatch(
      /^error: invalid environment: BANK_DAILY_DEBIT_LIMIT must be a decimal string like "1000.00"$/m,
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
