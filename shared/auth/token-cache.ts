/**
 * Verified bearer tokens, remembered for the rest of their validity in this execution
 * environment, the way API Gateway's authorizer cache is keyed by the token.
 *
 * Why not just verify every time: jose verifies HS256 through WebCrypto, whose HMAC runs as an
 * async job (~0.1–0.25 ms of CPU per request), and a client uses one token for many requests.
 * What keeps it safe:
 * - The key is the whole token string, so a hit means these exact bytes were verified with the
 *   signing key, which is loaded once per cold start and never changes inside one.
 * - An entry lives only until the token's own limit, `min(exp, iat + lifetime)`, without the clock
 *   tolerance: the cache never accepts a token that jose would refuse at that moment.
 * - Nothing is cached before the signature and every claim are checked.
 * - `entriesMax` bounds its memory; the oldest entry goes first when it is full.
 */
export class VerifiedTokenCache<T> {
  readonly #entries = new Map<string, { readonly value: T; readonly validUntilMs: number }>();

  constructor(readonly entriesMax: number) {
    if (!Number.isInteger(entriesMax) || entriesMax < 1) throw new RangeError('entriesMax must be ≥ 1');
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cached value for this exact token while it is still valid at `nowMs`; else undefined. */
  get(token: string, nowMs: number): T | undefined {
    const entry = this.#entries.get(token);
    if (entry === undefined) return undefined;
    if (nowMs >= entry.validUntilMs) {
      this.#entries.delete(token);
      return undefined;
    }
    return entry.value;
  }

  set(token: string, value: T, validUntilMs: number, nowMs: number): void {
    if (!(validUntilMs > nowMs)) return;
    this.#entries.delete(token);
    while (this.#entries.size >= this.entriesMax) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(token, { value, validUntilMs });
  }
}
