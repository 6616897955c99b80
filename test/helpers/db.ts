import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import type { TestCluster } from '../global-setup';

export interface TestDatabase {
  readonly name: string;
  readonly pg: { readonly host: string; readonly port: number };
  readonly superuser: TestCluster['superuser'];
  readonly roles: TestCluster['roles'];
  /** A pg client on this database as the superuser or one of the application roles. */
  client(as?: keyof TestCluster['roles'] | 'superuser'): pg.Client;
  drop(): Promise<void>;
}

/** A fresh database for one test file, cloned from the migrated template. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const cluster = inject('pg');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({
    host: cluster.host,
    port: cluster.port,
    user: cluster.superuser.username,
    password: cluster.superuser.password,
    database: 'postgres',
  });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${cluster.templateDb}`);
  } finally {
    await admin.end();
  }
  return {
    name,
    pg: { host: cluster.host, port: cluster.port },
    superuser: cluster.superuser,
    roles: cluster.roles,
    client(as = 'superuser') {
      const creds = as === 'superuser' ? cluster.superuser : cluster.roles[as];
      return new pg.Client({
        host: cluster.host,
        port: cluster.port,
        user: creds.username,
        password: creds.password,
        database: name,
      });
    },
    async drop() {
      const c = new pg.Client({
        host: cluster.host,
        port: cluster.port,
        user: cluster.superuser.username,
        password: cluster.superuser.password,
        database: 'postgres',
      });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
