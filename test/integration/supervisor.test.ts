import { execFileSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalBank, startLocalBank } from '../../local/bank';
import { componentFailure } from '../../local/supervisor';
import { alive, removeDataDir } from '../helpers/process';

/**
 * The bank in this process: /health while PostgreSQL cannot answer, and what npm start's
 * supervisor hears when the Data API thread dies (one bank per file: handlers keep their
 * environment once loaded, as a warm Lambda does).
 */
let bank: LocalBank;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'bank-sup-'));
  bank = await startLocalBank({
    dataDir: dir,
    ephemeral: true,
    port: 0,
    auditSealIntervalS: 0,
    adminPassword: 'supervised-pass-1',
  });
}, 60_000);
afterAll(async () => {
  await bank.stop();
  await removeDataDir(dir);
});

function clusterPids(postmaster: number): number[] {
  const pids = [postmaster];
  for (const line of execFileSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' }).split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    if (ppid === postmaster && pid !== undefined) pids.push(pid);
  }
  return pids.filter(alive);
}

describe('GET /health', () => {
  it('answers 200 {status:"ok",database:"up"}, and 503 while PostgreSQL cannot answer', async () => {
    // Prepare
    const up = await fetch(`${bank.url}/health`);
    const frozen = clusterPids(bank.postgres.pid);
    // Act: every PostgreSQL process stopped (as a hung or unreachable database looks)
    for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    let down: Response;
    try {
      down = await fetch(`${bank.url}/health`);
    } finally {
      for (const pid of frozen) process.kill(pid, 'SIGCONT');
    }
    const back = await fetch(`${bank.url}/health`);
    // Assess
    expect([up.status, await up.json()]).toEqual([200, { status: 'ok', database: 'up' }]);
    expect([down.status, await down.json()]).toEqual([503, { status: 'unavailable', database: 'down' }]);
    expect(back.status).toBe(200);
  }, 30_000);
});

describe('the supervisor', () => {
  it('hears, in one line, that the Data API thread died; the bank still stops cleanly', async () => {
    // Prepare
    const failure = componentFailure(bank);
    const dataApi = bank.services.dataApi;
    if (!('crash' in dataApi) || typeof dataApi.crash !== 'function') throw new Error('no Data API thread');
    // Act
    await dataApi.crash();
    const reason = await failure;
    // Assess
    expect(reason).toMatch(/^the local Data API thread exited unexpectedly \(code \d+\)$/);
    await expect(bank.stop()).resolves.toBeUndefined();
    expect(alive(bank.postgres.pid)).toBe(false);
  }, 30_000);

  it('hears that PostgreSQL died, and from which signal', async () => {
    // Prepare
    const other = await startLocalBank({
      dataDir: path.join(dir, 'second'),
      ephemeral: true,
      port: 0,
      auditSealIntervalS: 0,
      adminPassword: 'supervised-pass-1',
    });
    const failure = componentFailure(other);
    // Act
    process.kill(other.postgres.pid, 'SIGKILL');
    const reason = await failure;
    await other.stop();
    // Assess
    expect(reason).toMatch(new RegExp(`^PostgreSQL \\(pid ${other.postgres.pid}\\) was killed by SIGKILL`));
  }, 60_000);
});
