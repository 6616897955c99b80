import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type LogBucket, LogBucketError } from '../shared/audit/bucket';

/**
 * The log bucket on a laptop: a directory of read-only files. Like Object Lock, a key once
 * written cannot be changed (the same content again is accepted, as a retried upload).
 */
export function fsBucket(root: string): LogBucket {
  const resolve = (key: string): string => {
    if (!/^[a-z0-9/_.-]+$/.test(key) || key.includes('..')) throw new LogBucketError(`bad key ${key}`);
    return path.join(root, key);
  };
  return {
    async list(prefix) {
      const dir = path.dirname(resolve(`${prefix}x`));
      try {
        const names = await readdir(dir);
        const base = path.relative(root, dir);
        return names
          .map((n) => `${base}/${n}`)
          .filter((k) => k.startsWith(prefix))
          .sort();
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
    },
    async get(key) {
      try {
        return await readFile(resolve(key), 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
    },
    async put(key, body) {
      const file = resolve(key);
      await mkdir(path.dirname(file), { recursive: true });
      try {
        await writeFile(file, body, { flag: 'wx', mode: 0o444 });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        if ((await readFile(file, 'utf8')) !== body)
          throw new LogBucketError(`${key} exists and is write-once`);
      }
    },
  };
}
