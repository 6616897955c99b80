import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ExecuteStatementCommand, RDSDataClient } from '@aws-sdk/client-rds-data';
import { afterEach, describe, expect, it } from 'vitest';
import { auditorOutputKey, readStackOutputs, type StackOutputs, verifyStack } from '../../local/audit-stack';
import { generateAccessKey } from '../../local/data-api/credentials';
import { type DataApiServer, startDataApiServer } from '../../local/data-api/server';
import { LogBucketConflict } from '../../shared/audit/bucket';
import { batchKey } from '../../shared/audit/chain';
import { type S3Api, s3Bucket } from '../../shared/audit/s3-bucket';
import { sealPending } from '../../shared/audit/sealer';
import { pgSealCall } from '../../shared/audit/sessions';
import { type SealWorld, sealWorld } from '../helpers/seal';

/**
 * `npm run audit:verify -- --stack` without AWS: the same verifier code over the real SDK client
 * and the local Data API server (as the read-only bank_auditor role), and the S3 log bucket
 * through an in-memory versioned S3 that pages its version listing as S3 does.
 */
const clusterArn = 'arn:aws:rds:eu-west-1:000000000000:cluster:bank';
const auditorArn = 'arn:aws:secretsmanager:eu-west-1:000000000000:secret:bank-auditor';
const auditorPassword = 'auditor-test-password-0123456789';

interface MemoryS3 extends S3Api {
  readonly calls: { list: number };
}

/** Versioned S3 in memory: PUT adds a version, DELETE a marker; listings are paged two at a time. */
function memoryS3(): MemoryS3 {
  const objects = new Map<string, Array<{ id: string; body: string | undefined; at: Date }>>();
  let clock = Date.UTC(2026, 0, 1);
  let ids = 0;
  const calls = { list: 0 };
  return {
    calls,
    async listObjectVersions(input) {
      calls.list += 1;
      // S3 order: keys ascending, each key's versions newest first.
      const all = [...objects.entries()]
        .filter(([key]) => key.startsWith(input.Prefix))
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .flatMap(([key, versions]) => [...versions].reverse().map((v) => ({ key, ...v })));
      const start = input.KeyMarker
        ? all.findIndex((v) => v.key === input.KeyMarker && v.id === input.VersionIdMarker) + 1
        : 0;
      const page = all.slice(start, start + 2);
      const last = page.at(-1);
      const truncated = start + 2 < all.length;
      return {
        Versions: page
          .filter((v) => v.body !== undefined)
          .map((v) => ({ Key: v.key, VersionId: v.id, LastModified: v.at })),
        DeleteMarkers: page
          .filter((v) => v.body === undefined)
          .map((v) => ({ Key: v.key, VersionId: v.id, LastModified: v.at })),
        IsTruncated: truncated,
        ...(truncated && last ? { NextKeyMarker: last.key, NextVersionIdMarker: last.id } : {}),
      };
    },
    async getObject(input) {
      const versions = objects.get(input.Key) ?? [];
      const chosen = input.VersionId ? versions.find((v) => v.id === input.VersionId) : versions.at(-1);
      return chosen?.body;
    },
    async putObject(input) {
      const versions = objects.get(input.Key) ?? [];
      if (input.IfNoneMatch === '*' && versions.at(-1)?.body !== undefined)
        throw new LogBucketConflict(input.Key);
      clock += 1000;
      ids += 1;
      objects.set(input.Key, [...versions, { id: `v${ids}`, body: input.Body, at: new Date(clock) }]);
    },
    delete(key: string) {
      clock += 1000;
      ids += 1;
      objects.set(key, [
        ...(objects.get(key) ?? []),
        { id: `v${ids}`, body: undefined, at: new Date(clock) },
      ]);
    },
  } as MemoryS3 & { delete(key: string): void };
}

let w: SealWorld | undefined;
const accessKey = generateAccessKey();
let dataApi: DataApiServer | undefined;
afterEach(async () => {
  await dataApi?.close();
  await w?.close();
  dataApi = undefined;
  w = undefined;
});

