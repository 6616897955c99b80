/**
 * One Idempotency-Key per request: the key belongs to the exact body (and route) it was made for.
 * Sending the same body again (a double click, a retry after a lost answer) reuses the key, so the
 * bank replays its first answer and moves nothing twice; any change to the body (another amount,
 * a one-time code added after a step-up refusal) gets a new key, because the API answers 422
 * IDEMPOTENCY_KEY_REUSED for a known key with a different body.
 */
export class IdempotencyKeys {
  private current: { readonly key: string; readonly request: string } | undefined;

  constructor(private readonly make: () => string = () => crypto.randomUUID()) {}

  /** The key for this route and body. */
  keyFor(route: string, body: unknown): string {
    const request = JSON.stringify([route, body]);
    if (this.current?.request !== request) this.current = { key: this.make(), request };
    return this.current.key;
  }

  /** After a movement went through: the next one, even with the same body, is a new movement. */
  settled(): void {
    this.current = undefined;
  }
}
