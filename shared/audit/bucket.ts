/**
 * Where sealed batches go: the log bucket (S3 with Object Lock in compliance mode) in the cloud,
 * a write-once directory locally. Keys are never overwritten with different content.
 */
export interface LogBucket {
  /** Keys under a prefix, in lexical order. */
  list(prefix: string): Promise<string[]>;
  get(key: string): Promise<string | undefined>;
  put(key: string, body: string): Promise<void>;
}

export class LogBucketError extends Error {
  override name = 'LogBucketError';
}
