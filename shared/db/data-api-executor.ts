import {
  BeginTransactionCommand,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  type Field,
  type RDSDataClient,
  RollbackTransactionCommand,
  type SqlParameter,
} from '@aws-sdk/client-rds-data';
import type { SqlExecutor, SqlParams } from './migrate';

/**
 * The migration runner's connection over the Data API: one Data API transaction, statements sent
 * one by one (the Data API runs one statement per call). Used by the deploy-time migrate function.
 */
export interface DataApiTarget {
  readonly client: RDSDataClient;
  readonly resourceArn: string;
  readonly secretArn: string;
  readonly database: string;
}

function toParameter(name: string, value: string | number | null): SqlParameter {
  if (value === null) return { name, value: { isNull: true } };
  if (typeof value === 'number') return { name, value: { longValue: value } };
  return { name, value: { stringValue: value } };
}

function fromField(field: Field): unknown {
  if (field.isNull) return null;
  if (field.stringValue !== undefined) return field.stringValue;
  if (field.longValue !== undefined) return field.longValue;
  if (field.booleanValue !== undefined) return field.booleanValue;
  if (field.doubleValue !== undefined) return field.doubleValue;
  return null;
}

export function dataApiExecutor(target: DataApiTarget): SqlExecutor {
  const { client, resourceArn, secretArn, database } = target;
  return {
    async transaction(work) {
      const { transactionId } = await client.send(
        new BeginTransactionCommand({ resourceArn, secretArn, database }),
      );
      if (!transactionId) throw new Error('BeginTransaction returned no transaction id');
      try {
        const result = await work({
          async query(sql: string, params?: SqlParams) {
            const out = await client.send(
              new ExecuteStatementCommand({
                resourceArn,
                secretArn,
                database,
                transactionId,
                sql,
                includeResultMetadata: true,
                parameters: Object.entries(params ?? {}).map(([name, value]) => toParameter(name, value)),
              }),
            );
            const columns = (out.columnMetadata ?? []).map((c) => c.label ?? c.name ?? '');
            return (out.records ?? []).map((record) =>
              Object.fromEntries(record.map((field, i) => [columns[i] ?? String(i), fromField(field)])),
            );
          },
        });
        await client.send(new CommitTransactionCommand({ resourceArn, secretArn, transactionId }));
        return result;
      } catch (error) {
        await client
          .send(new RollbackTransactionCommand({ resourceArn, secretArn, transactionId }))
          .catch(() => undefined);
        throw error;
      }
    },
  };
}
