import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrationsDir } from '../../local/bootstrap';
import { checksumOf, loadFunctionFiles, loadMigrations, type Migration } from '../../shared/db/migrate';
import { splitSqlStatements } from '../../shared/db/sql-split';

/**
 * The numbered files up to this one were written before the functions they create had files of
 * their own (0006 moved the operations' functions, the sealer's were moved after 0011). After it, a
 * function with a file is changed in its file only: function files are applied after the numbered
 * ones, and again only when their checksum changes, so a later numbered CREATE OR REPLACE of such a
 * function would win on every existing database and lose to the file on a fresh install.
 */
const lastMigrationBeforeFunctionFiles = 11;

/** `file: function` for each function with a file of its own that a later numbered file creates. */
function redefinedAfterFiles(migrations: readonly Migration[], fileFunctions: ReadonlySet<string>): string[] {
  const found: string[] = [];
  for (const migration of migrations) {
    if (migration.version <= lastMigrationBeforeFunctionFiles) continue;
    for (const match of migration.sql.matchAll(
      /CREATE\s+(?:OR\s+REPLACE\s+)?FUNCTION\s+(?:public\.)?"?([A-Za-z_][A-Za-z0-9_]*)"?\s*\(/gi,
    )) {
      const name = (match[1] ?? '').toLowerCase();
      if (fileFunctions.has(name)) found.push(`${migration.name}: ${name}`);
    }
  }
  return found;
}

describe('migrations/', () => {
  it('is numbered 0001.. without gaps, one snake_case name each', async () => {
    const files = (await readdir(migrationsDir)).filter((f) => f.endsWith('.sql')).sort();
    expect(files.length).toBeGreaterThan(0);
    files.forEach((file, index) => {
      expect(file).toMatch(/^\d{4}_[a-z0-9_]+\.sql$/);
      expect(file.slice(0, 4)).toBe(String(index + 1).padStart(4, '0'));
    });
    const loaded = await loadMigrations(migrationsDir);
    expect(loaded.map((m) => m.name)).toEqual(files);
  });

  it('records a sha256 checksum of each file as it is on disk', async () => {
    for (const migration of await loadMigrations(migrationsDir)) {
      const text = await readFile(path.join(migrationsDir, migration.name), 'utf8');
      expect(migration.checksum).toBe(checksumOf(text));
      expect(migration.checksum).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it('splits every file into statements the Data API can run one at a time', async () => {
    for (const migration of await loadMigrations(migrationsDir)) {
      const statements = splitSqlStatements(migration.sql);
      expect(statements.length, migration.name).toBeGreaterThan(0);
      for (const statement of statements) expect(statement.trim().endsWith(';')).toBe(false);
    }
  });

  it('never re-creates in a numbered file a function that has a file of its own', async () => {
    const migrations = await loadMigrations(migrationsDir);
    const fileFunctions = new Set((await loadFunctionFiles(migrationsDir)).map((f) => f.name));
    expect(fileFunctions).toContain('bank_seal_next');
    expect(redefinedAfterFiles(migrations, fileFunctions)).toEqual([]);
    // What it would report: a later file changing the sealer in place instead of in its file.
    const later: Migration = {
      version: lastMigrationBeforeFunctionFiles + 1,
      name: '0012_seal_change.sql',
      sql:
        'CREATE OR REPLACE FUNCTION bank_seal_next(p integer, q integer) RETURNS jsonb LANGUAGE sql AS $$ SELECT NULL $$;\n' +
        'create function Bank_Xid8 (a xid, b xid8) RETURNS xid8 LANGUAGE sql AS $$ SELECT b $$;\n' +
        'CREATE FUNCTION bank_brand_new() RETURNS integer LANGUAGE sql AS $$ SELECT 1 $$;',
      checksum: '0'.repeat(64),
    };
    expect(redefinedAfterFiles([...migrations, later], fileFunctions)).toEqual([
      '0012_seal_change.sql: bank_seal_next',
      '0012_seal_change.sql: bank_xid8',
    ]);
  });

  it('never grants anything to PUBLIC and never hard-codes a password', async () => {
    for (const migration of await loadMigrations(migrationsDir)) {
      expect(migration.sql, migration.name).not.toMatch(/GRANT[^;]*TO\s+PUBLIC/i);
      expect(migration.sql, migration.name).not.toMatch(/PASSWORD\s+'/i);
    }
  });
});
