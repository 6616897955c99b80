import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { prepareDatabase } from '../local/bootstrap';
import { removeDataDir } from '../local/clusters';
import { type LocalPostgres, startPostgres } from '../local/postgres';
import { dbRoles } from '../shared/auth/db-roles';

export interface TestCluster {
  readonly host: string;
  readonly port: number;
  readonly superuser: { readonly username: string; readonly password: string };
  readonly roles: Record<(typeof dbRoles)[number], { readonly username: string; readonly password: string }>;
  readonly templateDb: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    pg: TestCluster;
  }
}

/**
 * One real PostgreSQL per test run; migrations applied once into a template database that
 * every test file clones (test/helpers/db.ts), so files run in parallel without shared state.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bank-test-'));
  let server: LocalPostgres;
  try {
    server = await startPostgres({ dataDir, ephemeral: true, maxConnections: 400 });
  } catch (error) {
    await removeDataDir(dataDir);
    // One line that says what happened and what to do, not an unhandled error with a stack.
    const message = `the test PostgreSQL did not start: ${error instanceof Error ? error.message : String(error)}`;
    console.error(`error: ${message}`);
    const failure = new Error(message);
    failure.stack = message;
    throw failure;
  }
  try {
    const passwords = Object.fromEntries(
      dbRoles.map((r) => [r, randomBytes(18).toString('base64url')]),
    ) as Record<(typeof dbRoles)[number], string>;
    const templateDb = 'bank_template';
    await prepareDatabase(server, templateDb, passwords);
    const roles = Object.fromEntries(
      dbRoles.map((r) => [r, { username: r, password: passwords[r] }]),
    ) as TestCluster['roles'];
    project.provide('pg', {
      host: server.host,
      port: server.port,
      superuser: { username: server.superuser.user, password: server.superuser.password },
      roles,
      templateDb,
    });
  } catch (error) {
    await server.stop();
    await removeDataDir(dataDir);
    throw error;
  }
  return async () => {
    await server.stop();
    await removeDataDir(dataDir);
  };
}
