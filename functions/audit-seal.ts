import { S3Client } from '@aws-sdk/client-s3';
import * as z from 'zod';
import { s3Bucket } from '../shared/audit/s3-bucket';
import { sealPending } from '../shared/audit/sealer';
import { config } from '../shared/config';

/**
 * Scheduled (EventBridge): seals settled audit events into hash-chained batches and writes them
 * to the Object Lock log bucket. Off the request path: it never takes a lock a transfer needs.
 */
const env = z
  .object({
    BANK_LOG_BUCKET: z.string().min(3),
    BANK_AUDIT_BATCH_MAX: z.coerce.number().int().min(1).max(10_000).default(1000),
    BANK_AUDIT_SETTLE_S: z.coerce.number().int().min(0).max(3600).default(60),
  })
  .parse(process.env);
config();

const bucket = s3Bucket(new S3Client({ region: config().AWS_REGION }), env.BANK_LOG_BUCKET);

export const handler = async (): Promise<{ uploaded: number[] }> =>
  sealPending({ bucket, batchMax: env.BANK_AUDIT_BATCH_MAX, settleS: env.BANK_AUDIT_SETTLE_S });
