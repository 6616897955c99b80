import { randomBytes } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import type { AccessKey } from './sigv4';

/**
 * The access key the local Data API server accepts, made like an AWS one: a 20-character id
 * starting AKIA and a 40-character secret. `npm start` keeps it in the data directory so that the
 * same key works across restarts (for the AWS CLI or a script pointed at the local endpoint);
 * tests and benchmarks make a fresh one per run.
 */

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export function generateAccessKey(): AccessKey {
  const idBytes = randomBytes(16);
  let id = 'AKIA';
  for (const byte of idBytes) id += BASE32[byte % 32];
  return { accessKeyId: id, secretAccessKey: randomBytes(30).toString('base64') };
}

const isAccessKey = (value: unknown): value is AccessKey =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { accessKeyId?: unknown }).accessKeyId === 'string' &&
  typeof (value as { secretAccessKey?: unknown }).secretAccessKey === 'string' &&
  /^[A-Z0-9]{16,128}$/.test((value as AccessKey).accessKeyId) &&
  (value as AccessKey).secretAccessKey.length >= 16;

export class AccessKeyFileError extends Error {
  override name = 'AccessKeyFileError';
}

/**
 * Reads the key from `file`, or creates the file (mode 0600, exclusively, so two starts cannot
 * write different keys) with a new one. A file others may read is refused, as ssh refuses such a
 * private key: its secret may no longer be secret.
 */
export async function loadOrCreateAccessKey(file: string): Promise<AccessKey> {
  const key = generateAccessKey();
  try {
    const handle = await open(file, 'wx', 0o600);
    try {
      // open's mode passes through the umask; say 0600 outright rather than trust what it left.
      await handle.chmod(0o600);
      await handle.writeFile(`${JSON.stringify(key, null, 2)}\n`);
    } finally {
      await handle.close();
    }
    return key;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const info = await stat(file);
  if ((info.mode & 0o077) !== 0) {
    throw new AccessKeyFileError(
      `${file} is readable or writable by other users (mode ${(info.mode & 0o777).toString(8)}); delete it and a new key is made on the next start`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    parsed = undefined;
  }
  if (!isAccessKey(parsed)) {
    throw new AccessKeyFileError(
      `${file} does not hold an access key; delete it and a new key is made on the next start`,
    );
  }
  return { accessKeyId: parsed.accessKeyId, secretAccessKey: parsed.secretAccessKey };
}
