import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import teardown from '../e2e/teardown';
import { alive, until } from '../helpers/process';

/*
 * The browser tests' teardown stops `npm start` by the pid its server.json names. A server that
 * died during the run leaves that pid behind, and on a busy machine (pid_max 32768 here) the pid
 * is soon another process's: the teardown must signal only the bank serving its data directory,
 * never whatever process has that pid now.
 */
const children: ChildProcess[] = [];
let dir = '';
const savedDataDir = process.env.BANK_E2E_DATA_DIR;

afterEach(async () => {
  for (const child of children.splice(0))
    if (child.pid !== undefined && alive(child.pid)) child.kill('SIGKILL');
  if (savedDataDir === undefined) delete process.env.BANK_E2E_DATA_DIR;
  else process.env.BANK_E2E_DATA_DIR = savedDataDir;
  await rm(dir, { recursive: true, force: true });
});

/** A process that lives until SIGINT (or a minute), with `env` added to this one's environment. */
async function processWith(env: Record<string, string>): Promise<number> {
  const child = spawn(
    process.execPath,
    ['-e', "process.on('SIGINT', () => process.exit(0)); setTimeout(() => {}, 60_000);"],
    {
      env: { ...process.env, BANK_DATA_DIR: '', ...env },
      stdio: 'ignore',
    },
  );
  children.push(child);
  await new Promise((resolve) => child.once('spawn', resolve));
  if (child.pid === undefined) throw new Error('not started');
  return child.pid;
}

async function runWithServerFile(pid: number): Promise<void> {
  dir = await mkdtemp(path.join(tmpdir(), 'bank-e2e-'));
  await writeFile(path.join(dir, 'server.json'), JSON.stringify({ pid, url: 'http://127.0.0.1:1' }));
  process.env.BANK_E2E_DATA_DIR = dir;
  await teardown();
}

describe('the browser tests’ teardown', () => {
  it('leaves alone a process that has the pid of a dead server now, and removes the data directory', async () => {
    // Prepare: another process, of another data directory, has the pid server.json names.
    const stranger = await processWith({ BANK_DATA_DIR: '/somewhere/else' });
    // Act
    await runWithServerFile(stranger);
    // Assess
    expect(alive(stranger)).toBe(true);
    expect(existsSync(dir)).toBe(false);
  });

  it('stops the bank that serves its data directory (SIGINT), then removes the data directory', async () => {
    // Prepare: the data directory's name is known only once it exists; the server learns it as npm start would.
    dir = await mkdtemp(path.join(tmpdir(), 'bank-e2e-'));
    const bank = await processWith({ BANK_DATA_DIR: dir });
    await writeFile(path.join(dir, 'server.json'), JSON.stringify({ pid: bank, url: 'http://127.0.0.1:1' }));
    process.env.BANK_E2E_DATA_DIR = dir;
    // Act
    await teardown();
    // Assess
    expect(await until(() => !alive(bank), 5_000)).toBe(true);
    expect(existsSync(dir)).toBe(false);
  });
});
