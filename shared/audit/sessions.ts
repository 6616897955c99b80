import type { RDSDataClient } from '@aws-sdk/client-rds-data';
import type pg from 'pg';
import { type JsonQuery, positional, type SnapshotSession, snapshotBegin } from './db-reader';

/**
 * The verifier's two ways into the database, both read-only and in one snapshot: `pg` on the
 * laptop, the Data API (as the read-only auditor role) against the deployed stack.
 */
function parseCell(text: string | null | undefined): unknown {
  if (typeof text !== 'string') throw new Error('the database returned no JSON result');
  return JSON.parse(text) as unknown;
}

export function pgSession(client: pg.Client): SnapshotSession {
  return async (work) => {
    await client.query('BEGIN');
    try {
      await client.query(snapshotBegin);
      const query: JsonQuery = async (sql, params) => {
        const { text, values } = positional(sql, params);
        const result = await client.query<Record<string, unknown>>(text, values);
        const row = result.rows[0];
        const cell = row === undefined ? undefined : Object.values(row)[0];
        return parseCell(typeof cell === 'string' ? cell : undefined);
      };
      return await work(query);
    } finally {
      await client.query('ROLLBACK');
    }
  };
}

export interface DataApiTarget {
  readonly client: RDSDataClient;
  readonly resourceArn: string;
  readonly secretArn: string;
  readonly database: string;
}

export function dataApiSession(target: DataApiTarget): SnapshotSession {
  return async (work) => {
    const rds = await import('@aws-sdk/client-rds-data');
    const { client, resourceArn, secretArn, database } = target;
    const begun = await client.send(new rds.BeginTransactionCommand({ resourceArn, secretArn, database }));
    const transactionId = begun.transactionId;
    if (!transactionId) throw new Error('the Data API began no transaction');
    const execute = async (sql: string, params: Readonly<Record<string, string>>) =>
      client.send(
        new rds.ExecuteStatementCommand({
          resourceArn,
          secretArn,
          database,
          transactionId,
          sql,
          parameters: Object.entries(params).map(([name, value]) => ({
            name,
            value: { stringValue: value },
          })),
        }),
      );
    try {
      await execute(snapshotBegin, {});
      return await work(async (sql, params) => {
        const result = await execute(sql, params);
        return parseCell(result.records?.[0]?.[0]?.stringValue);
      });
    } finally {
      await client.send(new rds.RollbackTransactionCommand({ resourceArn, secretArn, transactionId }));
    }
  };
}

/** The sealer's database call over a plain connection (logged in as bank_admin). */
export function pgSealCall(
  client: pg.Client,
): (sql: string, params: Readonly<Record<string, string>>) => Promise<unknown> {
  return async (sql, params) => {
    const { text, values } = positional(sql, params);
    const row = (await client.query<Record<string, unknown>>(text, values)).rows[0];
    const cell = row === undefined ? undefined : Object.values(row)[0];
    return parseCell(typeof cell === 'string' ? cell : undefined);
  };
}
