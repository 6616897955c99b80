import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, isRoot } from '../../local/postgres';
import {
  clonePrivately,
  json,
  npm,
  type PrivateClone,
  portOpen,
  postgresPidsOn,
  repoRoot,
  until,
  waitFor,
} from '../helpers/process';

/**
 * Issue 14: the README's two commands work wherever a user clones, a 0700 home included. As root
 * (CI, containers) PostgreSQL runs as the `postgres` OS user, who cannot enter the clone: this is
 * the case that broke. As an ordinary user the same test checks the same path without that
 * indirection, and says so in its name.
 */
const asRoot = isRoot();
const isGitCheckout = (() => {
  try {
    execFileSync('git', ['-C', repoRoot, 'rev-parse', 'HEAD'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!isGitCheckout)(
  `a fresh clone in a mktemp -d directory (${asRoot ? 'as root: PostgreSQL runs as user postgres' : 'not root: the root path is checked when the suite runs as root, as CI does'})`,
  () => {
    let clone: PrivateClone | undefined;
    afterAll(async () => {
      await clone?.remove();
    });

    it('npm start serves /health and moves money, keeps its secrets private, and stops whole on SIGTERM to npm', async () => {
      // Prepare
      clone = await clonePrivately();
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;

      // Act: the README's command, in the clone, with its default data directory
      const run = npm(['start'], clone.dir, {
        PORT: String(port),
        BANK_DATA_DIR: undefined,
        BANK_ADMIN_PASSWORD: 'clone-admin-pass-1',
        BANK_BCRYPT_COST: '4',
      });
      try {
        await waitFor(run, /listening on/, 90_000);
        const health = await json(base, 'GET', '/health');
        const login = await json(base, 'POST', '/auth/login', {
          username: 'admin',
          password: 'clone-admin-pass-1',
        });
        const token = String(login.body.accessToken);
        const alice = await json(
          base,
          'POST',
          '/users',
          { username: 'alice', password: 'alice-password-1', role: 'customer' },
          token,
        );
        const open = async (name: string) =>
          String(
            (await json(base, 'POST', '/accounts', { ownerId: alice.body.id, name, pin: '4826' }, token)).body
              .accountNo,
          );
        const [from, to] = [await open('Main'), await open('Savings')];
        const deposit = await json(base, 'POST', `/accounts/${from}/deposit`, { amount: '100.00' }, token);
        const transfer = await json(
          base,
          'POST',
          '/transfers',
          { fromAccountNo: from, toAccountNo: to, amount: '40.25' },
          token,
        );
        const credited = await json(base, 'GET', `/accounts/${to}`, undefined, token);

        // Assess
        expect(statSync(clone.home).mode & 0o777).toBe(0o700);
        expect(health).toMatchObject({ status: 200, body: { status: 'ok' } });
        expect(login.status).toBe(200);
        expect(alice.status).toBe(201);
        expect(deposit.status).toBe(200);
        expect(transfer.status).toBe(201);
        expect(credited.body.balance).toBe('40.25');
        const dataDir = path.join(clone.dir, '.data');
        for (const secret of ['secrets.json', 'cluster.json']) {
          expect(statSync(path.join(dataDir, secret)).mode & 0o777).toBe(0o600);
        }
        const { pgdata } = JSON.parse(readFileSync(path.join(dataDir, 'cluster.json'), 'utf8')) as {
          pgdata: string;
        };
        // As root the cluster must be outside the private clone; otherwise it stays in the data dir.
        expect(pgdata.startsWith(clone.home)).toBe(!asRoot);
        expect(existsSync(path.join(pgdata, 'PG_VERSION'))).toBe(true);
        expect(postgresPidsOn(pgdata).length).toBeGreaterThan(0);

        // Act: what `kill <npm's pid>` sends: npm does not pass it on to the script
        run.child.kill('SIGTERM');
        await run.exited;

        // Assess: the whole tree stops, PostgreSQL included, and the port closes
        expect(await until(async () => !(await portOpen(port)))).toBe(true);
        expect(await until(() => postgresPidsOn(pgdata).length === 0)).toBe(true);
        expect(await until(() => !existsSync(path.join(pgdata, 'postmaster.pid')))).toBe(true);
      } finally {
        if (run.child.exitCode === null) run.child.kill('SIGKILL');
      }
    }, 180_000);
  },
);
