import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { splitSqlStatements } from './sql-split';

/**
 * Forward-only migrations. Files are `NNNN_snake_name.sql`, numbered from 0001 without gaps.
 * Pending files are applied in one transaction together with their checksums; an applied file
 * whose checksum changed stops the runner (edit history by adding a migration, never by
 * rewriting one).
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export type SqlParams = Readonly<Record<string, string | number | null>>;

/** The little the runner needs from a connection: one transaction, named `:params`. */
export interface SqlTransaction {
  query(sql: string, params?: SqlParams): Promise<Array<Record<string, unknown>>>;
}
export interface SqlExecutor {
  transaction<T>(work: (tx: SqlTransaction) => Promise<T>): Promise<T>;
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

const fileNamePattern = /^(\d{4})_([a-z0-9_]+)\.sql$/;
const migrationsCountMax = 9999;

export function checksumOf(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

export async function loadMigrations(dir: string): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const [index, file] of names.entries()) {
    const match = fileNamePattern.exec(file);
    if (!match?.[1]) throw new MigrationError(`migration file name ${file} is not NNNN_snake_name.sql`);
    const version = Number(match[1]);
    if (version !== index + 1) {
      throw new MigrationError(
        `migration ${file} breaks the numbering: expected ${String(index + 1).padStart(4, '0')}`,
      );
    }
    const sql = await readFile(path.join(dir, file), 'utf8');
    migrations.push({ version, name: file, sql, checksum: checksumOf(sql) });
  }
  if (migrations.length > migrationsCountMax) throw new MigrationError('too many migrations');
  return migrations;
}

export interface MigrationReport {
  readonly applied: string[];
  readonly alreadyApplied: number;
}

export async function runMigrations(
  executor: SqlExecutor,
  migrations: readonly Migration[],
): Promise<MigrationReport> {
  return executor.transaction(async (tx) => {
    await tx.query(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version integer PRIMARY KEY,
         name text NOT NULL,
         checksum text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    // Two runners (two deploys, two local starts) must not interleave.
    await tx.query('LOCK TABLE schema_migrations IN EXCLUSIVE MODE');
    const rows = await tx.query('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
    const known = new Map(migrations.map((m) => [m.version, m]));
    for (const row of rows) {
      const version = Number(row.version);
      const file = known.get(version);
      if (!file)
        throw new MigrationError(`database has migration ${String(row.name)} that is not in migrations/`);
      if (file.checksum !== row.checksum) {
        throw new MigrationError(
          `applied migration ${file.name} was edited (checksum differs); add a new migration instead`,
        );
      }
    }
    const appliedVersions = new Set(rows.map((r) => Number(r.version)));
    const applied: string[] = [];
    for (const migration of migrations) {
      if (appliedVersions.has(migration.version)) continue;
      for (const statement of splitSqlStatements(migration.sql)) {
        try {
          await tx.query(statement);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          throw new MigrationError(
            `${migration.name}: ${message}\n--- statement ---\n${statement.slice(0, 400)}`,
          );
        }
      }
      await tx.query(
        'INSERT INTO schema_migrations (version, name, checksum) VALUES (:version, :name, :checksum)',
        {
          version: migration.version,
          name: migration.name,
          checksum: migration.checksum,
        },
      );
      applied.push(migration.name);
    }
    return { applied, alreadyApplied: appliedVersions.size };
  });
}
