import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type LogBucket,
  LogBucketConflict,
  LogBucketError,
  type ObjectVersion,
} from '../shared/audit/bucket';

/**
 * The log bucket on a laptop, behaving as the versioned S3 bucket does: the first version of a
 * key is the file `<root>/<key>` (read-only, never rewritten); a later PUT or DELETE of the key
 * adds a version or a delete marker under `<root>/.versions/<key>/`, so an overwrite is visible
 * to the verifier, which reads every version, and the first version stays as it was sealed.
 */
export interface FsBucket extends LogBucket {
  /** PutObject without a condition: what anyone with write access to the bucket can do. */
  put(key: string, body: string): Promise<void>;
  /** DeleteObject without a version id: adds a delete marker. */
  delete(key: string): Promise<void>;
}

const versionsDir = '.versions';

export function fsBucket(root: string): FsBucket {
  const checkKey = (key: string): string => {
    if (!/^[a-z0-9/_.-]+$/.test(key) || key.includes('..') || key.startsWith(versionsDir))
      throw new LogBucketError(`bad key ${key}`);
    return key;
  };
  const first = (key: string): string => path.join(root, checkKey(key));
  const later = (key: string): string => path.join(root, versionsDir, checkKey(key));

  async function readOptional(file: string): Promise<string | undefined> {
    try {
      return await readFile(file, 'utf8');
    } catch (error) {
      // A directory is a prefix, not an object.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR') return undefined;
      throw error;
    }
  }
  async function names(dir: string): Promise<string[]> {
    try {
      return await readdir(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
  }
  /** Later versions of a key, oldest first: `2`, `3.deleted`, ... */
  async function laterVersions(key: string): Promise<ObjectVersion[]> {
    return (await names(later(key)))
      .map((name) => /^(\d+)(\.deleted)?$/.exec(name))
      .filter((m) => m !== null)
      .map((m) => ({ key, versionId: m[1] ?? '', deleteMarker: m[2] !== undefined }))
      .sort((a, b) => Number(a.versionId) - Number(b.versionId));
  }
  async function addVersion(key: string, body: string | undefined): Promise<void> {
    const existing = await laterVersions(key);
    const next = 2 + existing.length;
    await mkdir(later(key), { recursive: true });
    await writeFile(
      path.join(later(key), body === undefined ? `${next}.deleted` : String(next)),
      body ?? '',
      {
        flag: 'wx',
        mode: 0o444,
      },
    );
  }

  const bucket: FsBucket = {
    async listVersions(prefix) {
      const dir = path.dirname(first(`${prefix}x`));
      const base = path.relative(root, dir);
      const keys = new Set<string>();
      for (const name of await names(dir)) keys.add(`${base}/${name}`);
      for (const name of await names(path.join(root, versionsDir, base))) keys.add(`${base}/${name}`);
      const versions: ObjectVersion[] = [];
      for (const key of [...keys].filter((k) => k.startsWith(prefix)).sort()) {
        if ((await readOptional(first(key))) !== undefined)
          versions.push({ key, versionId: '1', deleteMarker: false });
        versions.push(...(await laterVersions(key)));
      }
      return versions;
    },
    async get(key, versionId) {
      const versions = [
        ...((await readOptional(first(key))) !== undefined
          ? [{ key, versionId: '1', deleteMarker: false }]
          : []),
        ...(await laterVersions(key)),
      ];
      const chosen =
        versionId === undefined ? versions.at(-1) : versions.find((v) => v.versionId === versionId);
      if (!chosen || chosen.deleteMarker) return undefined;
      return readOptional(chosen.versionId === '1' ? first(key) : path.join(later(key), chosen.versionId));
    },
    async putNew(key, body) {
      // S3's If-None-Match: * refuses only when the key has a current object; over a delete
      // marker it creates a new version, and so does this.
      if ((await bucket.get(key)) !== undefined) throw new LogBucketConflict(`${key} exists`);
      await bucket.put(key, body);
    },
    async put(key, body) {
      const file = first(key);
      await mkdir(path.dirname(file), { recursive: true });
      if ((await readOptional(file)) === undefined && (await laterVersions(key)).length === 0) {
        await writeFile(file, body, { flag: 'wx', mode: 0o444 });
      } else {
        await addVersion(key, body);
      }
    },
    async delete(key) {
      await addVersion(key, undefined);
    },
  };
  return bucket;
}
