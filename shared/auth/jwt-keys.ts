import { createHash, type webcrypto } from 'node:crypto';
import { ConfigError, config } from '../config';

/**
 * The JWT signing keys and their selection by `kid`, kept apart from jwt.ts so that rotation
 * touches nothing else there. A key's id is derived from the key itself (16 hex digits of its
 * SHA-256), so it is the same in every function and locally, and names no Secrets Manager version.
 *
 * Rotation (Secrets Manager, every 30 days, cdk/constructs/functions.ts) gives the secret a new
 * AWSCURRENT and keeps the old one as AWSPREVIOUS. A function signs with the current key it last
 * loaded and verifies with the current or the previous one. It reloads both every
 * `keyRefreshMs`, and at once (at most every `unknownKidRetryMs`) when a token names a key it
 * does not know, so tokens signed by a function that already has the new key verify everywhere.
 * The previous key is accepted only until `previousKeyGraceMs` after the current one appeared:
 * long enough for every token it signed (functions sign with it until their next refresh) to
 * expire, and no longer.
 */
export interface KeyMaterial {
  readonly raw: Uint8Array;
  /** When this key became current (Secrets Manager's CreatedDate); unknown locally. */
  readonly createdAtMs?: number;
}

export interface LoadedKeys {
  readonly current: KeyMaterial;
  readonly previous?: KeyMaterial;
}

export interface SigningKey {
  readonly kid: string;
  readonly raw: Uint8Array;
  readonly key: webcrypto.CryptoKey;
}

export const keyRefreshMs = 5 * 60_000;
export const unknownKidRetryMs = 10_000;

export function keyIdOf(raw: Uint8Array): string {
  return createHash('sha256').update(raw).digest('hex').slice(0, 16);
}

async function toSigningKey(material: KeyMaterial): Promise<SigningKey> {
  const key = await crypto.subtle.importKey('raw', material.raw, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
    'verify',
  ]);
  return { kid: keyIdOf(material.raw), raw: material.raw, key };
}

interface Ring {
  readonly current: SigningKey;
  readonly previous?: SigningKey;
  /** Until when the previous key is accepted. */
  readonly previousUntilMs: number;
  readonly loadedAtMs: number;
}

export class KeyRing {
  private ring: Promise<Ring> | undefined;
  private lastForcedMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly load: () => Promise<LoadedKeys>,
    /** Token lifetime plus the refresh interval: how long the previous key may still have signed. */
    private readonly previousKeyGraceMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** The key new tokens are signed with. */
  async signing(): Promise<SigningKey> {
    return (await this.fresh()).current;
  }

  /**
   * The key a token's `kid` names, if it is still accepted. A token without `kid` (issued before
   * keys had ids) is checked against the current key only.
   */
  async verifying(kid: string | undefined): Promise<SigningKey | undefined> {
    const ring = await this.fresh();
    const found = pick(ring, kid, this.now());
    if (found || kid === undefined || this.now() - this.lastForcedMs < unknownKidRetryMs) return found;
    // A key this function has not seen yet: another function may have loaded a newer one.
    this.lastForcedMs = this.now();
    return pick(await this.reload(), kid, this.now());
  }

  private fresh(): Promise<Ring> {
    const ring = this.ring;
    if (ring === undefined) return this.reload();
    return ring.then((r) => (this.now() - r.loadedAtMs >= keyRefreshMs ? this.reload() : r));
  }

  private reload(): Promise<Ring> {
    const loadedAtMs = this.now();
    const ring = this.load().then(async ({ current, previous }) => {
      const previousUntilMs =
        previous === undefined ? 0 : (current.createdAtMs ?? loadedAtMs) + this.previousKeyGraceMs;
      return {
        current: await toSigningKey(current),
        ...(previous ? { previous: await toSigningKey(previous) } : {}),
        previousUntilMs,
        loadedAtMs,
      };
    });
    this.ring = ring.catch((error: unknown) => {
      this.ring = undefined;
      throw error;
    });
    return this.ring;
  }
}

function pick(ring: Ring, kid: string | undefined, nowMs: number): SigningKey | undefined {
  if (kid === undefined || kid === ring.current.kid) return ring.current;
  if (ring.previous && kid === ring.previous.kid && nowMs < ring.previousUntilMs) return ring.previous;
  return undefined;
}

/** The keys from the environment (locally) or Secrets Manager (AWSCURRENT and AWSPREVIOUS). */
export async function loadJwtKeys(): Promise<LoadedKeys> {
  const c = config();
  if (c.BANK_JWT_SECRET) return { current: { raw: new TextEncoder().encode(c.BANK_JWT_SECRET) } };
  if (!c.BANK_JWT_SECRET_ARN) throw new ConfigError('set BANK_JWT_SECRET or BANK_JWT_SECRET_ARN');
  const { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } = await import(
    '@aws-sdk/client-secrets-manager'
  );
  const sm = new SecretsManagerClient({ region: c.AWS_REGION });
  const version = async (stage: 'AWSCURRENT' | 'AWSPREVIOUS'): Promise<KeyMaterial | undefined> => {
    try {
      const out = await sm.send(
        new GetSecretValueCommand({ SecretId: c.BANK_JWT_SECRET_ARN, VersionStage: stage }),
      );
      const secret = out.SecretString;
      if (!secret || secret.length < 32)
        throw new ConfigError('the JWT secret is missing or shorter than 32 characters');
      return { raw: new TextEncoder().encode(secret), createdAtMs: out.CreatedDate?.getTime() };
    } catch (error) {
      // No AWSPREVIOUS before the first rotation.
      if (stage === 'AWSPREVIOUS' && error instanceof ResourceNotFoundException) return undefined;
      throw error;
    }
  };
  const [current, previous] = await Promise.all([version('AWSCURRENT'), version('AWSPREVIOUS')]);
  if (!current) throw new ConfigError('the JWT secret has no current value');
  return previous ? { current, previous } : { current };
}
