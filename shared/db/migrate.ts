import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { splitSqlStatements } from './sql-split';

/**
 * Forward-only migrations. Files are `NNNN_snake_name.sql`, numbered from 0001 without gaps.
 * Pending files are applied in one transaction together with their checksums; an applied file
 * whose checksum changed stops the runner (edit history by adding a migration, never by
 * rewriting one).
 *
 * SQL functions are repeatable instead (like Flyway's repeatable migrations): one file per
 * function, `functions/<function_name>.sql`, each `CREATE OR REPLACE` plus its grants. After the
 * numbered files, in the same transaction, every function file whose checksum differs from the
 * one recorded in `schema_functions` is applied again. A changed signature needs a numbered
 * migration that drops the old one (CREATE OR REPLACE would add an overload beside it).
 *
 * So a numbered migration must never need a function that only a file defines (a fresh install
 * has none of them until every numbered file has run), and must never re-create a function that
 * has a file (existing databases would keep the migration's version, fresh ones the file's).
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

export interface FunctionFile {
  /** The function's name: the file name without `.sql`. */
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
const functionFileNamePattern = /^([a-z][a-z0-9_]{0,62})\.sql$/;
const functionFilesCountMax = 1000;
/** Where the function files live, under the migrations directory. */
export const functionsSubdir = 'functions';

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

/** The function files of `dir/functions/`, by name; each must define the function it is named after. */
export async function loadFunctionFiles(dir: string): Promise<FunctionFile[]> {
  const names = (await readdir(path.join(dir, functionsSubdir))).filter((f) => f.endsWith('.sql')).sort();
  if (names.length > functionFilesCountMax) throw new MigrationError('too many function files');
  const files: FunctionFile[] = [];
  for (const file of names) {
    const match = functionFileNamePattern.exec(file);
    if (!match?.[1]) throw new MigrationError(`function file name ${file} is not function_name.sql`);
    const name = match[1];
    const sql = await readFile(path.join(dir, functionsSubdir, file), 'utf8');
    if (!new RegExp(`CREATE OR REPLACE FUNCTION ${name}\\(`).test(sql)) {
      throw new MigrationError(`${functionsSubdir}/${file} must CREATE OR REPLACE FUNCTION ${name}(...)`);
    }
    files.push({ name, sql, checksum: checksumOf(sql) });
  }
  return files;
}

/** Everything the runner applies: the numbered migrations, then the function files. */
export interface MigrationSet {
  readonly migrations: readonly Migration[];
  readonly functions: readonly FunctionFile[];
}

export async function loadMigrationSet(dir: string): Promise<MigrationSet> {
  return { migrations: await loadMigrations(dir), functions: await loadFunctionFiles(dir) };
}

export interface MigrationReport {
  readonly applied: string[];
  readonly alreadyApplied: number;
  /** Function files (re-)applied because they were new or their checksum changed. */
  readonly functionsApplied: string[];
}

export async function runMigrations(executor: SqlExecutor, set: MigrationSet): Promise<MigrationReport> {
  const { migrations, functions } = set;
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
    const functionsApplied = await applyFunctionFiles(tx, functions);
    return { applied, alreadyApplied: appliedVersions.size, functionsApplied };
  });
}

async function applyFunctionFiles(tx: SqlTransaction, functions: readonly FunctionFile[]): Promise<string[]> {
  await tx.query(
    `CREATE TABLE IF NOT EXISTS schema_functions (
       name text PRIMARY KEY,
       checksum text NOT NULL,
       applied_at timestamptz NOT NULL DEFAULT now()
     )`,
  );
  // Bodies of LANGUAGE sql functions are checked when created; files apply in name order, so a
  // function may name one whose file comes later (pg_dump does the same for the same reason).
  await tx.query('SET LOCAL check_function_bodies = off');
  const rows = await tx.query('SELECT name, checksum FROM schema_functions');
  const recorded = new Map(rows.map((r) => [String(r.name), String(r.checksum)]));
  const present = new Set(functions.map((f) => f.name));
  for (const name of recorded.keys()) {
    if (present.has(name)) continue;
    // A removed file: its function must have been dropped by a numbered migration.
    const left = await tx.query(
      "SELECT count(*)::integer AS n FROM pg_proc WHERE proname = :name AND pronamespace = 'public'::regnamespace",
      { name },
    );
    if (Number(left[0]?.n ?? 0) > 0) {
      throw new MigrationError(
        `function file ${functionsSubdir}/${name}.sql was removed but ${name} still exists; drop it in a numbered migration`,
      );
    }
    await tx.query('DELETE FROM schema_functions WHERE name = :name', { name });
  }
  const applied: string[] = [];
  for (const file of functions) {
    if (recorded.get(file.name) === file.checksum) continue;
    for (const statement of splitSqlStatements(file.sql)) {
      try {
        await tx.query(statement);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        throw new MigrationError(
          `${functionsSubdir}/${file.name}.sql: ${message}\n--- statement ---\n${statement.slice(0, 400)}`,
        );
      }
    }
    await tx.query(
      `INSERT INTO schema_functions (name, checksum) VALUES (:name, :checksum)
       ON CONFLICT (name) DO UPDATE SET checksum = EXCLUDED.checksum, applied_at = now()`,
      { name: file.name, checksum: file.checksum },
    );
    applied.push(file.name);
  }
  await tx.query('SET LOCAL check_function_bodies = on');
  return applied;
}
