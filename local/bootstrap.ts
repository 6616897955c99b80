import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DbRole, dbRoles } from '../shared/auth/db-roles';
import { databaseSettings } from '../shared/config';
import { loadMigrationSet, type MigrationReport, runMigrations } from '../shared/db/migrate';
import { pgExecutor } from './pg-executor';
import type { LocalPostgres } from './postgres';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const migrationsDir = path.join(repoRoot, 'migrations');

/**
 * Creates `database` when missing, applies pending migrations, writes the settings the database
 * enforces (shared/config.ts databaseSettings), and sets each application role's
 * password (the roles themselves come from the migrations; passwords never live in SQL files).
 */
export async function prepareDatabase(
  server: Pick<LocalPostgres, 'client'>,
  database: string,
  rolePasswords: Readonly<Record<DbRole, string>>,
): Promise<MigrationReport> {
  const admin = server.client('postgres');
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0) {
      await admin.query(`CREATE DATABASE ${quoteIdent(database)}`);
    }
  } finally {
    await admin.end();
  }
  const client = server.client(database);
  await client.connect();
  try {
    const report = await runMigrations(pgExecutor(client), await loadMigrationSet(migrationsDir));
    for (const role of dbRoles) {
      await client.query('SELECT bank_set_role_password($1, $2)', [role, rolePasswords[role]]);
    }
    for (const [name, minor] of databaseSettings()) {
      await client.query('SELECT bank_set_setting($1, $2::bigint)', [name, minor.toString()]);
    }
    return report;
  } finally {
    await client.end();
  }
}

export function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`unsafe identifier ${name}`);
  return `"${name}"`;
}
