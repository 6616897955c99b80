import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { access, chmod, constants, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { sealerEnvSchema, sealPending } from '../shared/audit/sealer';
import { type DbRole, dbRoles } from '../shared/auth/db-roles';
import { bcryptInput, verifySecret } from '../shared/auth/passwords';
import { databaseSettings } from '../shared/config';
import { logger } from '../shared/logger';
import { passwordSchema, usernameSchema } from '../shared/schemas';
import { prepareDatabase } from './bootstrap';
import { AccessKeyFileError, loadOrCreateAccessKey } from './data-api/credentials';
import { fsBucket } from './log-bucket';
import { type LocalPostgres, startPostgres } from './postgres';
import { type Services, startServices } from './services';

/**
 * The whole bank on one machine: embedded PostgreSQL (data in `dataDir`, kept across restarts),
 * migrations, the Data API server and the gateway. `npm start`, the end-to-end test and the
 * benchmarks all start it through here.
 */
export interface LocalBankOptions {
  readonly dataDir: string;
  readonly host?: string;
  readonly port?: number;
  readonly adminUsername?: string;
  /** When unset on first start, a password is generated and returned once. */
  readonly adminPassword?: string;
  readonly ephemeral?: boolean;
  readonly env?: Readonly<Record<string, string>>;
  readonly poolSizePerRole?: number;
  /** Seconds between audit sealer runs (default 10: a run with nothing to seal is one query); 0 turns the sealer off (benchmarks). */
  readonly auditSealIntervalS?: number;
  /** The Data API server on its own worker thread (default true; false keeps it on this one). */
  readonly dataApiThread?: boolean;
}

export interface LocalBank {
  readonly url: string;
  readonly postgres: LocalPostgres;
  readonly services: Services;
  readonly database: string;
  /** Set only when this start created the admin with a generated password. */
  readonly generatedAdminPassword?: string;
  readonly adminCreated: boolean;
  /** BANK_ADMIN_PASSWORD was given and is not the existing admin's password (it was not applied). */
  readonly adminPasswordDiffers: boolean;
  stop(): Promise<void>;
}

export class LocalBankError extends Error {
  override name = 'LocalBankError';
}

interface SecretsFile {
  rolePasswords: Record<DbRole, string>;
  jwtSecret: string;
}

const database = 'bank';
/** In the data directory, mode 0600: the access key of the local Data API server. */
export const dataApiCredentialsFile = 'data-api-credentials.json';

async function loadOrCreateSecrets(dataDir: string): Promise<SecretsFile> {
  const file = path.join(dataDir, 'secrets.json');
  if (existsSync(file)) {
    const existing = JSON.parse(await readFile(file, 'utf8')) as SecretsFile;
    // A data directory from before a role was added gets a password for the new role.
    const missing = dbRoles.filter((r) => typeof existing.rolePasswords[r] !== 'string');
    if (missing.length === 0) return existing;
    for (const r of missing) existing.rolePasswords[r] = randomBytes(24).toString('base64url');
    await writeFile(file, JSON.stringify(existing), { mode: 0o600 });
    return existing;
  }
  const secrets: SecretsFile = {
    rolePasswords: Object.fromEntries(
      dbRoles.map((r) => [r, randomBytes(24).toString('base64url')]),
    ) as Record<DbRole, string>,
    jwtSecret: randomBytes(48).toString('base64url'),
  };
  await writeFile(file, JSON.stringify(secrets), { mode: 0o600 });
  await chmod(file, 0o600);
  return secrets;
}

async function assertPortFree(host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new LocalBankError(
          error.code === 'EADDRINUSE'
            ? `port ${port} on ${host} is already in use; set PORT to a free port`
            : `cannot listen on ${host}:${port}: ${error.message}`,
        ),
      );
    });
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

