import { envInt } from '../config';
import { callJson, p } from '../db/data-api';
import { logger } from '../logger';
import * as z from '../zod';
import type { LogBucket } from './bucket';
import { AuditChainError, batchKey, batchNoOfKey, chainHash, type SealedBatch } from './chain';

/** The sealer's settings, validated alike by the scheduled function and by the local sealer. */
export const sealerEnvSchema = z.object({
  BANK_AUDIT_BATCH_MAX: envInt(1, 10_000, 1000),
  BANK_AUDIT_SETTLE_S: envInt(0, 3600, 60),
});

export interface SealOptions {
  readonly bucket: LogBucket;
  /** Events per batch: fixed-size batches keep each object small and each hash cheap. */
  readonly batchMax?: number;
  /** Seconds an event must be old before it is sealed (see bank_audit_seal_next). */
  readonly settleS?: number;
  /** Batches sealed per run: bounds a run's time after a long pause. */
  readonly batchesPerRunMax?: number;
}

export interface SealReport {
  readonly uploaded: number[];
}

function parseBatch(raw: unknown): SealedBatch | undefined {
  if (raw === null || typeof raw !== 'object') return undefined;
  return raw as SealedBatch;
}

/**
 * One sealer run, as bank_admin: first uploads any batch sealed in the database but missing from
 * the bucket (an earlier upload failed), refusing one whose events no longer match its seal;
 * then seals and uploads new batches until nothing settled is left (or the run's limit).
 */
export async function sealPending(options: SealOptions): Promise<SealReport> {
  const { bucket } = options;
  const uploaded: number[] = [];
  const inBucket = (await bucket.list('audit/batches/')).map(batchNoOfKey).filter((n) => n !== undefined);
  const bucketLatest = inBucket.length > 0 ? Math.max(...inBucket) : 0;
  const dbLatest = Number(
    await callJson('bank_admin', 'SELECT to_jsonb(bank_audit_seal_latest())::text', []),
  );
  for (let batchNo = bucketLatest + 1; batchNo <= dbLatest; batchNo += 1) {
    const batch = parseBatch(
      await callJson('bank_admin', "SELECT coalesce(bank_audit_seal_get(:batchNo::bigint), 'null')::text", [
        p.bigint('batchNo', BigInt(batchNo)),
      ]),
    );
    if (!batch) throw new AuditChainError(`batch ${batchNo} is missing from audit_seals`);
    await upload(bucket, batch);
    uploaded.push(batchNo);
  }
  const runsMax = options.batchesPerRunMax ?? 100;
  for (let run = 0; run < runsMax; run += 1) {
    const batch = parseBatch(
      await callJson(
        'bank_admin',
        "SELECT coalesce(bank_audit_seal_next(:batchMax::int, :settleS::int), 'null')::text",
        [p.int('batchMax', options.batchMax ?? 1000), p.int('settleS', options.settleS ?? 60)],
      ),
    );
    if (!batch) break;
    await upload(bucket, batch);
    uploaded.push(batch.batchNo);
  }
  if (uploaded.length > 0) logger.info('audit batches sealed', { batches: uploaded });
  return { uploaded };
}

async function upload(bucket: LogBucket, batch: SealedBatch): Promise<void> {
  // Never write a batch whose events do not hash to its seal: that is tampering to report.
  if (chainHash(batch.prevHash, batch.lines) !== batch.hash) {
    logger.error('audit batch does not match its seal', { errorName: 'AuditTamper', batchNo: batch.batchNo });
    throw new AuditChainError(`batch ${batch.batchNo}: events changed after sealing`);
  }
  await bucket.put(batchKey(batch.batchNo), `${JSON.stringify(batch)}\n`);
}
