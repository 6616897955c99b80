import { createHmac, type webcrypto } from 'node:crypto';
import { type JWTHeaderParameters, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import { config } from '../config';
import { UnauthenticatedError } from '../errors';
import { roleSchema, usernameSchema } from '../schemas';
import * as z from '../zod';
import { KeyRing, keyRefreshMs, loadJwtKeys } from './jwt-keys';
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

/**
 * The signing keys (current and, after a rotation, previous), chosen by the token's `kid`
 * (jwt-keys.ts). The previous key verifies tokens for a token lifetime plus one key refresh
 * after the current key appeared.
 */
const keys = new KeyRing(loadJwtKeys, (tokenLifetimeS + 5) * 1000 + keyRefreshMs);

export async function issueToken(principal: Principal): Promise<string> {
  const c = config();
  const key = await keys.signing();
  return new SignJWT({ username: principal.username, role: principal.role, sid: principal.sessionId })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: key.kid })
    .setSubject(principal.userId)
    .setIssuer(c.BANK_JWT_ISSUER)
    .setAudience(c.BANK_JWT_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${tokenLifetimeS}s`)
    .setJti(crypto.randomUUID())
    .sign(key.key);
}

/** jose's key lookup: the key the token's `kid` names, or a refusal. */
async function verificationKey(header: JWTHeaderParameters): Promise<webcrypto.CryptoKey> {
  const key = await keys.verifying(header.kid);
  if (!key) throw new joseErrors.JWSSignatureVerificationFailed('the token is signed with an unknown key');
  return key.key;
}

export async function verifyToken(token: string): Promise<Principal> {
  const cached = verifiedTokens.get(token, Date.now());
  if (cached) return cached;
  const c = config();
  try {
    const { payload } = await jwtVerify(token, verificationKey, {
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
  return createHmac('sha256', (await keys.signing()).raw)
    .update(secret, 'utf8')
    .digest('hex');
}
