import path from 'node:path';
import { readDbState } from '../shared/audit/db-reader';
import { pgSession } from '../shared/audit/sessions';
import { formatReport, type VerifyReport, verifySeals } from '../shared/audit/verify';
import { openLocalData } from './audit-local';
import { fsBucket } from './log-bucket';

/**
 * `npm run audit:verify`: checks the local bank (${BANK_DATA_DIR:-.data}) against the sealed
 * batches in its log bucket; `npm run audit:verify -- --stack` checks the deployed stack named in
 * cdk.outputs.json instead. Prints the report and every problem; exits 0 only when there is none
 * (1: problems found, 2: the check could not run).
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

async function verifyLocal(): Promise<VerifyReport> {
  const local = await openLocalData(process.env.BANK_DATA_DIR ?? '.data');
  try {
    const client = local.client('postgres');
    await client.connect();
    try {
      const db = await readDbState(pgSession(client));
      return await verifySeals(fsBucket(path.join(local.dataDir, 'log-bucket')), db);
    } finally {
      await client.end();
    }
  } finally {
    await local.close();
  }
}

let code: number;
try {
  const report = process.argv.includes('--stack')
    ? await (await import('./audit-stack')).verifyDeployedStack()
    : await verifyLocal();
  process.stdout.write(formatReport(report));
  code = report.problems.length === 0 ? 0 : 1;
} catch (error) {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  code = 2;
}
// Explicitly, with the verdict as the exit code: a cron job or CI step must see a failure.
process.exit(code);
