/**
 * Where sealed batches go: the log bucket (S3, versioned, Object Lock in compliance mode) in the
 * cloud, a write-once directory that keeps versions locally. A PUT on an existing key does not
 * replace what was sealed: it adds a version on top (S3's behaviour, which Object Lock keeps),
 * and the verifier reads every version, so an overwrite or a delete is visible.
 */
export interface ObjectVersion {
  readonly key: string;
  readonly versionId: string;
  /** A delete without a version id adds a marker over the versions; it removes none of them. */
  readonly deleteMarker: boolean;
}

export interface LogBucket {
  /** Every version of every key under a prefix: keys in lexical order, each key's versions oldest first. */
  listVersions(prefix: string): Promise<ObjectVersion[]>;
  /** One version's text (the current one without a version id); undefined when there is none. */
  get(key: string, versionId?: string): Promise<string | undefined>;
  /** Creates the key; refuses (LogBucketConflict) when it exists, so the sealer never stacks versions. */
  putNew(key: string, body: string): Promise<void>;
}

export class LogBucketError extends Error {
  override name = 'LogBucketError';
}

/** The key exists already: a create-only put (S3 If-None-Match: *) was refused. */
export class LogBucketConflict extends LogBucketError {
  override name = 'LogBucketConflict';
}
