import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { config } from '../config';

/**
 * bcrypt (bcryptjs) for passwords. PINs are hashed and compared by the database (pgcrypto), in
 * the movement's own transaction: see migrations/functions/bank_pin_hash.sql. The cost comes from
 * BANK_BCRYPT_COST (default 10: ~50-80 ms per comparison on one Lambda vCPU; higher multiplies
 * every login).
 */

/** bcrypt reads only the first 72 bytes of its input; anything after them would not count. */
export const bcryptInputBytesMax = 72;

/**
 * What bcrypt hashes for a password. Up to 72 UTF-8 bytes: the password itself (so every
 * existing hash still verifies). Longer (API.md allows 128 characters, up to 512 bytes): a
 * SHA-256 pre-hash, so every byte of the password counts. The pre-hash is tagged so that it
 * never equals a short password that someone could type without knowing the long one's digest.
 */
export function bcryptInput(password: string): string {
  if (Buffer.byteLength(password, 'utf8') <= bcryptInputBytesMax) return password;
  return `sha256:${createHash('sha256').update(password, 'utf8').digest('base64')}`;
}

export function hashSecret(secret: string): Promise<string> {
  return bcrypt.hash(bcryptInput(secret), config().BANK_BCRYPT_COST);
}

export function verifySecret(secret: string, hash: string): Promise<boolean> {
  return bcrypt.compare(bcryptInput(secret), hash);
}

let dummyHash: Promise<string> | undefined;

/**
 * Login for an unknown username still spends one bcrypt comparison at the configured cost, so
 * the response time does not reveal whether the username exists.
 */
export async function burnComparison(secret: string): Promise<false> {
  dummyHash ??= bcrypt.hash('not-a-real-password-0000', config().BANK_BCRYPT_COST);
  await bcrypt.compare(bcryptInput(secret), await dummyHash);
  return false;
}
