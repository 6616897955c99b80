import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { VerifiedTokenCache } from '../../shared/auth/token-cache';

/*
 * The verified-token cache may only ever save work: it must never accept a token that a full
 * verification would refuse at that moment, and it must stay bounded.
 */

describe('VerifiedTokenCache', () => {
  it('returns an entry only before its limit, then forgets it', () => {
    // Prepare
    const cache = new VerifiedTokenCache<string>(4);
    cache.set('t1', 'alice', 10_000, 1_000);
    // Act + Assess
    expect(cache.get('t1', 9_999)).toBe('alice');
    expect(cache.get('t1', 10_000)).toBeUndefined();
    expect(cache.size).toBe(0);
    expect(cache.get('t2', 1_000)).toBeUndefined();
  });

  it('does not store an entry whose limit has already passed', () => {
    const cache = new VerifiedTokenCache<string>(4);
    cache.set('t1', 'alice', 1_000, 1_000);
    expect(cache.size).toBe(0);
    expect(cache.get('t1', 999)).toBeUndefined();
  });

  it('never holds more than entriesMax tokens, dropping the oldest first', () => {
    const cache = new VerifiedTokenCache<number>(3);
    for (let i = 0; i < 10; i += 1) cache.set(`t${i}`, i, 60_000, 0);
    expect(cache.size).toBe(3);
    expect([0, 1, 2, 3, 4, 5, 6].map((i) => cache.get(`t${i}`, 1))).toEqual(Array(7).fill(undefined));
    expect([7, 8, 9].map((i) => cache.get(`t${i}`, 1))).toEqual([7, 8, 9]);
  });

  it('refuses a limit below one entry', () => {
    expect(() => new VerifiedTokenCache(0)).toThrow(RangeError);
  });
});

describe('verifyToken with the cache', () => {
  let jwt: typeof import('../../shared/auth/jwt');
  const principal = {
    userId: randomUUID(),
    username: 'cache.user',
    role: 'teller',
    sessionId: randomBytes(32).toString('base64url'),
  } as const;

  beforeAll(async () => {
    // Only the HS256 key is needed: nothing here reaches a database.
    vi.stubEnv('BANK_JWT_SECRET', randomBytes(32).toString('hex'));
    jwt = await import('../../shared/auth/jwt');
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it('accepts a token again while it is valid, and refuses it once expired although it was cached', async () => {
    // Prepare
    vi.useFakeTimers({ toFake: ['Date'] });
    const issuedAt = new Date('2026-11-24T10:00:00.000Z');
    vi.setSystemTime(issuedAt);
    const token = await jwt.issueToken(principal);
    // Act + Assess: verified, then served again (same answer) a minute before it expires
    expect(await jwt.verifyToken(token)).toEqual(principal);
    vi.setSystemTime(new Date(issuedAt.getTime() + (jwt.tokenLifetimeS - 60) * 1000));
    expect(await jwt.verifyToken(token)).toEqual(principal);
    // Past exp and jose's 5 s clock tolerance: refused, cache or not.
    vi.setSystemTime(new Date(issuedAt.getTime() + (jwt.tokenLifetimeS + 6) * 1000));
    await expect(jwt.verifyToken(token)).rejects.toMatchObject({
      status: 401,
      detail: 'the token has expired',
    });
  });

  it('refuses a changed token even when the genuine one is cached', async () => {
    const token = await jwt.issueToken(principal);
    expect(await jwt.verifyToken(token)).toEqual(principal);
    const [header, payload, signature = ''] = token.split('.');
    // A character in the middle of the signature: every one of its bits is signature, not padding.
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    await expect(jwt.verifyToken(`${header}.${payload}.${flipped}`)).rejects.toMatchObject({ status: 401 });
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()), role: 'admin' }),
    ).toString('base64url');
    await expect(jwt.verifyToken(`${header}.${forged}.${signature}`)).rejects.toMatchObject({ status: 401 });
  });

  it('returns a frozen principal, so no caller can change what later requests are served', async () => {
    const token = await jwt.issueToken(principal);
    const first = await jwt.verifyToken(token);
    expect(Object.isFrozen(first)).toBe(true);
    expect(await jwt.verifyToken(token)).toBe(first);
  });
});
