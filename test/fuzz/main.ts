import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

/**
 * `npm run fuzz [-- --seed N --requests N]`: the whole API fuzzed from its OpenAPI document
 * against a fresh local bank (embedded PostgreSQL, Data API server, gateway, real handlers).
 * Prints the seed first; exits 1 on any finding.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
// The handlers run in this process: their metric lines would bury the report.
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
const { startLocalBank } = await import('../../local/bank');
const { removeDataDir } = await import('../../local/clusters');
const { runFuzz } = await import('./fuzz');

const { values } = parseArgs({
  options: {
    seed: { type: 'string' },
    requests: { type: 'string', default: '10000' },
    concurrency: { type: 'string', default: '4' },
  },
});
const int = (name: string, raw: string | undefined, min: number, max: number): number => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    console.error(`error: --${name} must be an integer ${min}..${max}`);
    process.exit(2);
  }
  return n;
};
const seed =
  values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : int('seed', values.seed, 0, 2 ** 31 - 1);
const requests = int('requests', values.requests, 1, 1_000_000);
const concurrency = int('concurrency', values.concurrency, 1, 32);
console.log(`fuzz: seed ${seed} (replay: npm run fuzz -- --seed ${seed} --requests ${requests})`);

const adminPassword = 'fuzz-admin-password-1';
const dataDir = await mkdtemp(path.join(tmpdir(), 'bank-fuzz-'));
const bank = await startLocalBank({
  dataDir,
  port: 0,
  adminPassword,
  ephemeral: true,
  auditSealIntervalS: 0,
  // bcrypt's cost changes how long a comparison takes, not its verdict.
  env: { BANK_BCRYPT_COST: '4', POWERTOOLS_LOG_LEVEL: 'SILENT' },
});
let exitCode = 1;
try {
  const jwtSecret = process.env.BANK_JWT_SECRET;
  if (!jwtSecret) throw new Error('the local bank set no JWT secret');
  const started = Date.now();
  const report = await runFuzz(
    {
      url: bank.url,
      jwtSecret,
      adminUsername: 'admin',
      adminPassword,
      db: () => bank.postgres.client(bank.database),
    },
    { seed, requests, concurrency, log: (line) => console.log(line) },
  );
  const table = (title: string, rows: Record<string, number>): void => {
    console.log(title);
    for (const [k, v] of Object.entries(rows).sort(([a], [b]) => a.localeCompare(b)))
      console.log(`  ${k.padEnd(28)} ${v}`);
  };
  table('responses by status', report.byStatus);
  console.log('requests by operation, by status');
  for (const [name, n] of Object.entries(report.byOperation).sort(([a], [b]) => a.localeCompare(b))) {
    const statuses = Object.entries(report.byOperationStatus[name] ?? {})
      .map(([status, k]) => `${status}×${k}`)
      .join(' ');
    console.log(`  ${name.padEnd(28)} ${String(n).padEnd(6)} ${statuses}`);
  }
  table('requests by token', report.tokenKinds);
  table('checks', report.counts);
  table('upkeep of the principals', report.keeper);
  console.log(
    `principals' requests answered 401: ${report.principalUnauthenticated} of ${report.principalRequests}`,
  );
  for (const p of report.keeperProblems.slice(0, 20)) console.log(`  upkeep: ${p}`);
  console.log(`findings: ${report.findings.length}`);
  for (const f of report.findings.slice(0, 50)) console.log(`  - ${f}`);
  console.log(`seed ${seed}, ${report.requests} requests, ${Math.round((Date.now() - started) / 1000)} s`);
  exitCode = report.findings.length === 0 ? 0 : 1;
} finally {
  await bank.stop();
  await removeDataDir(dataDir);
}
process.exit(exitCode);
