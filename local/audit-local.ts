import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { DbRole } from '../shared/auth/db-roles';
import { livePostmaster, pgdataOf, startPostgres } from './postgres';

/**
 * The local bank's data directory for the audit tools (`npm run audit:verify`, `audit:seal`):
 * the PostgreSQL of a running `npm start`, or one started here for the duration and stopped after.
 */
export interface LocalData {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly superuserPassword: string;
  readonly rolePasswords: Readonly<Record<DbRole, string>>;
  client(user?: 'postgres' | DbRole): pg.Client;
  close(): Promise<void>;
}

export class LocalDataError extends Error {
  override name = 'LocalDataError';
}

/** The port of a PostgreSQL already serving this data directory's cluster (npm start running). */
function runningPort(dataDir: string): number | undefined {
  return livePostmaster(pgdataOf(dataDir))?.port;
}

export async function openLocalData(dir: string): Promise<LocalData> {
  const dataDir = path.resolve(dir);
  if (!existsSync(path.join(dataDir, 'cluster.json')) || !existsSync(path.join(dataDir, 'secrets.json'))) {
    throw new LocalDataError(`no bank data in ${dataDir}; run npm start first or set BANK_DATA_DIR`);
  }
  const { superuserPassword } = JSON.parse(readFileSync(path.join(dataDir, 'cluster.json'), 'utf8')) as {
    superuserPassword: string;
  };
  const { rolePasswords } = JSON.parse(readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')) as {
    rolePasswords: Record<DbRole, string>;
  };
  const running = runningPort(dataDir);
  const owned = running === undefined ? await startPostgres({ dataDir }) : undefined;
  const port = running ?? owned?.port;
  if (port === undefined) throw new LocalDataError('PostgreSQL did not start');
  const host = '127.0.0.1';
  const database = 'bank';
  return {
    dataDir,
    host,
    port,
    database,
    superuserPassword,
    rolePasswords,
    client(user = 'postgres') {
      const password = user === 'postgres' ? superuserPassword : rolePasswords[user];
      return new pg.Client({ host, port, user, password, database });
    },
    async close() {
      await owned?.stop();
    },
  };
}
