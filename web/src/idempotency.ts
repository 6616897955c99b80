/**
 * One Idempotency-Key per request: the key belongs to the exact request (route and body) it was
 * made for. Sending the same request again (a double click, a retry after a lost answer) reuses
 * the key, so the bank replays its first answer and moves nothing twice; any change to it
 * (another amount, account, memo or PIN) gets a new key, because the API answers 422
 * IDEMPOTENCY_KEY_REUSED for a known key with a different request.
 *
 * The one-time code is not part of the request: the API leaves it out of what a key is bound to.
 * A code is good once, so a retry after a lost answer comes with a fresh code; with the same key
 * it replays the movement that went through, where a new key would move the money again. And a
 * request refused for want of a code (STEP_UP_REQUIRED, INVALID_OTP) gives its key back, so the
 * same key then goes with the code.
 */
export class IdempotencyKeys {
  private current: { readonly key: string; readonly request: string } | undefined;

  constructor(private readonly make: () => string = () => crypto.randomUUID()) {}

  /** The key for this route and body (its `otp` left out). */
  keyFor(route: string, body: unknown): string {
    const request = JSON.stringify([route, withoutCode(body)]);
    if (this.current?.request !== request) this.current = { key: this.make(), request };
    return this.current.key;
  }

  /** After a movement went through: the next one, even with the same body, is a new movement. */
  settled(): void {
    this.current = undefined;
  }
}

function withoutCode(body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return body;
  return Object.fromEntries(Object.entries(body).filter(([name]) => name !== 'otp'));
}
