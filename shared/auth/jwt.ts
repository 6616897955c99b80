import { createHmac, type webcrypto } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { ConfigError, config } from '../config';
import { UnauthenticatedError } from '../errors';
import { roleSchema, usernameSchema } from '../schemas';
import * as z from '../zod';
import type { Role } from './policy';
import { VerifiedTokenCache } from './token-cache';

/**
 * A token lives 15 minutes (DESIGN.md); POST /auth/refresh trades a live one for a new one of
 * the same session. The session (8 hours, ended by logout) is checked by the database on every
 * call, so a token of an ended session is refused even while it is in the cache below.
 */
export const tokenLifetimeS = 15 * 60;
/** Only HS256 is accepted: no `none`, no algorithm taken from the token header. */
const algorithms = ['HS256'];

export interface Principal {
  readonly userId: string;
  readonly username: string;
  readonly role: Role;
  /** The login session (claim `sid`): the database derives the acting user from it alone. */
  readonly sessionId: string;
}

/** A session id as the database makes it: 32 random bytes, base64url (bank_session_token). */
export const sessionIdSchema = z.string().check(z.regex(/^[A-Za-z0-9_-]{43}$/));

const claimsSchema = z.object({
  sub: z.uuid(),
  username: usernameSchema,
  role: roleSchema,
  sid: sessionIdSchema,
  iat: z.number(),
  exp: z.number(),
});

/** Tokens this environment has verified (see token-cache.ts): at most this many at once. */
export const verifiedTokensMax = 1024;
const verifiedTokens = new VerifiedTokenCache<Principal>(verifiedTokensMax);

let keyPromise: Promise<Uint8Array> | undefined;

/** The signing key, loaded once per cold start: env locally, Secrets Manager in the cloud. */
function signingKey(): Promise<Uint8Array> {
  keyPromise ??= loadKey().catch((error: unknown) => {
    keyPromise = undefined;
    throw error;
  });
  return keyPromise;
}

let joseKeyPromise: Promise<webcrypto.CryptoKey> | undefined;

/**
 * The same key as a WebCrypto key, imported once: given raw bytes, jose imports a key on every
 * sign and verify (~0.15 ms of CPU per request).
 */
function joseKey(): Promise<webcrypto.CryptoKey> {
  joseKeyPromise ??= signingKey()
    .then((raw) =>
      crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']),
    )
    .catch((error: unknown) => {
      joseKeyPromise = undefined;
      throw error;
    });
  return joseKeyPromise;
}

async function loadKey(): Promise<Uint8Array> {
  const c = config();
  if (c.BANK_JWT_SECRET) return new TextEncoder().encode(c.BANK_JWT_SECRET);
  if (!c.BANK_JWT_SECRET_ARN) throw new ConfigError('set BANK_JWT_SECRET or BANK_JWT_SECRET_ARN');
  const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  const sm = new SecretsManagerClient({ region: c.AWS_REGION });
  const out = await sm.send(new GetSecretValueCommand({ SecretId: c.BANK_JWT_SECRET_ARN }));
  const secret = out.SecretString;
  if (!secret || secret.length < 32)
    throw new ConfigError('the JWT secret is missing or shorter than 32 characters');
  return new TextEncoder().encode(secret);
}

export async function issueToken(principal: Principal): Promise<string> {
  const c = config();
  return new SignJWT({ username: principal.username, role: principal.role, sid: principal.sessionId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(principal.userId)
    .setIssuer(c.BANK_JWT_ISSUER)
    .setAudience(c.BANK_JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${tokenLifetimeS}s`)
    .setJti(crypto.randomUUID())
    .sign(await joseKey());
}

export async function verifyToken(token: string): Promise<Principal> {
  const cached = verifiedTokens.get(token, Date.now());
  if (cached) return cached;
  const c = config();
  const key = await joseKey();
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms,
      issuer: c.BANK_JWT_ISSUER,
      audience: c.BANK_JWT_AUDIENCE,
      requiredClaims: ['sub', 'exp', 'iat', 'sid'],
      maxTokenAge: `${tokenLifetimeS}s`,
      clockTolerance: 5,
    });
    const claims = claimsSchema.safeParse(payload);
    if (!claims.success) throw new UnauthenticatedError('the token is not valid');
    const { sub, username, role, sid, iat, exp } = claims.data;
    const principal: Principal = Object.freeze({ userId: sub, username, role, sessionId: sid });
    // The earlier of jose's two limits, without its clock tolerance.
    verifiedTokens.set(token, principal, Math.min(exp, iat + tokenLifetimeS) * 1000, Date.now());
    return principal;
  } catch (error) {
    if (error instanceof UnauthenticatedError) throw error;
    if (error instanceof joseErrors.JOSEError) {
      throw new UnauthenticatedError(
        error instanceof joseErrors.JWTExpired ? 'the token has expired' : 'the token is not valid',
      );
    }
    throw error;
  }
}

/**
 * HMAC-SHA256 of a secret under the service key: lets a request hash bind a PIN without storing
 * anything that a 10,000-guess brute force could reverse.
 */
export async function keyedDigest(secret: string): Promise<string> {
  return createHmac('sha256', await signingKey())
    .update(secret, 'utf8')
    .digest('hex');
}