async function prepareDataDir(dataDir: string): Promise<void> {
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await access(dataDir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (error) {
    const reason =
      error instanceof Error && 'code' in error ? String((error as NodeJS.ErrnoException).code) : 'unusable';
    throw new LocalBankError(
      `data directory ${dataDir} is not usable (${reason}); set BANK_DATA_DIR to a writable directory`,
    );
  }
}

export async function startLocalBank(options: LocalBankOptions): Promise<LocalBank> {
  const dataDir = path.resolve(options.dataDir);
  const host = options.host ?? '127.0.0.1';
  const sealerEnv = sealerEnvSchema.safeParse(process.env);
  if (!sealerEnv.success) {
    const problems = sealerEnv.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new LocalBankError(`invalid audit sealer settings (${problems})`);
  }
  // The money settings (shared/config.ts), checked before anything starts: one line naming the variable.
  databaseSettings();
  if (options.port !== undefined && options.port !== 0) await assertPortFree(host, options.port);
  await prepareDataDir(dataDir);
  const secrets = await loadOrCreateSecrets(dataDir);
  // The Data API server accepts only calls signed with this key; kept across restarts.
  const dataApiAccessKey = await loadOrCreateAccessKey(path.join(dataDir, dataApiCredentialsFile)).catch(
    (error: unknown) => {
      throw error instanceof AccessKeyFileError ? new LocalBankError(error.message) : error;
    },
  );
  const postgres = await startPostgres({ dataDir, ...(options.ephemeral ? { ephemeral: true } : {}) });
  try {
    await prepareDatabase(postgres, database, secrets.rolePasswords);
    const admin = await ensureAdmin(postgres, options.adminUsername ?? 'admin', options.adminPassword);
    const services = await startServices({
      pg: { host: postgres.host, port: postgres.port },
      database,
      rolePasswords: secrets.rolePasswords,
      jwtSecret: secrets.jwtSecret,
      host,
      ...(options.port !== undefined ? { port: options.port } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.poolSizePerRole ? { poolSizePerRole: options.poolSizePerRole } : {}),
      dataApiThread: options.dataApiThread ?? true,
      dataApiAccessKey,
    });
    const stopSealer = startSealer(dataDir, options.auditSealIntervalS ?? 10, {
      batchMax: sealerEnv.data.BANK_AUDIT_BATCH_MAX,
    });
    return {
      url: services.url,
      postgres,
      services,
      database,
      adminCreated: admin.created,
      adminPasswordDiffers: admin.passwordDiffers === true,
      ...(admin.generatedPassword ? { generatedAdminPassword: admin.generatedPassword } : {}),
      async stop() {
        await stopSealer();
        await services.close();
        await postgres.stop();
      },
    };
  } catch (error) {
    await postgres.stop();
    throw error;
  }
}

async function ensureAdmin(
  postgres: LocalPostgres,
  username: string,
  password: string | undefined,
): Promise<{ created: boolean; generatedPassword?: string; passwordDiffers?: boolean }> {
  // The same rules as POST /users, so the first admin could also have been created through it.
  const badName = usernameSchema.safeParse(username).error?.issues[0];
  if (badName) throw new LocalBankError(`BANK_ADMIN_USERNAME ${badName.message}`);
  const badPassword =
    password === undefined ? undefined : passwordSchema.safeParse(password).error?.issues[0];
  if (badPassword) throw new LocalBankError(`BANK_ADMIN_PASSWORD ${badPassword.message}`);
  const client = postgres.client(database);
  await client.connect();
  try {
    const existing = await client.query<{ password_hash: string }>(
      'SELECT password_hash FROM users WHERE username = $1',
      [username],
    );
    const stored = existing.rows[0]?.password_hash;
    if (stored !== undefined) {
      // An existing admin keeps its password: say so when BANK_ADMIN_PASSWORD is another one,
      // rather than ignore it silently (admin:reset changes it).
      const differs = password !== undefined && !(await verifySecret(password, stored));
      return differs ? { created: false, passwordDiffers: true } : { created: false };
    }
    const chosen = password ?? randomBytes(15).toString('base64url');
    const hash = await bcrypt.hash(bcryptInput(chosen), 10);
    await client.query("SELECT bank_create_user($1, $2, 'admin')", [username, hash]);
    return password === undefined ? { created: true, generatedPassword: chosen } : { created: true };
  } finally {
    await client.end();
  }
}

/**
 * The audit sealer on a timer, as the scheduled function runs in the cloud: off the request path,
 * writing sealed batches to `<dataDir>/log-bucket`. It also runs once at start (what the last
 * run left unsealed) and once more in the returned stop, after any run in flight, while the Data
 * API is still up, so a clean stop (bank.stop()) leaves nothing unsealed.
 */
function startSealer(
  dataDir: string,
  intervalS: number,
  settings: { readonly batchMax: number },
): () => Promise<void> {
  const { batchMax } = settings;
  if (intervalS <= 0) return async () => undefined;
  const bucket = fsBucket(path.join(dataDir, 'log-bucket'));
  const seal = () =>
    sealPending({ bucket, batchMax }).catch((error: unknown) => {
      logger.error('audit sealer run failed', { errorName: 'AuditSealFailed', error });
    });
  let running: Promise<unknown> = seal();
  const timer = setInterval(() => {
    running = running.then(seal);
  }, intervalS * 1000);
  timer.unref();
  // npm start stops the services before PostgreSQL on any stop signal (local/start.ts), so the
  // last run below still reaches the database: a clean stop leaves nothing unsealed.
  return async () => {
    clearInterval(timer);
    await running;
    await seal();
  };
}
