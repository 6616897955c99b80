import { S3Client } from '@aws-sdk/client-s3';
import { s3Bucket } from '../shared/audit/s3-bucket';
import { sealerEnvSchema, sealPending } from '../shared/audit/sealer';
import { config } from '../shared/config';
import * as z from '../shared/zod';

/**
 * Scheduled (EventBridge): seals settled audit events into hash-chained batches and writes them
 * to the Object Lock log bucket. Off the request path: it never takes a lock a transfer needs.
 */
const env = z
  .extend(sealerEnvSchema, { BANK_LOG_BUCKET: z.string().check(z.minLength(3)) })
  .parse(process.env);
config();

const bucket = s3Bucket(new S3Client({ region: config().AWS_REGION }), env.BANK_LOG_BUCKET);

export const handler = async (): Promise<{ uploaded: number[] }> =>
  sealPending({ bucket, batchMax: env.BANK_AUDIT_BATCH_MAX, settleS: env.BANK_AUDIT_SETTLE_S });
