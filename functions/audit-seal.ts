import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { S3Client, s3Api, s3Bucket } from '../shared/audit/s3-bucket';
import { type SealReport, sealerEnvSchema, sealPending } from '../shared/audit/sealer';
import { cloudWatchProbe, hadTraffic } from '../shared/audit/traffic-gate';
import { config, envInt } from '../shared/config';
import * as z from '../shared/zod';

/**
 * Scheduled (EventBridge, every minute by default): seals every committed, not yet sealed audit
 * event, ledger entry and account balance into the hash chain and writes each batch to the
 * Object Lock log bucket. Off the request path: it never takes a lock a transfer needs.
 *
 * It first asks CloudWatch whether the API served any request within the lookback; if none, it
 * returns without a database call, so an idle Aurora stays paused. Nothing is waiting to be
 * sealed then: every row to seal was written by a request, and a run that saw those requests
 * sealed it.
 */
const env = z
  .extend(sealerEnvSchema, {
    BANK_LOG_BUCKET: z.string().check(z.minLength(3)),
    BANK_API_ID: z.optional(z.string().check(z.regex(/^[a-z0-9]{1,32}$/))),
    BANK_AUDIT_TRAFFIC_LOOKBACK_MIN: envInt(1, 1500, 6),
  })
  .parse(process.env);
config();

const bucket = s3Bucket(s3Api(new S3Client({ region: config().AWS_REGION })), env.BANK_LOG_BUCKET);
const probe = env.BANK_API_ID
  ? cloudWatchProbe(new CloudWatchClient({ region: config().AWS_REGION }), env.BANK_API_ID)
  : undefined;

export const handler = async (): Promise<SealReport & { readonly skipped?: string }> => {
  if (probe && !(await hadTraffic(probe, new Date(), env.BANK_AUDIT_TRAFFIC_LOOKBACK_MIN))) {
    return { uploaded: [], skipped: 'no API requests within the lookback; the database was not touched' };
  }
  return sealPending({ bucket, batchMax: env.BANK_AUDIT_BATCH_MAX });
};
