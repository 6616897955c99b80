/**
 * What checking signatures costs the local Data API server: `npx tsx bench/data-api-auth.ts`.
 *
 * 1. Round trips: the real SDK client sends `SELECT 1` from 8 concurrent callers to a Data API
 *    server on its own thread (as `npm start` runs it) over an embedded PostgreSQL; calls per
 *    second and this process's CPU per call (client, server thread and pg driver; PostgreSQL's
 *    own processes are not counted), median of several rounds.
 * 2. The check alone: claim + verify of one signed ExecuteStatement request, in a loop on this
 *    thread (µs of CPU per request).
 *
 * Figures move with the machine; compare runs made side by side only.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ExecuteStatementCommand, RDSDataClient } from '@aws-sdk/client-rds-data';
import { removeDataDir } from '../local/clusters';
import { startDataApiServerThread } from '../local/data-api/thread';
import { startPostgres } from '../local/postgres';
import { median, processCpuMs } from './stats';

const region = 'us-east-1';
const resourceArn = `arn:aws:rds:${region}:000000000000:cluster:bench-auth`;
const secretArn = `arn:aws:secretsmanager:${region}:000000000000:secret:bench-auth-owner`;
const clients = 8;
const roundMs = Number(process.env.ROUND_MS ?? 4_000);
const rounds = Number(process.env.ROUNDS ?? 5);
const key = {
  accessKeyId: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
  secretAccessKey: randomBytes(30).toString('base64'),
};

async function roundTrips(): Promise<{ perSecond: number; cpuUsPerCall: number }[]> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bank-bench-auth-'));
  const postgres = await startPostgres({ dataDir, ephemeral: true });
  const server = await startDataApiServerThread({
    pg: { host: postgres.host, port: postgres.port },
    accessKeys: [key],
    region,
    secrets: new Map([
      [secretArn, { username: postgres.superuser.user, password: postgres.superuser.password }],
    ]),
    resourceArn,
    defaultDatabase: 'postgres',
  });
  // The bank's own client options (shared/db/data-api.ts).
  const client = new RDSDataClient({
    region,
    endpoint: server.url,
    credentials: key,
    maxAttempts: 1,
    cacheMiddleware: true,
  });
  const command = new ExecuteStatementCommand({ resourceArn, secretArn, sql: 'SELECT 1' });
  const runFor = async (ms: number): Promise<number> => {
    const until = performance.now() + ms;
    let calls = 0;
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (performance.now() < until) {
          await client.send(command);
          calls += 1;
        }
      }),
    );
    return calls;
  };
  try {
    await runFor(1_500);
    const results: { perSecond: number; cpuUsPerCall: number }[] = [];
    for (let i = 0; i < rounds; i += 1) {
      const cpu0 = processCpuMs();
      const t0 = performance.now();
      const calls = await runFor(roundMs);
      const elapsed = performance.now() - t0;
      const cpu = processCpuMs() - cpu0;
      results.push({ perSecond: (calls * 1000) / elapsed, cpuUsPerCall: (cpu * 1000) / calls });
    }
    return results;
  } finally {
    client.destroy();
    await server.close();
    await postgres.stop();
    await removeDataDir(dataDir);
  }
}

/** The check alone; undefined where the server has no signature check (an older tree). */
async function checkAlone(): Promise<number | undefined> {
  const sigv4 = await import('../local/data-api/sigv4').catch(() => undefined);
  if (sigv4 === undefined) return undefined;
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const body = JSON.stringify({
    resourceArn,
    secretArn,
    database: 'bank',
    sql: 'SELECT bank_move(:ctx, :kind, :accountNo, :amount::bigint, :memo, :pinVerified, :idemKey, :idemHash)::text',
    parameters: [
      {
        name: 'ctx',
        value: { stringValue: JSON.stringify({ actorId: randomBytes(16).toString('hex') }) },
        typeHint: 'JSON',
      },
      { name: 'kind', value: { stringValue: 'DEPOSIT' } },
      { name: 'accountNo', value: { stringValue: '400000000018' } },
      { name: 'amount', value: { stringValue: '12345' } },
    ],
  });
  const signer = new SignatureV4({ service: 'rds-data', region, credentials: key, sha256: sigv4.Sha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 9,
    path: '/Execute',
    query: {},
    headers: {
      host: '127.0.0.1:9',
      'content-type': 'application/json',
      'content-length': String(Buffer.byteLength(body)),
      'x-amz-user-agent': 'aws-sdk-js/3',
      'amz-sdk-invocation-id': randomBytes(16).toString('hex'),
      'amz-sdk-request': 'attempt=1; max=1',
    },
    body,
  });
  const headers: IncomingHttpHeaders = { ...signed.headers };
  const request = { method: 'POST', path: '/Execute', query: '', headers };
  const raw = Buffer.from(body);
  const verifier = sigv4.createSigV4Verifier({ keys: [key], region });
  const iterations = 20_000;
  const loop = async (n: number) => {
    for (let i = 0; i < n; i += 1) await verifier.verify(verifier.claim(request), request, raw);
  };
  await loop(2_000);
  // CPU time, not wall time: on a shared machine the wall clock also counts other tenants.
  const samples: number[] = [];
  for (let r = 0; r < 5; r += 1) {
    const cpu0 = processCpuMs();
    await loop(iterations);
    samples.push(((processCpuMs() - cpu0) * 1000) / iterations);
  }
  return median(samples);
}

const trips = await roundTrips();
const alone = await checkAlone();
const fmt = (n: number) => n.toFixed(1);
console.log(
  `round trips (SDK -> Data API server thread -> PostgreSQL, ${clients} callers, ${rounds} × ${roundMs} ms):`,
);
for (const t of trips) console.log(`  ${fmt(t.perSecond)} calls/s, ${fmt(t.cpuUsPerCall)} µs CPU per call`);
console.log(
  `  median: ${fmt(median(trips.map((t) => t.perSecond)))} calls/s, ${fmt(median(trips.map((t) => t.cpuUsPerCall)))} µs CPU per call`,
);
console.log(
  alone === undefined
    ? 'signature check alone: (no signature check in this tree)'
    : `signature check alone (claim + verify, one ExecuteStatement): ${fmt(alone)} µs CPU per request`,
);
