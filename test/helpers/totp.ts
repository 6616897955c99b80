import { Secret, TOTP } from 'otpauth';
import { query, type TestStack } from './stack';

/** The code of an authenticator with this base32 secret, now (or `steps` 30-second steps away). */
export function totpCode(secret: string, steps = 0): string {
  return new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 }).generate({
    timestamp: Date.now() + steps * 30_000,
  });
}

/**
 * Enrols an authenticator for a logged-in user through the API (POST /me/totp, then confirm) and
 * returns a source of step-up codes. Each call first forgets the user's last accepted time step
 * (superuser fixture; the API cannot), so a test may use several codes within one 30-second step.
 */
export async function enrolTotp(
  stack: TestStack,
  user: { readonly id: string; readonly token: string },
): Promise<() => Promise<string>> {
  const started = await stack.call('POST', '/me/totp', { token: user.token, body: {} });
  const secret = started.body.secret;
  if (started.status !== 201 || typeof secret !== 'string')
    throw new Error(`enrolment failed: ${started.text}`);
  const confirmed = await stack.call('POST', '/me/totp/confirm', {
    token: user.token,
    body: { otp: totpCode(secret) },
  });
  if (confirmed.status !== 200) throw new Error(`confirmation failed: ${confirmed.text}`);
  return async () => {
    await query(stack.db, 'UPDATE user_totp SET last_step = NULL WHERE user_id = $1', [user.id]);
    return totpCode(secret);
  };
}
