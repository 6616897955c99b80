import { Secret, TOTP } from 'otpauth';

const stepMs = 30_000;

/**
 * The authenticator app of one enrolled user, for the browser tests. The server accepts a code
 * for the current 30-second step or one either side, and only for a step after the last one it
 * accepted (a code is used once), so each code here is for a later step than the one before,
 * waiting for the clock when two steps ahead would be too far.
 */
export class Authenticator {
  private lastStep = Number.NEGATIVE_INFINITY;
  private readonly totp: TOTP;

  constructor(readonly secret: string) {
    this.totp = new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 });
  }

  async code(): Promise<string> {
    for (;;) {
      const now = Math.floor(Date.now() / stepMs);
      const step = Math.max(now, this.lastStep + 1);
      if (step <= now + 1) {
        this.lastStep = step;
        return this.totp.generate({ timestamp: step * stepMs });
      }
      // Two steps ahead: wait until the clock reaches the step after the last used one's.
      await new Promise((resolve) => setTimeout(resolve, this.lastStep * stepMs - Date.now() + 50));
    }
  }

  /** A six-digit code that is not valid now (for the refusal paths). */
  wrongCode(): string {
    const now = Math.floor(Date.now() / stepMs);
    const valid = new Set([now - 1, now, now + 1].map((s) => this.totp.generate({ timestamp: s * stepMs })));
    for (let n = 0; ; n++) {
      const candidate = String(n).padStart(6, '0');
      if (!valid.has(candidate)) return candidate;
    }
  }
}
