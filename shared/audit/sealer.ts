import { envInt } from '../config';
import { callJson, p } from '../db/data-api';
import { logger } from '../logger';
import * as z from '../zod';
import { type LogBucket, LogBucketConflict } from './bucket';
import { AuditChainError, batchKey, chainHash } from './chain';

/** The sealer's settings, validated alike by the scheduled function and by the local sealer. */
export const sealerEnvSchema = z.object({
  BANK_AUDIT_BATCH_MAX: envInt(1, 10_000, 1000),
});

/**
 * Runs one statement as bank_admin that returns one JSON text cell, and parses it. `:name`
 * parameters are text, cast in the SQL. The Data API in the cloud (dataApiSealCall); a plain
 * connection as bank_admin locally and in tests.
 */
export type SealCall = (sql: string, params: Readonly<Record<string, string>>) => Promise<unknown>;

export const dataApiSealCall: SealCall = (sql, params) =>
  callJson(
    'bank_admin',
    sql,
    Object.entries(params).map(([name, value]) => p.text(name, value)),
  );

export interface SealOptions {
  readonly bucket: LogBucket;
  /** How to reach the database as bank_admin; the Data API by default. */
  readonly call?: SealCall;
  /** Lines per batch: keeps each object small and each hash cheap. */
  readonly batchMax?: number;
  /** Bytes of lines per batch: one batch travels in one Data API response (1 MiB at most). */
  readonly bytesMax?: number;
  /** Batches sealed per run: bounds a run's time after a long pause. */
  readonly batchesPerRunMax?: number;
}

export interface SealReport {
  readonly uploaded: number[];
}

/** A sealed batch as the database hands it over, and as the bucket stores it. */
export const sealedBatchSchema = z.object({
  format: z.literal('bank-seal/2'),
  batchNo: z.number().check(z.int(), z.gte(1)),
  prevHash: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  hash: z.string().check(z.regex(/^[0-9a-f]{64}$/)),
  lines: z.array(z.string()).check(z.minLength(1)),
});
export type SealedBatch = z.infer<typeof sealedBatchSchema>;

const sealedSchema = z.object({ batchNo: z.number(), hash: z.string(), body: sealedBatchSchema });

/**
 * One sealer run, as bank_admin: first uploads the batches sealed in the database but not yet
 * confirmed in the bucket (an earlier upload failed), then seals and uploads new batches until
 * nothing committed is left unsealed (or the run's limit).
 */
export async function sealPending(options: SealOptions): Promise<SealReport> {
  const { bucket } = options;
  const call = options.call ?? dataApiSealCall;
  const uploaded: number[] = [];
  const runsMax = options.batchesPerRunMax ?? 100;
  // One waiting batch per call: each call's answer must fit the Data API's 1 MiB.
  for (let run = 0; run < runsMax; run += 1) {
    const [batch] = z.array(sealedSchema).parse(await call('SELECT bank_seal_pending(1)::text', {}));
    if (!batch) break;
    await upload(bucket, call, batch);
    uploaded.push(batch.batchNo);
  }
  for (let run = 0; run < runsMax; run += 1) {
    const sealed = z.nullable(sealedSchema).parse(
      await call("SELECT coalesce(bank_seal_next(:linesMax::int, :bytesMax::int), 'null')::text", {
        linesMax: String(options.batchMax ?? 1000),
        bytesMax: String(options.bytesMax ?? 400_000),
      }),
    );
    if (!sealed) break;
    await upload(bucket, call, sealed);
    uploaded.push(sealed.batchNo);
  }
  if (uploaded.length > 0) logger.info('audit batches sealed', { batches: uploaded });
  return { uploaded };
}

async function upload(
  bucket: LogBucket,
  call: SealCall,
  sealed: z.infer<typeof sealedSchema>,
): Promise<void> {
  const { body } = sealed;
  // Never publish a batch that does not hash to its seal: its waiting copy was edited.
  if (
    body.batchNo !== sealed.batchNo ||
    sealed.hash !== body.hash ||
    chainHash(body.prevHash, body.lines) !== body.hash
  ) {
    logger.error('audit batch does not match its seal', {
      errorName: 'AuditTamper',
      batchNo: sealed.batchNo,
    });
    throw new AuditChainError(`batch ${sealed.batchNo}: its lines changed after sealing`);
  }
  const key = batchKey(sealed.batchNo);
  const text = `${JSON.stringify(body)}\n`;
  try {
    await bucket.putNew(key, text);
  } catch (error) {
    if (!(error instanceof LogBucketConflict)) throw error;
    // A retried upload whose first attempt landed is fine; anything else is not ours to replace.
    const current = await bucket.get(key);
    const same = current !== undefined && parseBatch(current)?.hash === body.hash;
    if (!same) {
      logger.error('the bucket holds another batch under this key', {
        errorName: 'AuditTamper',
        batchNo: sealed.batchNo,
      });
      throw new AuditChainError(`batch ${sealed.batchNo}: the bucket already holds a different object`);
    }
  }
  await call("SELECT 'true' FROM bank_seal_uploaded(:batchNo::bigint)", { batchNo: String(sealed.batchNo) });
}

/** A batch object's text, parsed and checked for shape; undefined when it is not one. */
export function parseBatch(text: string): SealedBatch | undefined {
  try {
    return sealedBatchSchema.safeParse(JSON.parse(text)).data;
  } catch {
    return undefined;
  }
}
