import path from 'node:path';
import { sealerEnvSchema, sealPending } from '../shared/audit/sealer';
import { pgSealCall } from '../shared/audit/sessions';
import { openLocalData } from './audit-local';
import { fsBucket } from './log-bucket';

/**
 * `npm run audit:seal`: seals now whatever the local bank has committed and not yet sealed, with
 * the same sealer the cloud runs (as bank_admin; over a plain connection instead of the Data API), into
 * `${BANK_DATA_DIR:-.data}/log-bucket`. Works whether or not `npm start` is running.
 */
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

let code = 0;
try {
  const settings = sealerEnvSchema.parse(process.env);
  const local = await openLocalData(process.env.BANK_DATA_DIR ?? '.data');
  try {
    const client = local.client('bank_admin');
    await client.connect();
    try {
      const report = await sealPending({
        bucket: fsBucket(path.join(local.dataDir, 'log-bucket')),
        call: pgSealCall(client),
        batchMax: settings.BANK_AUDIT_BATCH_MAX,
      });
      console.log(
        report.uploaded.length === 0
          ? 'nothing to seal'
          : `sealed batches ${report.uploaded.join(', ')} into ${path.join(local.dataDir, 'log-bucket')}`,
      );
    } finally {
      await client.end();
    }
  } finally {
    await local.close();
  }
} catch (error) {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  code = 1;
}
// Explicitly, with the verdict as the exit code: a cron job or CI step must see a failure.
process.exit(code);
