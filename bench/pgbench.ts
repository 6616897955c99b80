import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { LocalPostgres } from '../local/postgres';

const run = promisify(execFile);

/**
 * pgbench's built-in tpcb-like script against the same PostgreSQL instance the bank uses (its
 * own `pgbench` database), when a pgbench binary is installed. A reference point for the
 * instance, not a like-for-like transfer: TPC-B updates three rows and inserts one.
 */

export interface PgbenchPoint {
  readonly clients: number;
  readonly tps: number;
  readonly latencyAvgMs: number;
  readonly failed: number;
}

export interface Pgbench {
  readonly binary: string;
  readonly version: string;
  readonly scale: number;
  readonly initMs: number;
  run(clients: number, seconds: number): Promise<PgbenchPoint>;
  drop(): Promise<void>;
}

/** `/usr/lib/postgresql/<newest>/bin/pgbench`, else one on PATH; undefined when neither exists. */
export function findPgbench(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^[0-9]+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const candidate = path.join(root, v, 'bin', 'pgbench');
      if (existsSync(candidate)) return candidate;
    }
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'pgbench');
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

export async function preparePgbench(
  binary: string,
  postgres: LocalPostgres,
  scale: number,
): Promise<Pgbench> {
  const database = 'pgbench';
  const admin = postgres.client('postgres');
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${database}`);
    await admin.query(`CREATE DATABASE ${database}`);
  } finally {
    await admin.end();
  }
  const env = { ...process.env, PGPASSWORD: postgres.superuser.password };
  const conn = ['-h', postgres.host, '-p', String(postgres.port), '-U', postgres.superuser.user];
  const version = (await run(binary, ['--version'], { env })).stdout.trim();
  const started = performance.now();
  // Server-side data generation (G), vacuum, primary keys: the standard initialisation, faster.
  await run(binary, ['-i', '-q', '-s', String(scale), '-I', 'dtGvp', ...conn, database], { env });
  const initMs = performance.now() - started;
  return {
    binary,
    version,
    scale,
    initMs,
    async run(clients, seconds) {
      const { stdout } = await run(
        binary,
        [
          '-n',
          '-M',
          'prepared',
          '-c',
          String(clients),
          '-j',
          String(Math.min(clients, 2)),
          '-T',
          String(seconds),
          ...conn,
          database,
        ],
        { env, maxBuffer: 4 * 1024 * 1024 },
      );
      const tps = /tps = ([0-9.]+)/.exec(stdout)?.[1];
      const latency = /latency average = ([0-9.]+) ms/.exec(stdout)?.[1];
      const failed = /number of failed transactions: ([0-9]+)/.exec(stdout)?.[1];
      if (tps === undefined) throw new Error(`unexpected pgbench output: ${stdout.slice(0, 400)}`);
      return {
        clients,
        tps: Number(tps),
        latencyAvgMs: latency === undefined ? Number.NaN : Number(latency),
        failed: failed === undefined ? 0 : Number(failed),
      };
    },
    async drop() {
      const c = postgres.client('postgres');
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${database}`);
      } finally {
        await c.end();
      }
    },
  };
}
