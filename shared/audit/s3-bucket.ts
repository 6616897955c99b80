import {
  GetObjectCommand,
  ListObjectVersionsCommand,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { type LogBucket, LogBucketConflict, type ObjectVersion } from './bucket';

/** The few S3 calls the log bucket makes; an S3Client behind it in the cloud, a fake in tests. */
export interface S3Api {
  listObjectVersions(input: {
    Bucket: string;
    Prefix: string;
    KeyMarker?: string;
    VersionIdMarker?: string;
  }): Promise<{
    Versions?: Array<{ Key?: string; VersionId?: string; LastModified?: Date; IsLatest?: boolean }>;
    DeleteMarkers?: Array<{ Key?: string; VersionId?: string; LastModified?: Date; IsLatest?: boolean }>;
    IsTruncated?: boolean;
    NextKeyMarker?: string;
    NextVersionIdMarker?: string;
  }>;
  /** The object's text; undefined when the key (or version) has no object. */
  getObject(input: { Bucket: string; Key: string; VersionId?: string }): Promise<string | undefined>;
  /** ifNoneMatch: create only (S3 conditional write); a PreconditionFailed is a LogBucketConflict. */
  putObject(input: { Bucket: string; Key: string; Body: string; IfNoneMatch?: '*' }): Promise<void>;
}

export function s3Api(client: S3Client): S3Api {
  return {
    listObjectVersions: (input) => client.send(new ListObjectVersionsCommand(input)),
    async getObject(input) {
      try {
        const out = await client.send(new GetObjectCommand(input));
        return await out.Body?.transformToString('utf8');
      } catch (error) {
        if (error instanceof NoSuchKey) return undefined;
        // A version id that is a delete marker answers 405 MethodNotAllowed.
        if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 405) return undefined;
        throw error;
      }
    },
    async putObject(input) {
      try {
        // Object Lock requires an integrity checksum on every put.
        await client.send(
          new PutObjectCommand({ ...input, ContentType: 'application/json', ChecksumAlgorithm: 'SHA256' }),
        );
      } catch (error) {
        if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 412)
          throw new LogBucketConflict(`${input.Key} exists`);
        throw error;
      }
    },
  };
}

/**
 * The log bucket in S3: versioned, Object Lock's default retention (compliance mode) on every
 * version. The verifier lists every version of every key (ListObjectVersions), not only the
 * current ones, so a PutObject over a sealed batch or a delete marker on it shows.
 */
export function s3Bucket(api: S3Api, bucket: string): LogBucket {
  return {
    async listVersions(prefix) {
      const found: Array<ObjectVersion & { at: number; n: number }> = [];
      let keyMarker: string | undefined;
      let versionMarker: string | undefined;
      do {
        const page = await api.listObjectVersions({
          Bucket: bucket,
          Prefix: prefix,
          ...(keyMarker ? { KeyMarker: keyMarker } : {}),
          ...(versionMarker ? { VersionIdMarker: versionMarker } : {}),
        });
        for (const [items, deleteMarker] of [
          [page.Versions ?? [], false],
          [page.DeleteMarkers ?? [], true],
        ] as const) {
          for (const item of items) {
            if (item.Key && item.VersionId)
              found.push({
                key: item.Key,
                versionId: item.VersionId,
                deleteMarker,
                at: item.LastModified?.getTime() ?? 0,
                n: found.length,
              });
          }
        }
        keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
        versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
      } while (keyMarker);
      // S3 lists a key's versions newest first; the verifier wants them oldest first (within the
      // same second, the listing's own order decides).
      return found
        .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.at - b.at || b.n - a.n))
        .map(({ key, versionId, deleteMarker }) => ({ key, versionId, deleteMarker }));
    },
    get: (key, versionId) =>
      api.getObject({ Bucket: bucket, Key: key, ...(versionId ? { VersionId: versionId } : {}) }),
    putNew: (key, body) => api.putObject({ Bucket: bucket, Key: key, Body: body, IfNoneMatch: '*' }),
  };
}

export { S3Client };
