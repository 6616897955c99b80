import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { migrationsDir } from '../../local/bootstrap';
import { checksumOf, loadMigrations } from '../../shared/db/migrate';
import { splitSqlStatements } from '../../shared/db/sql-split';

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

  it('never grants anything to PUBLIC and never hard-codes a password', async () => {
    for (const migration of await loadMigrations(migrationsDir)) {
      expect(migration.sql, migration.name).not.toMatch(/GRANT[^;]*TO\s+PUBLIC/i);
      expect(migration.sql, migration.name).not.toMatch(/PASSWORD\s+'/i);
    }
  });
});
