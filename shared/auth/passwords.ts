import bcrypt from 'bcryptjs';
import { config } from '../config';

/**
 * bcrypt (bcryptjs) for passwords and PINs. The cost comes from BANK_BCRYPT_COST (default 10:
 * ~50-80 ms per comparison on one Lambda vCPU; higher multiplies every login and customer money
 * movement, and the PIN space is small enough that lockout, not cost, is what protects it).
 */
export function hashSecret(secret: string): Promise<string> {
  return bcrypt.hash(secret, config().BANK_BCRYPT_COST);
}

export function verifySecret(secret: string, hash: string): Promise<boolean> {
  return bcrypt.compare(secret, hash);
}

let dummyHash: Promise<string> | undefined;

/**
 * Login for an unknown username still spends one bcrypt comparison at the configured cost, so
 * the response time does not reveal whether the username exists.
 */
export async function burnComparison(secret: string): Promise<false> {
  dummyHash ??= bcrypt.hash('not-a-real-password-0000', config().BANK_BCRYPT_COST);
  await bcrypt.compare(secret, await dummyHash);
  return false;
}
