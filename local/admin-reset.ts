import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { promptHidden, UsageError } from '../cdk/scripts/prompt';
import { bcryptInput } from '../shared/auth/passwords';
import { passwordSchema, usernameSchema } from '../shared/schemas';
import { pgdataOf, startPostgres } from './postgres';

/**
 * `npm run admin:reset -- --username <name>`: offline recovery of a lost password (an admin's,
 * or anyone's) on the local data directory, as the database owner: sets the new password
 * (prompted for, or BANK_ADMIN_PASSWORD), enables the user and ends every session of theirs.
 * It starts the data directory's own PostgreSQL, so it refuses while `npm start` runs on the
 * same directory (two servers on one cluster would corrupt it): stop that first. Against a
 * deployed stack: `npm run admin:reset:stack -- --username <name>`.
 */
function parseArgs(argv: readonly string[]): string {
  let username: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--username') username = argv[++i];
    else throw new UsageError(`unknown argument ${argv[i] ?? ''} (usage: --username <name>)`);
  }
  if (username === undefined) throw new UsageError('usage: npm run admin:reset -- --username <name>');
  const checked = usernameSchema.safeParse(username);
  if (!checked.success)
    throw new UsageError(`username ${checked.error.issues[0]?.message ?? 'is not valid'}`);
  return username;
}

/** True when the PostgreSQL of this data directory is running (its postmaster.pid names a live process). */
function serverRunning(dataDir: string): boolean {
  const pidFile = path.join(pgdataOf(dataDir), 'postmaster.pid');
  if (!existsSync(pidFile)) return false;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user (PostgreSQL runs as `postgres`).
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function main(): Promise<void> {
  const username = parseArgs(process.argv.slice(2));
  const dataDir = path.resolve(process.env.BANK_DATA_DIR ?? '.data');
  if (!existsSync(path.join(pgdataOf(dataDir), 'PG_VERSION'))) {
    throw new UsageError(`${dataDir} holds no bank (run npm start once, or set BANK_DATA_DIR)`);
  }
  if (serverRunning(dataDir)) {
    throw new UsageError(
      `the bank in ${dataDir} is running (npm start): stop it, then run admin:reset again`,
    );
  }
  const fromEnv = process.env.BANK_ADMIN_PASSWORD;
  const password = fromEnv ?? (await promptHidden(`New password for "${username}" (10..128 characters): `));
  const checked = passwordSchema.safeParse(password);
  if (!checked.success)
    throw new UsageError(`password ${checked.error.issues[0]?.message ?? 'is not valid'}`);
  if (fromEnv === undefined && (await promptHidden('Repeat the password: ')) !== password) {
    throw new UsageError('the passwords differ');
  }
  // The API's bcrypt input rules (a long password is pre-hashed), so the login accepts it.
  const hash = await bcrypt.hash(bcryptInput(password), 10);
  const postgres = await startPostgres({ dataDir });
  try {
    const client = postgres.client('bank');
    await client.connect();
    try {
      const result = await client.query<{ reset: boolean }>('SELECT bank_admin_reset($1, $2) AS reset', [
        username,
        hash,
      ]);
      if (result.rows[0]?.reset !== true) throw new UsageError(`no user "${username}" in ${dataDir}`);
    } finally {
      await client.end();
    }
  } finally {
    await postgres.stop();
  }
  console.log(`Set a new password for "${username}"; every session of theirs ended.`);
}

main().catch((error: unknown) => {
  console.error(
    error instanceof UsageError
      ? `admin:reset: ${error.message}`
      : `admin:reset failed: ${error instanceof Error ? error.message : String(error)}`,
  );
  // Exit now: an embedded PostgreSQL handle left by a failure must not keep the process alive.
  process.exit(1);
});