async function stack(): Promise<{
  outputs: StackOutputs;
  rds: RDSDataClient;
  s3: MemoryS3 & { delete(key: string): void };
}> {
  w = await sealWorld();
  await w.rows('SELECT bank_set_auditor_password($1)', [auditorPassword]);
  dataApi = await startDataApiServer({
    pg: w.db.pg,
    resourceArn: clusterArn,
    defaultDatabase: w.db.name,
    resolveSecret: (arn) =>
      arn === auditorArn ? { username: 'bank_auditor', password: auditorPassword } : undefined,
    accessKeys: [accessKey],
    region: 'eu-west-1',
  });
  const rds = new RDSDataClient({
    region: 'eu-west-1',
    endpoint: dataApi.url,
    credentials: { accessKeyId: accessKey.accessKeyId, secretAccessKey: accessKey.secretAccessKey },
  });
  const s3 = memoryS3() as MemoryS3 & { delete(key: string): void };
  const admin = w.db.client('bank_admin');
  await admin.connect();
  try {
    await sealPending({ bucket: s3Bucket(s3, 'log'), call: pgSealCall(admin), batchMax: 3 });
  } finally {
    await admin.end();
  }
  const outputs: StackOutputs = {
    DbClusterArn: clusterArn,
    DbName: w.db.name,
    LogBucketName: 'log',
    [auditorOutputKey]: auditorArn,
  };
  return { outputs, rds, s3 };
}

describe('audit:verify --stack', () => {
  it('verifies the deployed shape clean: Data API as the auditor, every bucket version, paged', async () => {
    const { outputs, rds, s3 } = await stack();
    const report = await verifyStack(outputs, rds, s3);
    expect(report).toMatchObject({ batches: 3, events: 4, entries: 3, balances: 2, problems: [] });
    expect(s3.calls.list).toBe(2);
  });

  it('reports an edit in the database and an overwritten and a deleted object', async () => {
    const { outputs, rds, s3 } = await stack();
    const seq = (await w?.rows<{ seq: string }>('SELECT min(seq)::text AS seq FROM audit_logs'))?.[0]?.seq;
    await w?.tamper("UPDATE audit_logs SET outcome = 'failed' WHERE seq = $1", [seq]);
    await s3.putObject({ Bucket: 'log', Key: batchKey(2), Body: '{"forged":true}' });
    s3.delete(batchKey(3));
    const report = await verifyStack(outputs, rds, s3);
    expect(report.problems).toEqual([
      'batch 2: overwritten or deleted in the bucket after sealing (versions: 2, delete markers: 0); the first version is checked',
      'batch 3: overwritten or deleted in the bucket after sealing (versions: 1, delete markers: 1); the first version is checked',
      `audit event seq ${seq} (batch 1) was changed`,
    ]);
  });

  it('reads through a role that cannot write', async () => {
    const { outputs, rds } = await stack();
    const write = rds.send(
      new ExecuteStatementCommand({
        resourceArn: outputs.DbClusterArn,
        secretArn: outputs[auditorOutputKey],
        database: outputs.DbName,
        sql: "INSERT INTO audit_logs (actor, action, outcome) VALUES ('auditor', 'x', 'success')",
      }),
    );
    await expect(write).rejects.toThrow(/permission denied for table audit_logs/);
  });

  it('reads the stack outputs file, and names what is missing', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bank-outputs-'));
    try {
      const good = path.join(dir, 'good.json');
      const outputs = {
        DbClusterArn: clusterArn,
        DbName: 'bank',
        LogBucketName: 'log-bucket',
        [auditorOutputKey]: auditorArn,
      };
      await writeFile(good, JSON.stringify({ SecureBank: { ...outputs, ApiUrl: 'https://x' } }));
      const bad = path.join(dir, 'bad.json');
      await writeFile(bad, JSON.stringify({ SecureBank: { DbClusterArn: clusterArn, DbName: 'bank' } }));
      expect(readStackOutputs(good)).toEqual(outputs);
      expect(() => readStackOutputs(bad)).toThrow(
        `stack SecureBank in ${bad} lacks valid outputs: LogBucketName, ${auditorOutputKey}`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
