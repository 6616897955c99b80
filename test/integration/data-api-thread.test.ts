import {
  BadRequestException,
  BeginTransactionCommand,
  CommitTransactionCommand,
  ExecuteStatementCommand,
  RDSDataClient,
} from '@aws-sdk/client-rds-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateAccessKey } from '../../local/data-api/credentials';
import type { DataApiServer } from '../../local/data-api/server';
import { startDataApiServerThread } from '../../local/data-api/thread';
import { createTestDatabase, type TestDatabase } from '../helpers/db';

/*
 * The Data API server on its own worker thread (what `npm start` and the benchmarks run): the
 * real SDK client against it, the call counters read from this thread, a clean close, and a
 * start failure reported as an error instead of a hang.
 */

const RESOURCE_ARN = 'arn:aws:rds:us-east-1:000000000000:cluster:bank-local';
const MASTER_SECRET = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:thread-master';

const accessKey = generateAccessKey();

let db: TestDatabase;
let server: DataApiServer;
let client: RDSDataClient;

beforeAll(async () => {
  db = await createTestDatabase();
  server = await startDataApiServerThread({
    pg: db.pg,
    accessKeys: [accessKey],
    region: 'us-east-1',
    secrets: new Map([[MASTER_SECRET, db.superuser]]),
    resourceArn: RESOURCE_ARN,
    defaultDatabase: db.name,
  });
  client = new RDSDataClient({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: accessKey,
    maxAttempts: 1,
  });
});

afterAll(async () => {
  client?.destroy();
  await server?.close();
  await db?.drop();
});

describe('the Data API server on its own thread', () => {
  it('serves the SDK and counts every call where this thread can read it', async () => {
    // Prepare
    server.stats.reset();
    const target = { resourceArn: RESOURCE_ARN, secretArn: MASTER_SECRET };
    // Act
    const { transactionId } = await client.send(new BeginTransactionCommand(target));
    const inserted = await client.send(
      new ExecuteStatementCommand({
        ...target,
        sql: 'SELECT (:a::bigint + 1)::text AS n',
        parameters: [{ name: 'a', value: { stringValue: '9007199254740993' } }],
        transactionId,
      }),
    );
    const committed = await client.send(new CommitTransactionCommand({ ...target, transactionId }));
    // Assess
    expect(inserted.records).toEqual([[{ stringValue: '9007199254740994' }]]);
    expect(committed.transactionStatus).toBe('Transaction Committed');
    expect(server.stats.calls).toEqual({
      ExecuteStatement: 1,
      BatchExecuteStatement: 0,
      BeginTransaction: 1,
      CommitTransaction: 1,
      RollbackTransaction: 0,
    });
  });

  it('answers an unknown secret as the Data API does', async () => {
    const refused = client.send(
      new ExecuteStatementCommand({
        resourceArn: RESOURCE_ARN,
        secretArn: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:nobody',
        sql: 'SELECT 1',
      }),
    );
    await expect(refused).rejects.toBeInstanceOf(BadRequestException);
  });

  it('waits the latency it is given before each answer, and stops waiting at 0', async () => {
    // Prepare
    const target = { resourceArn: RESOURCE_ARN, secretArn: MASTER_SECRET, sql: 'SELECT 1' };
    const timed = async () => {
      const started = performance.now();
      await client.send(new ExecuteStatementCommand(target));
      return performance.now() - started;
    };
    await timed();
    // Act
    server.setLatencyMs(300);
    const slowed = await timed();
    server.setLatencyMs(0);
    const restored = await timed();
    // Assess: a lower bound only (timers never fire early), and the wait is gone again
    expect(slowed).toBeGreaterThanOrEqual(295);
    expect(restored).toBeLessThan(290);
    expect(() => server.setLatencyMs(-1)).toThrow(RangeError);
    expect(() => server.setLatencyMs(1_001)).toThrow(RangeError);
  });

  it('reports a start failure (port taken) as an error', async () => {
    await expect(
      startDataApiServerThread({
        pg: db.pg,
        accessKeys: [accessKey],
        region: 'us-east-1',
        secrets: new Map(),
        resourceArn: RESOURCE_ARN,
        defaultDatabase: db.name,
        port: server.port,
      }),
    ).rejects.toThrow(/EADDRINUSE/);
  });

  it('closes: the port stops answering and a second close is the same promise', async () => {
    // Prepare
    const own = await startDataApiServerThread({
      pg: db.pg,
      accessKeys: [accessKey],
      region: 'us-east-1',
      secrets: new Map([[MASTER_SECRET, db.superuser]]),
      resourceArn: RESOURCE_ARN,
      defaultDatabase: db.name,
    });
    // Act
    const first = own.close();
    // Assess
    expect(own.close()).toBe(first);
    await first;
    await expect(fetch(`${own.url}/Execute`, { method: 'POST', body: '{}' })).rejects.toThrow();
  });
});
