import { describe, expect, it } from 'vitest';
import {
  KeyRing,
  keyIdOf,
  keyRefreshMs,
  type LoadedKeys,
  unknownKidRetryMs,
} from '../../shared/auth/jwt-keys';

const bytes = (text: string) => new TextEncoder().encode(text);
const keyA = bytes('a'.repeat(64));
const keyB = bytes('b'.repeat(64));
const graceMs = 20 * 60_000;

/** A key ring over a loader whose answer the test changes, on a clock the test moves. */
function ring(initial: LoadedKeys) {
  let now = 1_000_000;
  let loaded = initial;
  let loads = 0;
  const keys = new KeyRing(
    async () => {
      loads += 1;
      return loaded;
    },
    graceMs,
    () => now,
  );
  return {
    keys,
    advance: (ms: number) => {
      now += ms;
    },
    rotate: (next: LoadedKeys) => {
      loaded = next;
    },
    now: () => now,
    loads: () => loads,
  };
}

describe('JWT key ring (selection by kid)', () => {
  it('signs with the current key and names it by a digest of the key, not the key', async () => {
    const { keys } = ring({ current: { raw: keyA } });
    const signing = await keys.signing();
    expect(signing.kid).toBe(keyIdOf(keyA));
    expect(signing.kid).toMatch(/^[0-9a-f]{16}$/);
    expect(keyIdOf(keyB)).not.toBe(signing.kid);
  });

  it('verifies with the previous key until the grace after the rotation ends, then refuses it', async () => {
    const t = ring({ current: { raw: keyA, createdAtMs: 0 } });
    expect((await t.keys.verifying(keyIdOf(keyA)))?.kid).toBe(keyIdOf(keyA));
    const rotatedAt = t.now() + 1000;
    t.rotate({ current: { raw: keyB, createdAtMs: rotatedAt }, previous: { raw: keyA, createdAtMs: 0 } });
    t.advance(keyRefreshMs + 1000);
    // After the refresh: signs with B, still verifies A's tokens.
    expect((await t.keys.signing()).kid).toBe(keyIdOf(keyB));
    expect((await t.keys.verifying(keyIdOf(keyA)))?.kid).toBe(keyIdOf(keyA));
    t.advance(rotatedAt + graceMs - t.now() - 1);
    expect((await t.keys.verifying(keyIdOf(keyA)))?.kid).toBe(keyIdOf(keyA));
    t.advance(2);
    expect(await t.keys.verifying(keyIdOf(keyA))).toBeUndefined();
    expect((await t.keys.verifying(keyIdOf(keyB)))?.kid).toBe(keyIdOf(keyB));
  });

  it('reloads at once for an unknown kid (a newer key elsewhere), at most every few seconds', async () => {
    const t = ring({ current: { raw: keyA } });
    await t.keys.signing();
    const before = t.loads();
    t.rotate({ current: { raw: keyB, createdAtMs: t.now() }, previous: { raw: keyA } });
    expect((await t.keys.verifying(keyIdOf(keyB)))?.kid).toBe(keyIdOf(keyB));
    expect(t.loads()).toBe(before + 1);
    // A made-up kid right after does not make it hit Secrets Manager again.
    expect(await t.keys.verifying('0123456789abcdef')).toBeUndefined();
    expect(t.loads()).toBe(before + 1);
    t.advance(unknownKidRetryMs);
    expect(await t.keys.verifying('0123456789abcdef')).toBeUndefined();
    expect(t.loads()).toBe(before + 2);
  });

  it('checks a token without kid (issued before keys had ids) against the current key only', async () => {
    const t = ring({ current: { raw: keyB, createdAtMs: 0 }, previous: { raw: keyA } });
    expect((await t.keys.verifying(undefined))?.kid).toBe(keyIdOf(keyB));
  });
});
