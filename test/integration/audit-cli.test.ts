import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalBank } from '../../local/bank';
import { startPostgres } from '../../local/postgres';
import { removeDataDir } from '../helpers/process';

/**
 * The local bank, stopped cleanly, then `npm run audit:verify` and `npm run audit:seal` as a user
 * runs them: real child processes on its data directory. The verifier's exit status is what a scheduler or an
 * auditor's script acts on, so it is asserted exactly.
 */
const repoRoot = path.resolve(import.meta.dirname, '../..');
const childEnv = (dataDir: string, extra: Record<string, string> = {}) => ({
  ...process.env,
  BANK_DATA_DIR: dataDir,
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  ...extra,
});

function run(script: string, dataDir: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: repoRoot,
      env: childEnv(dataDir),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
    });
    child.once('exit', (code) => resolve({ code, out }));
  });
}

describe('npm run audit:verify and audit:seal', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await removeDataDir(dir);
  });

  it('seals on a clean stop, verifies clean (exit 0), reports an edit (exit 1), and seals on demand', async () => {
    // Prepare: the local bank (what npm start runs), one login, a clean stop
    const dataDir = await mkdtemp(path.join(tmpdir(), 'bank-audit-cli-'));
    dirs.push(dataDir);
    const bank = await startLocalBank({
      dataDir,
      port: 0,
      adminPassword: 'audit-cli-password-1',
      auditSealIntervalS: 3600,
    });
    const login = await fetch(`${bank.url}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: 'audit-cli-password-1' }),
    });
    expect(login.status).toBe(200);
    await bank.stop();

    // Act 1: the stop sealed everything
    const clean = await run('local/audit-verify.ts', dataDir);

    // Act 2: an edit as the owner with the triggers bypassed
    const postgres = await startPostgres({ dataDir });
    const client = postgres.client('bank');
    await client.connect();
    let edited = '';
    try {
      await client.query('SET session_replication_role = replica');
      const row = await client.query<{ seq: string }>(
        "UPDATE audit_logs SET outcome = 'denied' WHERE seq = (SELECT min(seq) FROM audit_logs) RETURNING seq::text",
      );
      edited = row.rows[0]?.seq ?? '';
      await client.query(
        "INSERT INTO audit_logs (actor, action, outcome) VALUES ('late', 'me.get', 'success')",
      );
    } finally {
      await client.end();
      await postgres.stop();
    }
    const tampered = await run('local/audit-verify.ts', dataDir);
    const sealed = await run('local/audit-seal.ts', dataDir);
    const after = await run('local/audit-verify.ts', dataDir);

    // Assess
    // One batch sealed at start (the admin's creation), one at the stop (the login).
    expect(clean.out).toMatch(/^sealed batches: {3}2 \(through batch 2, sealed at \S+Z\)$/m);
    expect(clean.out).toMatch(/^not yet sealed: {3}0 audit events, 0 ledger entries$/m);
    expect(clean.out).toMatch(/^result: {11}OK, the sealed record is complete and unchanged$/m);
    expect(clean.code).toBe(0);
    expect(tampered.out).toMatch(
      /^not yet sealed: {3}1 audit events, 0 ledger entries; the oldest is \d+ s old$/m,
    );
    expect(tampered.out).toContain(
      `result:           1 problem(s)\n  - audit event seq ${edited} (batch 1) was changed\n`,
    );
    expect(tampered.code).toBe(1);
    expect(sealed.out).toMatch(/^sealed batches 3 into /m);
    expect(sealed.code).toBe(0);
    expect(after.out).toMatch(/^sealed batches: {3}3 /m);
    expect(after.out).toContain(`  - audit event seq ${edited} (batch 1) was changed\n`);
    expect(after.code).toBe(1);
  }, 180_000);

  it('exits 2 with a reason when there is no bank data', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'bank-audit-none-'));
    dirs.push(dataDir);
    const result = await run('local/audit-verify.ts', dataDir);
    expect(result.out).toContain(
      `error: no bank data in ${dataDir}; run npm start first or set BANK_DATA_DIR`,
    );
    expect(result.code).toBe(2);
  });
});
