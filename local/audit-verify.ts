import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { AuditRowText } from '../shared/audit/chain';
import { auditRowsSql, verifyAuditTrail } from '../shared/audit/verify';
import { fsBucket } from './log-bucket';
import { livePostmaster, recordedPgdata, startPostgres } from './postgres';

/**
 * `npm run audit:verify`: checks the local audit trail (${BANK_DATA_DIR:-.data}) against the
 * sealed batches in its log bucket. Works whether or not `npm start` is running.
 */
const dataDir = path.resolve(process.env.BANK_DATA_DIR ?? '.data');
if (!existsSync(path.join(dataDir, 'cluster.json'))) {
  console.error(`error: no bank data in ${dataDir}; run npm start first or set BANK_DATA_DIR`);
  process.exit(2);
}
const { superuserPassword } = JSON.parse(readFileSync(path.join(dataDir, 'cluster.json'), 'utf8')) as {
  superuserPassword: string;
};

let port = livePostmaster(recordedPgdata(dataDir) ?? path.join(dataDir, 'pgdata'))?.port;
const owned = port === undefined ? await startPostgres({ dataDir }) : undefined;
port ??= owned?.port;
const client = new pg.Client({
  host: '127.0.0.1',
  port,
  user: 'postgres',
  password: superuserPassword,
  database: 'bank',
});
try {
  await client.connect();
  const report = await verifyAuditTrail(fsBucket(path.join(dataDir, 'log-bucket')), async (first, last) => {
    return (await client.query<AuditRowText>(auditRowsSql, [first, last])).rows;
  });
  console.log(
    `${report.batches} sealed batches, ${report.events} events, sealed through seq ${report.lastSealedSeq}: ` +
      (report.problems.length === 0
        ? 'the audit trail matches its seals'
        : `${report.problems.length} problem(s)`),
  );
  for (const problem of report.problems) console.log(`  - ${problem}`);
  process.exitCode = report.problems.length === 0 ? 0 : 1;
} finally {
  await client.end();
  await owned?.stop();
}
