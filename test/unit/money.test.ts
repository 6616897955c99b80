import { describe, expect, it } from 'vitest';
import { AmountError, amountMinorMax, formatMinor, parseAmountMinor } from '../../shared/money';

describe('parseAmountMinor', () => {
  it.each([
    ['0.01', 1n],
    ['1', 100n],
    ['1.5', 150n],
    ['1234.50', 123_450n],
    ['999999999.99', 99_999_999_999n],
    ['1000000000.00', 100_000_000_000n],
    ['1000000000', 100_000_000_000n],
  ])('parses %s exactly to %s minor units', (text, minor) => {
    expect(parseAmountMinor(text)).toBe(minor);
  });

  it.each([
    '0',
    '0.00',
    '-1',
    '1.234',
    '1e3',
    '01',
    '00.5',
    ' 1',
    '1 ',
    '1,00',
    '',
    '.5',
    '5.',
    '1000000000.01',
    '99999999999999',
    '0x10',
    '１',
  ])('refuses %j', (text) => {
    expect(() => parseAmountMinor(text)).toThrow(AmountError);
  });

  it('has the API maximum as its limit', () => {
    expect(amountMinorMax).toBe(100_000_000_000n);
  });
});

describe('formatMinor', () => {
  it.each([
    [0n, '0.00'],
    [1n, '0.01'],
    [10n, '0.10'],
    [123_450n, '1234.50'],
    [-5n, '-0.05'],
    // Beyond 2^53: bigint keeps every cent.
    [9_007_199_254_740_993n, '90071992547409.93'],
  ])('formats %s as %s', (minor, text) => {
    expect(formatMinor(minor)).toBe(text);
  });

  it('round-trips every amount it parses', () => {
    for (const text of ['0.01', '0.10', '12.34', '1000000000.00']) {
      expect(formatMinor(parseAmountMinor(text))).toBe(text);
    }
  });
});
