import { describe, expect, it } from 'vitest';
import { formatMoney, fromCents, isAmount, normalizeAmount, toCents } from '../../web/src/money';

describe("the console's money", () => {
  it('turns decimal strings into bigint cents and back, exactly, beyond 2^53', () => {
    expect(toCents('0.10')).toBe(10n);
    expect(toCents('0.1')).toBe(10n);
    expect(toCents('1234.5')).toBe(123_450n);
    expect(toCents('-19.75')).toBe(-1975n);
    expect(toCents('90071992547409.93')).toBe(9_007_199_254_740_993n);
    expect(fromCents(9_007_199_254_740_993n)).toBe('90071992547409.93');
    expect(fromCents(5n)).toBe('0.05');
    expect(fromCents(-1975n)).toBe('-19.75');
    // 0.1 + 0.2 in binary floating point is 0.30000000000000004; in cents it is 30.
    expect(fromCents((toCents('0.1') ?? 0n) + (toCents('0.2') ?? 0n))).toBe('0.30');
  });

  it('refuses what is not an amount instead of rounding it', () => {
    for (const bad of ['12.345', '1e3', '', ' ', '12,50', '0x10', 'NaN'])
      expect(toCents(bad), bad).toBeUndefined();
    expect(isAmount('0')).toBe(false);
    expect(isAmount('0.00')).toBe(false);
    expect(isAmount('0.01')).toBe(true);
    expect(isAmount('012')).toBe(false);
    expect(normalizeAmount(' 250 ')).toBe('250.00');
    expect(normalizeAmount('12.345')).toBe('12.345'); // left for the API to refuse, with its message
  });

  it('formats with Intl.NumberFormat from the string itself, every digit kept', () => {
    const grouped = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2 }).format(1234.5);
    expect(formatMoney('1234.5')).toBe(grouped);
    expect(formatMoney('90071992547409.93').replace(/[^0-9]/g, '')).toBe('9007199254740993');
    expect(formatMoney('not money')).toBe('not money');
  });
});
